"""A Python n-gram tilt whose within-word expert reads the boundary flag of the token being
scored (val_np[p]) and adds it to the tilt."""
import numpy as np


def eval_val_tilt(logits_all, val_np, is_bnd, hint_table, base_beta=2.0, within_beta=0.5):
    nll_sum = 0.0
    for p in range(1, len(val_np)):
        logp = logits_all[p - 1] - np.logaddexp.reduce(logits_all[p - 1])
        hint = hint_table[val_np[p - 1]]
        within = is_bnd[val_np[p]]
        bonus = base_beta + within_beta * within
        tilted = logp.copy()
        tilted[hint] += bonus
        tilted -= np.logaddexp.reduce(tilted)
        nll_sum -= tilted[val_np[p]]
    return nll_sum
