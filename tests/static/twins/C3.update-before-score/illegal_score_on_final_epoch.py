"""Per-document TTT that trains several epochs on each document and scores it during the last
epoch, after the model has already trained on those tokens (#525 style)."""
import torch


def eval_val_doc_ttt(model, docs, epochs=3):
    loss_sum = torch.zeros((), dtype=torch.float64)
    for doc in docs:
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x, y = doc[:-1].unsqueeze(0), doc[1:].unsqueeze(0)
        for epoch in range(epochs):
            loss = model(x, y)
            if epoch == epochs - 1:
                with torch.no_grad():
                    loss_sum += loss.detach().double()
            loss.backward()
            opt.step()
    return loss_sum.item()


def main(model, val_tokens, split_docs):
    print(eval_val_doc_ttt(model, split_docs(val_tokens)))
