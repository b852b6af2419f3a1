"""N-gram tilt with only the token expert (hint from tokens[p-1]); no within/word switches at all."""
import os

BASE_BETA = float(os.environ.get("BASE_BETA", "2.0"))


def hint_for(tokens, p, table):
    return table[tokens[p - 1]]
