"""Score-first TTT, then the artifact state is reloaded before a diagnostic pass; two-pass switch is not present."""
import torch


def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            s = val_tokens[i : i + seq_len + 1]
            loss_sum += model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0)).double()
    return loss_sum.item()


def eval_val_ttt(model, val_tokens, chunk=4096):
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    loss_sum = torch.zeros((), dtype=torch.float64)
    for ci in range((val_tokens.numel() - 1) // chunk):
        s = val_tokens[ci * chunk : (ci + 1) * chunk + 1]
        with torch.inference_mode():
            loss_sum += model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0)).double()
        loss = model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0))
        loss.backward()
        opt.step()
    return loss_sum.item()


def main(model, val_tokens, artifact_state):
    print(eval_val(model, val_tokens))
    print(eval_val_ttt(model, val_tokens))
    model.load_state_dict(artifact_state)
    print(eval_val(model, val_tokens))
