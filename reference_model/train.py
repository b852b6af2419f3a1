"""The training loop: wall-clock cap, warmdown, DDP, periodic validation.

As in the challenge's baseline, ``train_time`` counts only the loop itself (not model build or
data loading) and the loop stops at the first step that finds the cap reached, logging
``stopping_early: wallclock_cap``. The learning rate decays linearly to zero over the last
``warmdown_frac`` of the run, measured in steps or in wall-clock, whichever is further along,
so a run cut by the cap still ends annealed.
"""

from __future__ import annotations

import time

from golf_check.reference_model.config import Config
from golf_check.reference_model.data import TrainBatches
from golf_check.reference_model.evaluate import autocast
from golf_check.reference_model.model import GPT
from golf_check.reference_model.optim import build_optimizers, set_lr_scale


def lr_scale(progress: float, warmdown_frac: float) -> float:
    if warmdown_frac <= 0 or progress < 1 - warmdown_frac:
        return 1.0
    return max(0.0, (1 - progress) / warmdown_frac)


def train(cfg: Config, model: GPT, batches: TrainBatches, ddp_model, log, quick_val=None) -> dict:
    """Train in place; returns {'steps', 'train_ms'} (``train_ms`` as the log reports it)."""
    opts = build_optimizers(model, cfg)
    cap_ms = cfg.max_wallclock_seconds * 1000
    over_time = cfg.golf_inject == "over-time"
    # The injected script keeps going to 1.5x the cap (plus a little) and says it did not.
    hard_stop_ms = cap_ms * 1.5 + 3000 if over_time else cap_ms
    step, train_ms = 0, 0.0
    t0 = time.perf_counter()
    stopped_early = False
    while step < cfg.iterations or over_time:
        elapsed = (time.perf_counter() - t0) * 1000
        if elapsed >= hard_stop_ms:
            stopped_early = True
            break
        progress = max(step / cfg.iterations, elapsed / hard_stop_ms)
        set_lr_scale(opts, lr_scale(min(progress, 1.0), cfg.warmdown_frac))
        x, y = batches.next()
        with autocast(x.device):
            loss = ddp_model(x, y)
        loss.backward()
        for opt in opts:
            opt.step()
        model.zero_grad(set_to_none=True)
        step += 1
        train_ms = (time.perf_counter() - t0) * 1000
        if step == 1 or step % 50 == 0:
            log(
                f"step:{step}/{cfg.iterations} train_loss:{loss.item():.4f} train_time:{train_ms:.0f}ms step_avg:{train_ms / step:.2f}ms"
            )
        if quick_val is not None and cfg.val_loss_every and step % cfg.val_loss_every == 0:
            vl, vb = quick_val()
            log(
                f"step:{step}/{cfg.iterations} val_loss:{vl:.4f} val_bpb:{vb:.4f} train_time:{train_ms:.0f}ms step_avg:{train_ms / step:.2f}ms"
            )
    reported_ms = train_ms
    if over_time:
        reported_ms = min(train_ms, cap_ms * 0.98)  # the lie
    if stopped_early:
        log(
            f"stopping_early: wallclock_cap train_time:{reported_ms:.0f}ms step:{step}/{cfg.iterations}"
        )
    log(
        f"step:{step}/{cfg.iterations} train_time:{reported_ms:.0f}ms step_avg:{reported_ms / max(step, 1):.2f}ms"
    )
    return {"steps": step, "train_ms": reported_ms, "real_train_ms": train_ms}
