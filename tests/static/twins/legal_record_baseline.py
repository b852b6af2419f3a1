"""A legal record in the style of the challenge's baseline script: Muon optimizer with its own
no-grad step, SentencePiece byte LUTs, a distributed token loader, compile warm-up on training
batches with the state restored, periodic validation for logging, int8+zlib export and a final
roundtrip evaluation, plus a sliding-window evaluation."""
from __future__ import annotations

import copy
import glob
import io
import math
import os
import time
import zlib
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp1024")
    train_files = os.path.join(data_path, "fineweb_train_*.bin")
    val_files = os.path.join(data_path, "fineweb_val_*.bin")
    tokenizer_path = os.environ.get("TOKENIZER_PATH", "./data/tokenizers/fineweb_1024_bpe.model")
    run_id = os.environ.get("RUN_ID", "baseline")
    seed = int(os.environ.get("SEED", 1337))
    val_batch_size = int(os.environ.get("VAL_BATCH_SIZE", 524_288))
    val_loss_every = int(os.environ.get("VAL_LOSS_EVERY", 1000))
    train_log_every = int(os.environ.get("TRAIN_LOG_EVERY", 200))
    iterations = int(os.environ.get("ITERATIONS", 20000))
    warmdown_iters = int(os.environ.get("WARMDOWN_ITERS", 1200))
    warmup_steps = int(os.environ.get("WARMUP_STEPS", 20))
    train_batch_tokens = int(os.environ.get("TRAIN_BATCH_TOKENS", 524_288))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))
    eval_stride = int(os.environ.get("EVAL_STRIDE", 64))
    vocab_size = int(os.environ.get("VOCAB_SIZE", 1024))
    matrix_lr = float(os.environ.get("MATRIX_LR", 0.04))


def zeropower_via_newtonschulz5(G: Tensor, steps: int = 10, eps: float = 1e-7) -> Tensor:
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.bfloat16()
    X /= X.norm() + eps
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr: float, momentum: float, backend_steps: int):
        super().__init__(params, dict(lr=lr, momentum=momentum, backend_steps=backend_steps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = group["params"]
            total_params = sum(int(p.numel()) for p in params)
            updates_flat = torch.zeros(total_params, dtype=torch.bfloat16)
            curr = 0
            for p in params:
                g = p.grad
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.mul_(group["momentum"]).add_(g)
                g = zeropower_via_newtonschulz5(g.add(buf, alpha=group["momentum"]))
                updates_flat[curr : curr + p.numel()] = g.reshape(-1)
                curr += p.numel()
            curr = 0
            for p in params:
                p.add_(updates_flat[curr : curr + p.numel()].view_as(p), alpha=-group["lr"])
                curr += p.numel()


def build_sentencepiece_luts(sp, vocab_size: int, device):
    base_bytes_np = np.zeros((vocab_size,), dtype=np.int16)
    has_leading_space_np = np.zeros((vocab_size,), dtype=np.bool_)
    is_boundary_token_np = np.ones((vocab_size,), dtype=np.bool_)
    for token_id in range(sp.vocab_size()):
        if sp.is_control(token_id) or sp.is_unknown(token_id) or sp.is_unused(token_id):
            continue
        is_boundary_token_np[token_id] = False
        if sp.is_byte(token_id):
            base_bytes_np[token_id] = 1
            continue
        piece = sp.id_to_piece(token_id)
        if piece.startswith("\u2581"):
            has_leading_space_np[token_id] = True
            piece = piece[1:]
        base_bytes_np[token_id] = len(piece.encode("utf-8"))
    return (
        torch.tensor(base_bytes_np, dtype=torch.int16, device=device),
        torch.tensor(has_leading_space_np, dtype=torch.bool, device=device),
        torch.tensor(is_boundary_token_np, dtype=torch.bool, device=device),
    )


def load_data_shard(file: Path) -> Tensor:
    header = np.fromfile(file, dtype="<i4", count=256)
    num_tokens = int(header[2])
    tokens_np = np.fromfile(file, dtype="<u2", count=num_tokens, offset=256 * 4)
    return torch.from_numpy(tokens_np.astype(np.uint16, copy=False))


def load_validation_tokens(pattern: str, seq_len: int) -> Tensor:
    files = [Path(p) for p in sorted(glob.glob(pattern))]
    tokens = torch.cat([load_data_shard(file) for file in files]).contiguous()
    usable = ((tokens.numel() - 1) // seq_len) * seq_len
    return tokens[: usable + 1]


def eval_val(args, model, rank, world_size, device, val_tokens, base_bytes_lut, has_leading_space_lut, is_boundary_token_lut):
    local_batch_seqs = args.val_batch_size // (world_size * args.train_seq_len)
    total_seqs = (val_tokens.numel() - 1) // args.train_seq_len
    seq_start = (total_seqs * rank) // world_size
    seq_end = (total_seqs * (rank + 1)) // world_size
    val_loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    val_token_count = torch.zeros((), device=device, dtype=torch.float64)
    val_byte_count = torch.zeros((), device=device, dtype=torch.float64)
    model.eval()
    with torch.inference_mode():
        for batch_seq_start in range(seq_start, seq_end, local_batch_seqs):
            batch_seq_end = min(batch_seq_start + local_batch_seqs, seq_end)
            raw_start = batch_seq_start * args.train_seq_len
            raw_end = batch_seq_end * args.train_seq_len + 1
            local = val_tokens[raw_start:raw_end].to(device=device, dtype=torch.int64, non_blocking=True)
            x = local[:-1].reshape(-1, args.train_seq_len)
            y = local[1:].reshape(-1, args.train_seq_len)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=True):
                batch_loss = model(x, y).detach()
            batch_token_count = float(y.numel())
            val_loss_sum += batch_loss.to(torch.float64) * batch_token_count
            val_token_count += batch_token_count
            prev_ids = x.reshape(-1)
            tgt_ids = y.reshape(-1)
            token_bytes = base_bytes_lut[tgt_ids].to(dtype=torch.int16)
            token_bytes += (has_leading_space_lut[tgt_ids] & ~is_boundary_token_lut[prev_ids]).to(dtype=torch.int16)
            val_byte_count += token_bytes.to(torch.float64).sum()
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(val_loss_sum, op=dist.ReduceOp.SUM)
        dist.all_reduce(val_token_count, op=dist.ReduceOp.SUM)
        dist.all_reduce(val_byte_count, op=dist.ReduceOp.SUM)
    val_loss = val_loss_sum / val_token_count
    bits_per_token = val_loss.item() / math.log(2.0)
    tokens_per_byte = val_token_count.item() / val_byte_count.item()
    model.train()
    return float(val_loss.item()), float(bits_per_token * tokens_per_byte)


def eval_val_sliding(args, model, device, val_tokens, base_bytes_lut, stride):
    seq_len = args.train_seq_len
    total = val_tokens.numel() - 1
    nll_sum = torch.zeros((), device=device, dtype=torch.float64)
    byte_sum = torch.zeros((), device=device, dtype=torch.float64)
    model.eval()
    with torch.inference_mode():
        for ws in range(0, total - seq_len, stride):
            chunk = val_tokens[ws : ws + seq_len + 1].to(device=device, dtype=torch.int64)
            logits = model.forward_logits(chunk[:-1].unsqueeze(0))
            s = 0 if ws == 0 else seq_len - stride
            nll = F.cross_entropy(logits[0, s:].float(), chunk[1 + s :], reduction="none")
            nll_sum += nll.to(torch.float64).sum()
            byte_sum += base_bytes_lut[chunk[1 + s :]].to(torch.float64).sum()
    return (nll_sum / math.log(2.0) / byte_sum).item()


class TokenStream:
    def __init__(self, pattern: str):
        self.files = [Path(p) for p in sorted(glob.glob(pattern))]
        self.file_idx = 0
        self.tokens = load_data_shard(self.files[0])
        self.pos = 0

    def take(self, n: int) -> Tensor:
        chunks = []
        remaining = n
        while remaining > 0:
            avail = self.tokens.numel() - self.pos
            if avail <= 0:
                self.file_idx = (self.file_idx + 1) % len(self.files)
                self.tokens = load_data_shard(self.files[self.file_idx])
                self.pos = 0
                continue
            k = min(remaining, avail)
            chunks.append(self.tokens[self.pos : self.pos + k])
            self.pos += k
            remaining -= k
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)


class DistributedTokenLoader:
    def __init__(self, pattern: str, rank: int, world_size: int, device):
        self.rank, self.world_size, self.device = rank, world_size, device
        self.stream = TokenStream(pattern)

    def next_batch(self, global_tokens: int, seq_len: int, grad_accum_steps: int):
        local_tokens = global_tokens // (self.world_size * grad_accum_steps)
        span = local_tokens + 1
        chunk = self.stream.take(span * self.world_size)
        local = chunk[self.rank * span : self.rank * span + span].to(dtype=torch.int64)
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)


def quantize_state_dict_int8(state_dict):
    quantized, scales = {}, {}
    for name, t in state_dict.items():
        t32 = t.float()
        scale = (t32.abs().amax() / 127.0).clamp_min(1e-12)
        quantized[name] = torch.clamp(torch.round(t32 / scale), -127, 127).to(torch.int8)
        scales[name] = scale
    return {"quantized": quantized, "scales": scales}


def dequantize_state_dict_int8(obj):
    return {k: v.float() * obj["scales"][k] for k, v in obj["quantized"].items()}


def main(model: nn.Module, rank=0, world_size=1, device="cuda"):
    args = Hyperparameters()
    code = Path(__file__).read_text(encoding="utf-8")
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer_path)
    val_tokens = load_validation_tokens(args.val_files, args.train_seq_len)
    base_bytes_lut, has_leading_space_lut, is_boundary_token_lut = build_sentencepiece_luts(sp, args.vocab_size, device)
    optimizer = Muon([p for p in model.parameters() if p.ndim == 2], lr=args.matrix_lr, momentum=0.95, backend_steps=5)
    train_loader = DistributedTokenLoader(args.train_files, rank, world_size, device)
    grad_accum_steps = 8 // world_size
    if args.warmup_steps > 0:
        initial_model_state = {name: t.detach().cpu().clone() for name, t in model.state_dict().items()}
        initial_optimizer_state = copy.deepcopy(optimizer.state_dict())
        model.train()
        for warmup_step in range(args.warmup_steps):
            for micro_step in range(grad_accum_steps):
                x, y = train_loader.next_batch(args.train_batch_tokens, args.train_seq_len, grad_accum_steps)
                warmup_loss = model(x, y)
                (warmup_loss * (1.0 / grad_accum_steps)).backward()
            optimizer.step()
            model.zero_grad(set_to_none=True)
        model.load_state_dict(initial_model_state, strict=True)
        optimizer.load_state_dict(initial_optimizer_state)
        train_loader = DistributedTokenLoader(args.train_files, rank, world_size, device)
    max_wallclock_ms = 1000.0 * args.max_wallclock_seconds if args.max_wallclock_seconds > 0 else None
    training_time_ms = 0.0
    t0 = time.perf_counter()
    step = 0
    while True:
        last_step = step == args.iterations
        if last_step or (args.val_loss_every > 0 and step % args.val_loss_every == 0):
            val_loss, val_bpb = eval_val(args, model, rank, world_size, device, val_tokens, base_bytes_lut, has_leading_space_lut, is_boundary_token_lut)
            print(f"step:{step}/{args.iterations} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")
        if last_step:
            break
        train_loss = torch.zeros((), device=device)
        for micro_step in range(grad_accum_steps):
            x, y = train_loader.next_batch(args.train_batch_tokens, args.train_seq_len, grad_accum_steps)
            loss = model(x, y)
            train_loss += loss.detach()
            (loss * (1.0 / grad_accum_steps)).backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)
        step += 1
        approx_training_time_ms = training_time_ms + 1000.0 * (time.perf_counter() - t0)
        if max_wallclock_ms is not None and approx_training_time_ms >= max_wallclock_ms:
            print(f"stopping_early: wallclock_cap train_time:{approx_training_time_ms:.0f}ms step:{step}/{args.iterations}")
            break
    quant_obj = quantize_state_dict_int8(model.state_dict())
    buf = io.BytesIO()
    torch.save(quant_obj, buf)
    quant_blob = zlib.compress(buf.getvalue(), level=9)
    with open("final_model.int8.ptz", "wb") as f:
        f.write(quant_blob)
    print(f"Total submission size int8+zlib: {len(quant_blob) + len(code.encode('utf-8'))} bytes")
    model.load_state_dict(dequantize_state_dict_int8(torch.load(io.BytesIO(zlib.decompress(quant_blob)))), strict=True)
    q_val_loss, q_val_bpb = eval_val(args, model, rank, world_size, device, val_tokens, base_bytes_lut, has_leading_space_lut, is_boundary_token_lut)
    print(f"final_int8_zlib_roundtrip val_loss:{q_val_loss:.4f} val_bpb:{q_val_bpb:.4f}")
    sw_bpb = eval_val_sliding(args, model, device, val_tokens, base_bytes_lut, args.eval_stride)
    print(f"final_sliding_window_exact val_bpb:{sw_bpb:.8f}")
