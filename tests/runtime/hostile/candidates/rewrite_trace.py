"""Adapts on the validation tokens before scoring them (CANDIDATE_MODE=train-before-score),
then empties every trace file it can find in the harness's folder."""

import glob

from _base import attempt, tiny_lm


def empty_traces():
    paths = glob.glob("../trace*") + glob.glob("../audit/trace/*")
    for path in paths or ["../trace.jsonl"]:
        open(path, "w").close()


tiny_lm.main()
attempt("empty the trace", empty_traces)
