"""``golf-check run``: run a candidate under audit, seed by seed, and measure what it did.

launcher (process, log, clock, timeout) · sandbox (network and mount namespaces) · shim (the
audit hooks inside the candidate) · valindex (where validation windows sit in the stream) ·
trace (reading and checking the shim's events) · measure (times, bytes, score) · ledger,
flip, canary (the white-box and statistical audits) · report (the per-seed and multi-seed
report) · command (the click command).
"""
