"""The model sees validation tokens only for no-grad logging inside training; its weights
are then quantized with Hessians from training batches and saved. Nothing in the artifact
is computed from validation tokens."""
import torch


def eval_val(model, val_tokens):
    with torch.inference_mode():
        return model(val_tokens[:-1], val_tokens[1:]).item()


def train_model(args, train_loader, val_tokens):
    model = torch.nn.Linear(8, 8)
    opt = torch.optim.AdamW(model.parameters())
    for step in range(args.iterations):
        x, y = train_loader.next_batch()
        model(x, y).backward()
        opt.step()
        if step % 100 == 0:
            print(f"val_loss:{eval_val(model, val_tokens):.4f}")
    return model


def collect_hessians(model, calib_batches):
    hessians = {}
    with torch.no_grad():
        for name, w in model.named_parameters():
            h = sum(x.T @ x for x in calib_batches)
            hessians[name] = h
    return hessians


def quantize_int6_per_row(t, hessian=None):
    scale = t.abs().amax(dim=1, keepdim=True) / 31
    return torch.round(t / scale).to(torch.int8), scale


def main(args, train_loader, val_tokens):
    model = train_model(args, train_loader, val_tokens)
    hessians = collect_hessians(model, [train_loader.next_batch()[0] for _ in range(16)])
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    packed = {k: quantize_int6_per_row(t, hessians.get(k)) for k, t in state.items()}
    torch.save(packed, "final_model.int6.ptz")
    torch.save(model.state_dict(), "final_model.pt")
