"""Pre-quant TTT: AdamW epochs on val_tokens, then GPTQ and serialization (PR #1376 style)."""
import io
import lzma
import os

import torch


class Hyperparameters:
    prequant_ttt_epochs = int(os.environ.get("PREQUANT_TTT_EPOCHS", 8))
    seq_len = 2048


def prequant_ttt_adapt_adamw(args, model, val_tokens):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    for epoch in range(args.prequant_ttt_epochs):
        for i in range(0, val_tokens.numel() - args.seq_len - 1, args.seq_len):
            seq = val_tokens[i : i + args.seq_len + 1]
            loss = model(seq[:-1].unsqueeze(0), seq[1:].unsqueeze(0))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)


def quantize_state_dict_int6(state):
    return {k: (v * 31).round().to(torch.int8) for k, v in state.items()}


def main(model, val_tokens):
    args = Hyperparameters()
    prequant_ttt_adapt_adamw(args, model, val_tokens)
    quant = quantize_state_dict_int6(model.state_dict())
    buf = io.BytesIO()
    torch.save(quant, buf)
    open("final_model.int6.ptz", "wb").write(lzma.compress(buf.getvalue()))
