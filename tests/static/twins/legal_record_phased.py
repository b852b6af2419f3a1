"""A legal record in the style of the phased-TTT era: per-document LoRA TTT scored chunk by chunk
through a helper accumulator, global SGD only on already-scored prefix documents, GPTQ Hessians
from training batches inside a reserved budget, SmearGate with a BOS mask, and a long main()
that reuses x/y for training batches after evaluation."""
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Hyperparameters:
    data_dir = os.environ.get("DATA_DIR", "./data/")
    train_files = os.path.join(data_dir, "fineweb_train_*.bin")
    val_files = os.path.join(data_dir, "fineweb_val_*.bin")
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))
    gptq_reserve_seconds = float(os.environ.get("GPTQ_RESERVE_SECONDS", 8.0))
    ttt_lora_rank = int(os.environ.get("TTT_LORA_RANK", 96))
    ttt_chunk_size = int(os.environ.get("TTT_CHUNK_SIZE", 64))
    phased_ttt_prefix_docs = int(os.environ.get("PHASED_TTT_PREFIX_DOCS", 2000))
    global_ttt_epochs = int(os.environ.get("GLOBAL_TTT_EPOCHS", 1))
    bos_id = 1


class ValidationData:
    def __init__(self, h, device):
        self.val_tokens = torch.zeros(1 << 16, dtype=torch.int64)
        self.base_bytes_lut = torch.ones(8192)


class BatchedTTTLoRA(nn.Module):
    def __init__(self, bsz, dim, rank):
        super().__init__()
        self.a = nn.Parameter(torch.randn(bsz, dim, rank) / math.sqrt(dim))
        self.b = nn.Parameter(torch.zeros(bsz, rank, dim))

    def reset(self):
        with torch.no_grad():
            self.b.zero_()


def smear(x, input_ids, gate, bos_id):
    not_bos = (input_ids[:, 1:] != bos_id).unsqueeze(-1).to(x.dtype)
    return torch.cat([x[:, :1], x[:, 1:] + gate * not_bos * x[:, :-1]], dim=1)


def _accumulate_bpb(per_tok_loss, y, base_bytes_lut, loss_sum, byte_sum, token_count):
    loss_sum += per_tok_loss.detach().to(torch.float64).sum()
    byte_sum += base_bytes_lut[y].to(torch.float64).sum()
    token_count += y.numel()


def _find_docs(all_tokens, bos_id):
    starts = (all_tokens == bos_id).nonzero().flatten().tolist()
    return [(s, e) for s, e in zip(starts, starts[1:] + [all_tokens.numel()])]


def train_global_sgd(model, docs, all_tokens, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    for _ in range(epochs):
        for s, e in docs:
            toks = all_tokens[s:e]
            loss = model(toks[:-1].unsqueeze(0), toks[1:].unsqueeze(0))
            opt.zero_grad()
            loss.backward()
            opt.step()


def eval_val_ttt_phased(h, base_model, device, val_data, forward_ttt_train):
    all_tokens = val_data.val_tokens
    docs = _find_docs(all_tokens, h.bos_id)
    loss_sum = torch.zeros((), dtype=torch.float64)
    byte_sum = torch.zeros((), dtype=torch.float64)
    token_count = torch.zeros((), dtype=torch.float64)
    scored_docs = []
    cur_lora = BatchedTTTLoRA(1, 512, h.ttt_lora_rank)
    for di, (s, e) in enumerate(docs):
        cur_lora.reset()
        cur_opt = torch.optim.AdamW(cur_lora.parameters(), lr=1e-4)
        doc = all_tokens[s:e]
        num_chunks = (doc.numel() - 1 + h.ttt_chunk_size - 1) // h.ttt_chunk_size
        for ci in range(num_chunks):
            x = doc[ci * h.ttt_chunk_size : (ci + 1) * h.ttt_chunk_size].unsqueeze(0)
            y = doc[ci * h.ttt_chunk_size + 1 : (ci + 1) * h.ttt_chunk_size + 1].unsqueeze(0)
            per_tok_loss = forward_ttt_train(x, y, lora=cur_lora)
            with torch.no_grad():
                _accumulate_bpb(per_tok_loss, y, val_data.base_bytes_lut, loss_sum, byte_sum, token_count)
            if ci < num_chunks - 1:
                cur_opt.zero_grad(set_to_none=True)
                per_tok_loss.mean().backward()
                cur_opt.step()
        scored_docs.append((s, e))
        if di + 1 == h.phased_ttt_prefix_docs:
            train_global_sgd(base_model, scored_docs, all_tokens, h.global_ttt_epochs)
    return (loss_sum / math.log(2.0) / byte_sum).item()


def collect_hessians(model, train_loader, n_batches):
    hessians = {}
    with torch.no_grad():
        for _ in range(n_batches):
            x, _y = train_loader.next_batch(2048, 2048)
            h = model.embed(x).flatten(0, 1)
            hessians["embed"] = hessians.get("embed", 0) + h.T @ h
    return hessians


def gptq_mixed_quantize(model, hessians):
    return {k: v.to(torch.int8) for k, v in model.state_dict().items()}


def main(base_model, train_loader, device, forward_ttt_train):
    h = Hyperparameters()
    val_data = ValidationData(h, device)
    x = val_data.val_tokens[:2048].unsqueeze(0)
    y = val_data.val_tokens[1:2049].unsqueeze(0)
    with torch.inference_mode():
        print(f"pre-train diagnostic val_loss:{base_model(x, y).item():.4f}")
    optimizer = torch.optim.AdamW(base_model.parameters(), lr=3e-4)
    budget_ms = 1000.0 * (h.max_wallclock_seconds - h.gptq_reserve_seconds)
    t0 = time.perf_counter()
    step = 0
    while 1000.0 * (time.perf_counter() - t0) < budget_ms:
        x, y = train_loader.next_batch(786432, 2048)
        loss = base_model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
    print(f"stopping_early: wallclock_cap step: {step}")
    hessians = collect_hessians(base_model, train_loader, 64)
    quantized = gptq_mixed_quantize(base_model, hessians)
    torch.save(quantized, "final_model.ptz")
    print("beginning TTT eval timer")
    bpb = eval_val_ttt_phased(h, base_model, device, val_data, forward_ttt_train)
    print(f"quantized_ttt_phased val_bpb:{bpb:.8f}")
