"""C2, n-gram caches: an eval-time cache hashed into more buckets than the vocabulary has
tokens must still score with a distribution normalized over the vocabulary (issue #1017 C2;
PR #886)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from golf_check.harness.evidence.model import EvidenceSet
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.vocabulary import COUNT_TABLE

OVERSIZED_CACHE = rule(
    "C2.oversized-ngram-cache",
    "C2",
    "An n-gram cache with more buckets than vocabulary tokens must normalize over the vocabulary",
    """
An eval-time n-gram cache that hashes its contexts into more buckets than the vocabulary
has tokens (4,194,304 buckets over 1,024 tokens, say) only helps through collisions and
sparse counts, and it is legal only when what it scores is a distribution: a row of counts
over the whole vocabulary, divided by that row's sum. A cache that reads one bucket for the
realized token and divides by a context count scores numbers that sum far above 1 over the
vocabulary (PR #886 measured about 277). golf-check reads the bucket count and the
vocabulary size from the script's settings (static) or from the hyperparameters a log echoes
(log), and looks for a sum over a count row.

Example:
    NGRAM_BUCKETS = int(os.environ.get("NGRAM_BUCKETS", 1 << 22))   # VOCAB_SIZE 1024
    p_cache = pair_counts[hash(ctx, tgt)] / ctx_counts[hash(ctx)]   # no row sum: not normalized
""",
    (
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/886",
    ),
)

# An n-gram cache's bucket setting (NGRAM_BUCKETS, ngram_num_buckets), not any bucket: a
# hashed bigram embedding or a normalized expert table (hedge_buckets) is another matter.
_BUCKETS = re.compile(r"n_?gram.*bucket|bucket.*n_?gram", re.IGNORECASE)
_VOCAB = re.compile(r"^vocab(_size)?$", re.IGNORECASE)
_NORMALIZE = re.compile(r"normali[sz]", re.IGNORECASE)


def _as_int(value: object) -> int | None:
    try:
        number = int(str(value).strip().replace("_", ""), 0)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _sums_a_count_row(model) -> bool:
    """A ``.sum(...)`` (or ``sum(...)``) over something named like a count table."""
    for call in model.of_type(ast.Call):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "sum":
            receiver = func.value
        elif isinstance(func, ast.Name) and func.id == "sum" and call.args:
            receiver = call.args[0]
        else:
            continue
        if COUNT_TABLE.search(ast.unparse(receiver)):
            return True
    return False


def _uses_of_setting(model, line: int) -> list[ast.AST]:
    """Where the name the setting on ``line`` is assigned to is read (``NGRAM_BUCKETS``,
    ``self.ngram_buckets``, ``h.ngram_buckets``): the cache it sizes is built there."""
    names: set[str] = set()
    for assign in model.of_type(ast.Assign, ast.AnnAssign):
        if assign.lineno != line:
            continue
        targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, ast.Attribute):
                names.add(target.attr)
    uses: list[ast.AST] = []
    for node in model.of_type(ast.Name, ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in names and isinstance(node.ctx, ast.Load) and node.lineno != line:
            uses.append(node)
    return uses


@detector(OVERSIZED_CACHE, level="static")
def oversized_static_cache(model) -> Iterator[Finding]:
    """A setting read from the environment whose name holds "ngram" and "bucket" (not a
    hashed bigram embedding's), with a default larger than the script's ``VOCAB_SIZE``
    default, in a script that never sums a count row (``counts[ctx].sum()``,
    ``sum(table[...])``).

    Confidence: medium.

    Cannot see: the scoring expression itself (the bucket setting and the missing row sum
    are the evidence; C2.gold-count-ratio reads the expression); bucket counts and
    vocabulary sizes that are not environment settings with literal defaults; a row sum done
    by a helper of another name; whether the cache is switched on by default.
    """
    env = model.env
    vocab = next(
        (_as_int(env.setting(name)[0]) for name in env.env_defaults if _VOCAB.match(name)), None
    )
    if vocab is None:
        return
    for name in sorted(env.env_defaults):
        if not _BUCKETS.search(name):
            continue
        buckets, line = env.setting(name)
        buckets = _as_int(buckets)
        if buckets is None or buckets <= vocab or _sums_a_count_row(model):
            continue
        where = next((c for c in model.of_type(ast.Call) if c.lineno == line), None)
        yield model.finding(
            OVERSIZED_CACHE,
            where,
            f"{env.describe(name)} hashes the cache into {buckets:,} buckets over a {vocab:,}-"
            "token vocabulary, and no count row is summed: what it scores is not normalized",
            confidence="medium",
            fix="score (counts[ctx] + a) / (counts[ctx].sum() + a * V) over the vocabulary row",
            gate_nodes=_uses_of_setting(model, line) or None,  # off by default: a warning
        )


@detector(OVERSIZED_CACHE, level="log")
def oversized_logged_cache(ev: EvidenceSet) -> Iterator[Finding]:
    """The hyperparameters a log echoes: an n-gram cache's bucket count above the vocabulary
    size, with no setting that says the cache is normalized (a name holding "normalize",
    true)."""
    for seed in ev.scored:
        params = seed.hyperparameters
        vocab = next((_as_int(v) for k, v in params.items() if _VOCAB.match(k)), None)
        if vocab is None:
            continue
        normalized = any(
            _NORMALIZE.search(k) and str(v).strip().lower() in ("1", "true", "yes")
            for k, v in params.items()
        )
        for key, value in sorted(params.items()):
            buckets = _as_int(value) if _BUCKETS.search(key) else None
            if buckets is None or buckets <= vocab or normalized:
                continue
            yield Finding.of(
                OVERSIZED_CACHE,
                f"seed {seed.seed}: the log's {key}={value} hashes the n-gram cache into "
                f"{buckets:,} buckets over a {vocab:,}-token vocabulary, and no setting says "
                "it is normalized",
                severity="warning",  # the configuration, not the scoring code, is evidence
                confidence="medium",
                file=seed.log,
                evidence=f"{key}={value}",
                level="log",
                fix="normalize the cache over the vocabulary row, and say so in the log",
            )
            break
