"""Hyperparameters: one dataclass, three presets, overridable by environment or flags.

Like a challenge script, every field can be set by an environment variable of the same name
in capitals (``SEED=42``, ``MAX_WALLCLOCK_SECONDS=60``) or by a flag (``--seed 42``); flags
win over the environment, which wins over the preset.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields, replace

from golf_check.harness.errors import InputError


@dataclass(frozen=True)
class Config:
    # run
    preset: str = "tiny"
    run_id: str = ""
    seed: int = 1337
    data_path: str = ""  # folder with fineweb_{train,val}_*.bin; empty = the demo data
    tokenizer_path: str = ""
    artifact_name: str = "final_model.int8.ptz"
    golf_inject: str = ""  # one fault injection, see inject.py
    eval_only: bool = False
    load_artifact: str = ""
    val_token_limit: int = 0  # evaluate only the first N validation tokens (0 = all)
    # One thread: on a shared 2-core machine, two spinning threads per process lose 4x to
    # contention; the tiny model's matrices are too small to gain much from a second one.
    cpu_threads: int = 1
    # model
    vocab_size: int = 1024
    num_layers: int = 4
    model_dim: int = 128
    num_heads: int = 4
    num_kv_heads: int = 2
    mlp_mult: int = 2
    logit_softcap: float = 30.0
    rope_base: float = 10000.0
    # training
    iterations: int = 100_000
    max_wallclock_seconds: float = 60.0
    warmdown_frac: float = 0.3  # final fraction of the wall-clock (or iterations) decaying to 0
    train_seq_len: int = 128
    train_batch_tokens: int = 4096  # global, across ranks
    matrix_lr: float = 0.03  # Muon
    scalar_lr: float = 0.02  # Adam, for gains and other vectors
    embed_lr: float = 0.05  # Adam, for the tied embedding
    muon_momentum: float = 0.95
    weight_decay: float = 0.0
    val_loss_every: int = 0  # periodic validation during training (0 = only at the end)
    # artifact
    matrix_bits: int = 6  # block matrices: int6 per row, packed 4 values in 3 bytes
    embed_bits: int = 8  # the tied embedding is sensitive: int8 per row
    calib_tokens: int = 8192  # training tokens for choosing per-row clipping
    zstd_level: int = 19
    # evaluation
    eval_seq_len: int = 128
    eval_stride: int = 64
    eval_batch: int = 32  # windows per forward
    ttt_chunk_tokens: int = 2048
    ttt_epochs: int = 2
    ttt_lr: float = 0.01
    ttt_momentum: float = 0.9
    ttt_batch: int = 8  # rows of eval_seq_len tokens per TTT step
    hedge_eta: float = 0.5
    hedge_buckets: int = 65536
    hedge_prior: float = 2.0  # pseudo-counts of the back-off distribution in the n-gram experts


PRESETS: dict[str, dict] = {
    # Seconds on CPU: for tests.
    "micro": dict(
        num_layers=2,
        model_dim=64,
        num_heads=4,
        num_kv_heads=2,
        mlp_mult=2,
        iterations=30,
        max_wallclock_seconds=30.0,
        train_seq_len=128,
        train_batch_tokens=2048,
        eval_seq_len=128,
        eval_stride=64,
        ttt_chunk_tokens=1024,
        ttt_epochs=1,
        calib_tokens=2048,
        val_token_limit=4096,
        hedge_buckets=4096,
        zstd_level=3,
    ),
    # About one minute of training on 2 CPU cores; the demo run of `golf-check run`.
    "tiny": dict(),
    # The challenge's configuration: 8xH100, 600 s, 16 MB class.
    "golf": dict(
        num_layers=10,
        model_dim=512,
        num_heads=8,
        num_kv_heads=4,
        mlp_mult=2,
        iterations=20_000,
        max_wallclock_seconds=600.0,
        warmdown_frac=0.25,
        train_seq_len=1024,
        train_batch_tokens=524_288,
        matrix_lr=0.04,
        scalar_lr=0.04,
        embed_lr=0.05,
        calib_tokens=262_144,
        zstd_level=22,
        eval_seq_len=1024,
        eval_stride=64,
        eval_batch=64,
        ttt_chunk_tokens=32_768,
        ttt_epochs=3,
        ttt_lr=0.002,
        hedge_buckets=65536,
    ),
}

_FIELDS = {f.name: f for f in fields(Config)}


def _parse(name: str, text: str):
    kind = type(getattr(Config(), name))
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise InputError(f"{name.upper()}: cannot read {text!r} as {kind.__name__}") from None


def load_config(argv: list[str] | None = None, environ: dict | None = None) -> Config:
    """Preset, then environment variables, then flags."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m golf_check.reference_model", description=__doc__
    )
    for name in _FIELDS:
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, default=None, help=f"(env {name.upper()})")
    parser.add_argument("--inject", dest="golf_inject", default=None, help="alias of --golf-inject")
    args = vars(parser.parse_args(argv))
    overrides: dict = {}
    for name in _FIELDS:
        if args.get(name) is not None:
            overrides[name] = _parse(name, args[name])
        elif environ.get(name.upper()) not in (None, ""):
            overrides[name] = _parse(name, environ[name.upper()])
    preset = overrides.get("preset", Config.preset)
    if preset not in PRESETS:
        raise InputError(f"PRESET: unknown preset {preset!r} (choose {', '.join(PRESETS)})")
    cfg = replace(Config(), **PRESETS[preset])
    cfg = replace(cfg, **overrides)
    if not cfg.run_id:
        cfg = replace(cfg, run_id=f"{cfg.preset}_seed{cfg.seed}")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    if cfg.model_dim % cfg.num_heads or cfg.num_heads % cfg.num_kv_heads:
        raise InputError("MODEL_DIM must divide by NUM_HEADS, and NUM_HEADS by NUM_KV_HEADS")
    if (cfg.model_dim // cfg.num_heads) % 2:
        raise InputError("the head dimension must be even (RoPE rotates pairs)")
    if cfg.eval_stride < 1 or cfg.eval_stride > cfg.eval_seq_len:
        raise InputError("EVAL_STRIDE must be between 1 and EVAL_SEQ_LEN")
    if cfg.matrix_bits not in (6, 8) or cfg.embed_bits not in (6, 8):
        raise InputError("MATRIX_BITS and EMBED_BITS must be 6 or 8")
    if cfg.eval_only and not cfg.load_artifact:
        raise InputError("EVAL_ONLY=1 needs LOAD_ARTIFACT=<path of a .ptz artifact>")
    if cfg.ttt_chunk_tokens < 1 or cfg.train_seq_len < 2:
        raise InputError("TTT_CHUNK_TOKENS and TRAIN_SEQ_LEN must be positive")


def hyperparameter_lines(cfg: Config) -> list[str]:
    """The ``key: value`` dump at the top of the log (what verify diffs across seeds)."""
    return [f"{f.name}: {getattr(cfg, f.name)}" for f in fields(cfg)]
