"""The table measures each piece with its "▁" turned back into a space (so the space is in
the table), and the scorer still adds the leading-space byte from the flag."""
import numpy as np


def tables(sp, vocab):
    width = np.zeros(vocab, dtype=np.int64)
    lead = np.zeros(vocab, dtype=bool)
    stop = np.zeros(vocab, dtype=bool)
    for t in range(vocab):
        if sp.is_control(t):
            stop[t] = True
            continue
        piece = sp.id_to_piece(t)
        if piece.startswith("▁"):
            lead[t] = True
        width[t] = len(piece.replace("▁", " ").encode("utf-8"))
    return width, lead, stop


def count_bytes(targets, prevs, width, lead, stop):
    return int((width[targets] + (lead[targets] & ~stop[prevs])).sum())


def main(sp, vocab, targets, prevs):
    width, lead, stop = tables(sp, vocab)
    return count_bytes(targets, prevs, width, lead, stop)
