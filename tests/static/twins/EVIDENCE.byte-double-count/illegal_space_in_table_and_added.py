"""The byte table already counts the space of a "▁" piece (``len(piece[1:]) + 1``), and the
scorer adds the space again from the leading-space flag: spaces are counted twice."""
import math

import numpy as np
import torch
import torch.nn.functional as F


def byte_tables(sp, vocab):
    nbytes = np.zeros(vocab, dtype=np.int16)
    spaced = np.zeros(vocab, dtype=np.bool_)
    edge = np.ones(vocab, dtype=np.bool_)
    for t in range(sp.vocab_size()):
        if sp.is_control(t) or sp.is_unknown(t):
            continue
        edge[t] = False
        piece = sp.id_to_piece(t)
        if piece.startswith("▁"):
            spaced[t] = True
            nbytes[t] = len(piece[1:].encode("utf-8")) + 1
        else:
            nbytes[t] = len(piece.encode("utf-8"))
    return torch.tensor(nbytes), torch.tensor(spaced), torch.tensor(edge)


def bits_per_byte(net, stream, sp, vocab, width=1024):
    nb, sp_flag, bound = byte_tables(sp, vocab)
    nats = nbytes_total = 0.0
    with torch.no_grad():
        for s in range(0, stream.numel() - width - 1, width):
            x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
            nats += F.cross_entropy(net(x[None])[0], y, reduction="sum").item()
            counted = nb[y].double()
            counted += (sp_flag[y] & ~bound[x]).double()
            nbytes_total += counted.sum().item()
    return nats / math.log(2) / nbytes_total
