"""Phased TTT written as three straight passes: score the prefix documents, train on them (they
are scored), then score the suffix documents. Legal, but golf-check cannot prove the two scoring
passes cover different tokens, so it warns."""
import torch


@torch.no_grad()
def score_docs(model, docs):
    loss_sum = torch.zeros((), dtype=torch.float64)
    for doc in docs:
        loss_sum += model(doc[:-1].unsqueeze(0), doc[1:].unsqueeze(0)).double()
    return loss_sum


def eval_val_phased(model, val_docs, prefix_docs=2000):
    prefix, suffix = val_docs[:prefix_docs], val_docs[prefix_docs:]
    total = score_docs(model, prefix)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for doc in prefix:
        loss = model(doc[:-1].unsqueeze(0), doc[1:].unsqueeze(0))
        loss.backward()
        opt.step()
        opt.zero_grad()
    total += score_docs(model, suffix)
    return total.item()
