"""GPTQ Hessians collected on training batches inside the reserved budget."""
import torch


def collect_hessians(model, calib_tokens, seq_len=2048):
    hessians = {}
    with torch.no_grad():
        for i in range(0, calib_tokens.numel() - seq_len, seq_len):
            h = model.embed(calib_tokens[i : i + seq_len].unsqueeze(0))[0]
            hessians["embed"] = hessians.get("embed", 0) + h.T @ h
    return hessians


def main(model, train_loader, val_tokens):
    train_tokens = train_loader.stream.take(64 * 2048)
    return collect_hessians(model, train_tokens)


def eval_quantized(model, val_tokens):
    with torch.inference_mode():
        return model(val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)).item()


def report(model, val_tokens, quantized_model):
    print(f"diagnostic quantized val_loss:{eval_quantized(quantized_model, val_tokens):.4f}")
