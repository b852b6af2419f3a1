class NgramTiltState:
    def __init__(self, beta):
        self.beta = beta

    def hint(self, tokens, p, table):
        return table[tokens[p - 1]]
