"""Names, strings and call names the static checker reads as validation data, targets,
scores and training data: the vocabulary every detector shares."""

from __future__ import annotations

import ast
import re
from functools import lru_cache


def _fragments(*fragments: str) -> re.Pattern[str]:
    """A name vocabulary given as fragments: a name matches if it holds any of them, in any
    case (``val_loss_sum`` holds ``loss``)."""
    return re.compile("|".join(fragments), re.IGNORECASE)


# Names that hold validation tokens or point at the validation split.
VAL_NAME = re.compile(
    r"^_*(val|valid|validation|eval)_?(tokens?|toks|data|np|ids|stream|seq|seqs|set|files|"
    r"pattern|shards?|buf|buffer|arr|array|tensor|targets|inputs|docs)\b|^_*val_(x|y)$",
    re.IGNORECASE,
)


VAL_STRING = re.compile(r"fineweb_val_|_val_\*|val_\d{6}|/val/")


TRAIN_STRING = re.compile(r"fineweb_train_|_train_\*")


TRAIN_NAME = re.compile(
    r"^_*(train)_?(tokens?|toks|data|np|files|pattern|shards?|loader|stream)\b", re.IGNORECASE
)


# Names that hold the realized next token (the one being scored).
TARGET_NAME = re.compile(
    r"^(y|ys|yb|y_true|y_batch|gold|next_toks?|next_tokens?)$|(^|_)(tgt|tgts|target|targets|"
    r"labels?|gold)(_|$)",
    re.IGNORECASE,
)


# Accumulators a scoring loop adds into.
SCORE_ACCUMULATOR = _fragments(
    "loss", "nll", "bits", "byte", "bpb", "token", "tok_", "tokens", "score", "count", r"\bce"
)


# Per-token score buffers written by index or appended to (narrower: byte LUTs are built so).
SCORE_BUFFER = _fragments("nll", "loss", "bits", "score")


# Totals that only ever hold committed scores, whatever the gradient context.
_SCORE_TOTAL = re.compile(
    r"^(?!.*train)(_?(val_)?(loss|nll|bits|byte|bytes)_?(sum|total)|"
    r"total_?(loss|nll|bits|bytes)|(val_)?(token|byte)_?count)$",
    re.IGNORECASE,
)


# Names of count tables (n-gram caches, histograms): what a count-ratio score reads.
COUNT_TABLE = _fragments("table", "count", "cnt", "freq", "hist")


SCORING_FUNC = _fragments("eval", "score", "bpb", "evaluate")


QUANT_OR_SAVE = re.compile(
    r"quantiz|gptq|serializ|compress|torch\.save|save_artifact|save_model|pack_|export", re.I
)


# Optimizer internals accumulate under no_grad too; they never commit a score.
_NOT_SCORING = {"step", "zero_grad", "backward", "__init__"}


_ACCUMULATE_METHODS = {"add_", "index_add_", "scatter_add_", "append", "extend"}


_SCALARS = {"item", "float", "int", "len", "mean", "sum", "str", "format", "tolist", "numel"}


_NO_TAINT_CALLS = {"len", "numel", "size", "dim", "range", "print", "log0", "isinstance", "type"}


_NO_TAINT_ATTRS = {"shape", "dtype", "device", "ndim"}


@lru_cache(maxsize=8192)
def _names_val_split(text: str) -> bool:
    """Whether a string constant names the validation split (a path or shard pattern)."""
    return bool(VAL_STRING.search(text))


@lru_cache(maxsize=8192)
def _name_flags(name: str) -> tuple[bool, bool]:
    """Whether a variable name says validation data, and whether it says target tokens."""
    return bool(VAL_NAME.search(name)), bool(TARGET_NAME.search(name))


def callee_name(call: ast.Call) -> str:
    """The simple name of what a call calls (``self.opt.step`` -> ``step``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""
