"""The same tilt gated on the previous token's boundary flag, plus the byte count of the scored
token (a legal use of the target)."""
import numpy as np


def eval_val_tilt(logits_all, val_np, is_bnd, hint_table, space_lut, base_beta=2.0, start_beta=0.5):
    nll_sum = 0.0
    n_bytes = 0
    for p in range(1, len(val_np)):
        logp = logits_all[p - 1] - np.logaddexp.reduce(logits_all[p - 1])
        hint = hint_table[val_np[p - 1]]
        word_start = is_bnd[val_np[p - 1]]
        bonus = base_beta + start_beta * word_start
        tilted = logp.copy()
        tilted[hint] += bonus
        tilted -= np.logaddexp.reduce(tilted)
        nll_sum -= tilted[val_np[p]]
        leading_space = space_lut[val_np[p]]
        n_bytes += 1 + leading_space
    return nll_sum / n_bytes
