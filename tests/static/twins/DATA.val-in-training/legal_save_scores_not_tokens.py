"""Saves the model and writes validation *scores* to a log; no validation tokens are stored."""
import io
import json
import lzma

import torch


@torch.no_grad()
def eval_val(model, val_tokens):
    loss_sum = 0.0
    loss_sum += model(val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)).item()
    return loss_sum


def export(model, val_tokens, log_path):
    val_loss = eval_val(model, val_tokens)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    blob = lzma.compress(buf.getvalue())
    with open(log_path, "w") as f:
        f.write(json.dumps({"val_loss": val_loss, "val_tokens": int(val_tokens.numel())}))
        f.write(f"val_loss:{val_loss:.4f}\n")
    return blob
