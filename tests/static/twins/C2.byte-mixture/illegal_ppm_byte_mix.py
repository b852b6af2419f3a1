"""Token probability spread over bytes and mixed with a byte-level PPM model."""
import math


class PPMByteModel:
    def __init__(self, order=4):
        self.order = order
        self.counts = {}

    def prob(self, context, byte):
        c = self.counts.get(bytes(context[-self.order :]), {})
        return (c.get(byte, 0) + 1) / (sum(c.values()) + 256)


def eval_val_ppm_mix(token_probs, token_bytes, lam=0.3):
    ppm = PPMByteModel()
    bits = 0.0
    history = bytearray()
    for p_token, piece in zip(token_probs, token_bytes):
        n_bytes = len(piece)
        p_byte = p_token ** (1.0 / n_bytes)
        for b in piece:
            bits += -math.log2((1 - lam) * p_byte + lam * ppm.prob(history, b))
            history.append(b)
    return bits


def mix_in_log_space(token_logp, n_bytes, ppm_p, lam=0.3):
    p_byte = math.exp(token_logp / n_bytes)
    return -math.log2((1 - lam) * p_byte + lam * ppm_p)
