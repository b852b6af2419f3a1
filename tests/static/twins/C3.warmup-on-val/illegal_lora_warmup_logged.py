"""Phased-TTT style compile warm-up inside main(): a logged warm-up block that steps a LoRA on
real validation tokens before the TTT evaluation scores them."""
import time

import torch


def eval_val_ttt(model, val_tokens, lora, opt):
    loss_sum = torch.zeros((), dtype=torch.float64)
    for ci in range(0, val_tokens.numel() - 65, 64):
        x, y = val_tokens[ci : ci + 64].unsqueeze(0), val_tokens[ci + 1 : ci + 65].unsqueeze(0)
        ptl = model(x, y, lora=lora)
        with torch.no_grad():
            loss_sum += ptl.detach().sum().double()
        ptl.mean().backward()
        opt.step()
    return loss_sum.item()


def main(model, val_tokens, make_lora):
    print("ttt_lora:warming up compile")
    t_warm = time.perf_counter()
    for bsz in (1, 16, 64):
        lora = make_lora(bsz)
        opt = torch.optim.AdamW(lora.parameters(), lr=1e-4)
        x = val_tokens[: bsz * 64].reshape(bsz, 64)
        y = val_tokens[1 : bsz * 64 + 1].reshape(bsz, 64)
        loss = model(x, y, lora=lora)
        loss.mean().backward()
        opt.step()
    print(f"ttt_lora:compile warmup done ({time.perf_counter() - t_warm:.1f}s)")
    lora = make_lora(64)
    print(eval_val_ttt(model, val_tokens, lora, torch.optim.AdamW(lora.parameters(), lr=1e-4)))
