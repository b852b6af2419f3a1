"""Everything lives in this file; only installed libraries are imported."""
import numpy as np
import torch


class NgramTiltState:
    def __init__(self, beta):
        self.beta = beta

    def hint(self, tokens, p, table):
        return table[tokens[p - 1]]


def log_code():
    code = open(__file__).read()
    return len(code), np.zeros(1), torch.zeros(1)
