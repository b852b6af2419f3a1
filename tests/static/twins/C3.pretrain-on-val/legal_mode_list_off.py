"""Multi-epoch TTT over the validation set before sliding scoring, picked from a mode list that
defaults to "legal": off by default, so a warning naming the switch, not a failure."""
import math
import os

import torch
import torch.nn.functional as F


class Hyperparameters:
    ttt_epochs = int(os.environ.get("TTT_EPOCHS", 30))
    ttt_lr = float(os.environ.get("TTT_LR", 0.0005))
    seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))


MODES = set(os.environ.get("EVAL_MODES", "legal").split(","))


def ttt_adapt(args, model, val_tokens):
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.ttt_lr)
    model.train()
    for epoch in range(args.ttt_epochs):
        for start in range(0, val_tokens.numel() - args.seq_len - 1, args.seq_len):
            chunk = val_tokens[start : start + args.seq_len + 1]
            x, y = chunk[:-1].unsqueeze(0), chunk[1:].unsqueeze(0)
            loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def eval_val_sliding(args, model, val_tokens, stride=64):
    loss_sum = torch.zeros((), dtype=torch.float64)
    token_count = 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, val_tokens.numel() - args.seq_len - 1, stride):
            chunk = val_tokens[start : start + args.seq_len + 1]
            logits = model.forward_logits(chunk[:-1].unsqueeze(0))
            nll = F.cross_entropy(logits[0, -stride:].float(), chunk[-stride:], reduction="sum")
            loss_sum += nll.to(torch.float64)
            token_count += stride
    return (loss_sum / token_count).item() / math.log(2.0)


def main(model, val_tokens):
    args = Hyperparameters()
    if "ttt-all" in MODES:
        ttt_adapt(args, model, val_tokens)
    val_bpb = eval_val_sliding(args, model, val_tokens)
    print(f"final_sliding_window val_bpb:{val_bpb:.4f}")
