"""Per-document TTT whose forward pass keeps gradients: the chunk's loss is added to the score
total first (no detach, no no_grad), then the same forward's loss is back-propagated."""
import torch


def eval_val_lora_ttt(model, val_docs, make_lora, chunk=256):
    loss_sum = torch.zeros((), dtype=torch.float64)
    token_count = 0
    for doc in val_docs:
        lora = make_lora()
        opt = torch.optim.Adam(lora.parameters(), lr=1e-3)
        for ci in range(0, doc.numel() - 1, chunk):
            x = doc[ci : ci + chunk].unsqueeze(0)
            y = doc[ci + 1 : ci + chunk + 1].unsqueeze(0)
            per_tok = model(x, y, lora=lora)
            loss_sum += per_tok.sum().double()
            token_count += y.numel()
            opt.zero_grad()
            per_tok.mean().backward()
            opt.step()
    return (loss_sum / token_count).item()


@torch.no_grad()
def eval_val(model, val_docs):
    loss_sum = 0.0
    for doc in val_docs:
        loss_sum += model(doc[:-1].unsqueeze(0), doc[1:].unsqueeze(0)).sum().item()
    return loss_sum


def main(model, val_docs, make_lora):
    print(f"diagnostic val_loss:{eval_val(model, val_docs):.4f}")
    print(eval_val_lora_ttt(model, val_docs, make_lora))
