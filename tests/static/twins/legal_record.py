"""A legal record-style training script: score-first TTT, GPTQ on train data with a reserve,
BigramHash, AR self-generated calibration, periodic logging eval, normalized n-gram tilt."""
import glob
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp8192")
    train_files = os.path.join(data_path, "fineweb_train_*.bin")
    val_files = os.path.join(data_path, "fineweb_val_*.bin")
    seed = int(os.environ.get("SEED", 1337))
    iterations = int(os.environ.get("ITERATIONS", 20000))
    warmup_steps = int(os.environ.get("WARMUP_STEPS", 20))
    val_loss_every = int(os.environ.get("VAL_LOSS_EVERY", 4000))
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))
    gptq_reserve_seconds = float(os.environ.get("GPTQ_RESERVE_SECONDS", 8.0))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 2048))
    vocab_size = int(os.environ.get("VOCAB_SIZE", 8192))
    ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "1")))
    ttt_epochs = int(os.environ.get("TTT_EPOCHS", 3))
    ttt_lr = float(os.environ.get("TTT_LR", 0.005))
    ttt_chunk_tokens = int(os.environ.get("TTT_CHUNK_TOKENS", 32768))
    tilt_beta = float(os.environ.get("TILT_BETA", 2.0))


def log0(msg):
    print(msg, flush=True)


def load_data_shard(file):
    header = np.fromfile(file, dtype="<i4", count=256)
    tokens = np.fromfile(file, dtype="<u2", count=int(header[2]), offset=256 * 4)
    return torch.from_numpy(tokens.astype(np.int64))


def load_validation_tokens(pattern, seq_len):
    files = sorted(glob.glob(pattern))
    tokens = torch.cat([load_data_shard(Path(f)) for f in files])
    usable = ((tokens.numel() - 1) // seq_len) * seq_len
    return tokens[: usable + 1]


class TokenStream:
    def __init__(self, pattern):
        self.files = sorted(glob.glob(pattern))
        self.tokens = load_data_shard(self.files[0])
        self.pos = 0

    def take(self, n):
        chunk = self.tokens[self.pos : self.pos + n]
        self.pos += n
        return chunk


class DistributedTokenLoader:
    def __init__(self, pattern, device):
        self.stream = TokenStream(pattern)
        self.device = device

    def next_batch(self, batch_tokens, seq_len):
        local = self.stream.take(batch_tokens + 1).to(self.device)
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        return x, y


class BigramHashEmbedding(nn.Module):
    def __init__(self, buckets, dim):
        super().__init__()
        self.buckets = buckets
        self.embed = nn.Embedding(buckets, dim)

    def forward(self, input_ids):
        prev = F.pad(input_ids[:, :-1], (1, 0))
        key = ((input_ids * 36313) ^ (prev * 27191)) % self.buckets
        return self.embed(key)


class GPT(nn.Module):
    def __init__(self, vocab_size, dim=512):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.bigram = BigramHashEmbedding(4096, dim)
        self.head = nn.Linear(dim, vocab_size, bias=False)

    def forward_logits(self, input_ids):
        h = self.tok(input_ids) + self.bigram(input_ids)
        return self.head(h)

    def forward(self, input_ids, target_ids):
        logits = self.forward_logits(input_ids)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), target_ids.reshape(-1))


def tilt_logprobs(logits, hint, beta):
    # Token-only tilt with closed-form renormalization: p'(a) = p(a) exp(beta [a = h]) / Z.
    logp = torch.log_softmax(logits.float(), dim=-1)
    bonus = torch.zeros_like(logp)
    bonus.scatter_(-1, hint.unsqueeze(-1), beta)
    return torch.log_softmax(logp + bonus, dim=-1)


def ngram_hint(tokens, p, table):
    # The hint reads only the previous token (prefix), never tokens[p].
    return table[tokens[p - 1]]


def eval_val(args, model, val_tokens, base_bytes_lut):
    seq_len = args.train_seq_len
    loss_sum = torch.zeros((), dtype=torch.float64)
    byte_count = torch.zeros((), dtype=torch.float64)
    token_count = torch.zeros((), dtype=torch.float64)
    model.eval()
    with torch.inference_mode():
        for start in range(0, val_tokens.numel() - 1 - seq_len, seq_len):
            local = val_tokens[start : start + seq_len + 1]
            x = local[:-1].unsqueeze(0)
            y = local[1:].unsqueeze(0)
            batch_loss = model(x, y).detach()
            loss_sum += batch_loss.to(torch.float64) * y.numel()
            token_count += y.numel()
            byte_count += base_bytes_lut[y].sum()
    model.train()
    val_loss = (loss_sum / token_count).item()
    return val_loss, val_loss / math.log(2.0) * (token_count / byte_count).item()


def eval_val_sliding_ttt(args, model, val_tokens, base_bytes_lut, hint_table):
    """Score-first TTT: score chunk ci under inference_mode, then train on it."""
    chunk = args.ttt_chunk_tokens
    num_chunks = (val_tokens.numel() - 1) // chunk
    optimizer = torch.optim.SGD(model.parameters(), lr=args.ttt_lr, momentum=0.9)
    loss_sum = torch.zeros((), dtype=torch.float64)
    byte_count = torch.zeros((), dtype=torch.float64)
    for ci in range(num_chunks):
        local = val_tokens[ci * chunk : (ci + 1) * chunk + 1]
        x = local[:-1].unsqueeze(0)
        y = local[1:].unsqueeze(0)
        model.eval()
        with torch.inference_mode():
            hint = ngram_hint(local, torch.arange(1, chunk + 1), hint_table)
            logp = tilt_logprobs(model.forward_logits(x), hint, args.tilt_beta)
            nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
            loss_sum += nll.sum().to(torch.float64)
            byte_count += base_bytes_lut[y].sum()
        is_last_chunk = ci == num_chunks - 1
        if not is_last_chunk and args.ttt_epochs > 0:
            model.train()
            for _ep in range(args.ttt_epochs):
                optimizer.zero_grad(set_to_none=True)
                loss = model(x, y)
                loss.backward()
                optimizer.step()
    return (loss_sum / math.log(2.0) / byte_count).item()


def eval_val_doc_lora(args, model, docs, base_bytes_lut):
    """Per-document LoRA TTT with a reset between documents, score-first per chunk."""
    loss_sum = torch.zeros((), dtype=torch.float64)
    byte_count = torch.zeros((), dtype=torch.float64)
    for doc in docs:
        lora = nn.Linear(512, 512, bias=False)
        nn.init.zeros_(lora.weight)
        opt = torch.optim.Adam(lora.parameters(), lr=1e-3)
        for ci in range(0, doc.numel() - 1, 256):
            x = doc[ci : ci + 256].unsqueeze(0)
            y = doc[ci + 1 : ci + 257].unsqueeze(0)
            ptl = model(x, y)
            with torch.no_grad():
                loss_sum += ptl.detach().to(torch.float64) * y.numel()
                byte_count += base_bytes_lut[y].sum()
            opt.zero_grad()
            ptl.backward()
            opt.step()
    return (loss_sum / math.log(2.0) / byte_count).item()


def generate_calibration(model, n_seqs, seq_len, temperature=0.8):
    """AR self-generated calibration data: no training or validation tokens involved."""
    seqs = torch.randint(0, 8192, (n_seqs, 1))
    with torch.no_grad():
        for _ in range(seq_len - 1):
            probs = torch.softmax(model.forward_logits(seqs)[:, -1] / temperature, dim=-1)
            seqs = torch.cat([seqs, torch.multinomial(probs, 1)], dim=1)
    return seqs


def collect_hessians(model, calib_batches):
    hessians = {}
    with torch.no_grad():
        for x in calib_batches:
            h = model.tok(x)
            hessians["tok"] = hessians.get("tok", 0) + h.flatten(0, 1).T @ h.flatten(0, 1)
    return hessians


def quantize_gptq(model, hessians):
    return {k: v.to(torch.int8) for k, v in model.state_dict().items()}


def main():
    args = Hyperparameters()
    device = torch.device("cpu")
    torch.manual_seed(args.seed)
    val_tokens = load_validation_tokens(args.val_files, args.train_seq_len)
    base_bytes_lut = torch.ones(args.vocab_size)
    model = GPT(args.vocab_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    train_loader = DistributedTokenLoader(args.train_files, device)
    max_wallclock_ms = 1000.0 * (args.max_wallclock_seconds - args.gptq_reserve_seconds)
    log0(f"gptq:reserving {args.gptq_reserve_seconds}s, effective={max_wallclock_ms:.0f}ms")
    for warmup_step in range(args.warmup_steps):
        x, y = train_loader.next_batch(8 * args.train_seq_len, args.train_seq_len)
        model(x, y).backward()
        optimizer.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    for step in range(args.iterations):
        if args.val_loss_every > 0 and step % args.val_loss_every == 0:
            val_loss, val_bpb = eval_val(args, model, val_tokens, base_bytes_lut)
            log0(f"step:{step} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")
        x, y = train_loader.next_batch(8 * args.train_seq_len, args.train_seq_len)
        loss = model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if 1000.0 * (time.perf_counter() - t0) >= max_wallclock_ms:
            log0(f"stopping_early: wallclock_cap step:{step}")
            break
    calib = [train_loader.next_batch(2048, 2048)[0] for _ in range(16)]
    calib += list(generate_calibration(model, 4, 64))
    hessians = collect_hessians(model, calib)
    quantized = quantize_gptq(model, hessians)
    torch.save(quantized, "final_model.int8.ptz")
    model.load_state_dict({k: v.float() for k, v in quantized.items()})
    val_loss, val_bpb = eval_val(args, model, val_tokens, base_bytes_lut)
    log0(f"final_int8_zlib_roundtrip val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")
    if args.ttt_enabled:
        ttt_bpb = eval_val_sliding_ttt(args, model, val_tokens, base_bytes_lut, torch.zeros(8192, dtype=torch.long))
        log0(f"legal_ttt_exact val_bpb:{ttt_bpb:.8f}")


if __name__ == "__main__":
    main()
