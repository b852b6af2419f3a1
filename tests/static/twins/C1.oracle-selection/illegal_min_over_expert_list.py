"""Token by token, the losses of several predictors at the realized token are collected in a
list and the smallest is scored: ``min(options)`` picks the predictor after seeing the token."""
import math


def evaluate(lm, caches, val_tokens):
    total = 0.0
    for t in range(2, len(val_tokens)):
        ctx, tok = (val_tokens[t - 2], val_tokens[t - 1]), val_tokens[t]
        options = [-math.log(lm.prob(ctx, tok))]
        for c in caches:
            options.append(-math.log(c.prob(ctx, tok)))
        total += min(options)
    return total
