"""Where a script adapts on validation tokens, and whether it scored them first.

Shared by the C3 (score before update), C4 (single pass), C1 (SLOT) and DATA detectors.
An *adaptation* is a gradient update (``.backward()`` next to an optimizer ``.step()``) whose
loss derives from validation tokens. Each one is classified by where the scoring happens
relative to it:

* ``score-first``: a loop around the update also commits a score earlier in its body (score
  chunk k, then train on chunk k), or the update reads the previous iteration's chunk: the
  legal test-time-training pattern;
* ``update-before-score``: the loop around the update commits its score only after it, or
  scores inside an epoch loop that also trains on the tokens;
* ``pretrain``: a straight-line pass that adapts, after which validation is scored;
* ``prequant``: the adapted weights are quantized/serialized into the artifact;
* ``warmup``: the same, inside a compile/warm-up loop;
* ``rescore``: validation was scored, then adapted on, then the same scoring call repeated;
* ``rescore-maybe``: scored, adapted, then a different scoring pass (legal phased TTT looks
  like this, so it is only a warning);
* ``training``: the update sits in the main training loop (validation data in training);
* ``unscored``: no later scoring golf-check can see.

If the function holding the update has no scoring of its own, its call sites are classified
the same way, up to a few levels (``ttt_adapt(model, val_tokens)`` called from ``main``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from golf_check.harness.static.model import (
    QUANT_OR_SAVE,
    TRAIN_NAME,
    FunctionInfo,
    ProgramModel,
    accumulated,
    callee_name,
    dotted,
)

_WARM = re.compile(r"warm", re.IGNORECASE)
_RESET = re.compile(r"load_state_dict|deserializ|dequantiz|copy_|reset", re.IGNORECASE)
_OPTIMIZERS = re.compile(r"^(SGD|Adam|AdamW|LBFGS|RMSprop|Adagrad|Muon|NorMuon|Lion)$")
_PARAM_MAKERS = ("Parameter",)


@dataclass
class Adaptation:
    site: ast.Call  # the .backward() call
    func: FunctionInfo | None  # function holding it
    kind: str
    report_at: ast.AST  # where a finding should point (the call that starts the bad order)
    loop: ast.AST | None = None  # the loop that decides score-first / update-before-score
    scored_at: ast.AST | None = None  # the scoring that follows (or precedes) it
    chain: list[ast.AST] = field(default_factory=list)  # site plus call sites, for gating
    slot_param: str | None = None  # name of an eval-time delta/bias being optimized (SLOT)

    @property
    def where(self) -> str:
        return self.func.name if self.func else "<module>"


def adaptations(model: ProgramModel) -> list[Adaptation]:
    """Every validation-token update in the script, classified (computed once per model)."""
    cached = getattr(model, "_adaptations", None)
    if cached is None:
        cached = []
        for site in model.backward_sites():
            cached.extend(_classify_site(model, site))
        model._adaptations = cached  # type: ignore[attr-defined]
    return cached


def _classify_site(model: ProgramModel, site: ast.Call) -> list[Adaptation]:
    """The update's worst classification over its call paths, plus one adaptation per other
    illegal kind reached by another path (a helper called score-first from one pass and
    before any scoring from another: both are findings)."""
    func = model.function_of(site)
    loss = model.loss_of_backward(site)
    if not model.is_val_reaching(loss):
        return []
    scope = func.node if func else model.tree
    if not model.has_step(scope):
        return []
    others: list = []
    main = _classify_one(model, site, func, loss, others)
    out = [main]
    if main.kind in ("training", "warmup"):
        return out
    kinds = {main.kind}
    for (kind, at, loop, scored), chain in others:
        if kind in kinds or _RANK[kind] < _RANK["update-before-score"]:
            continue
        kinds.add(kind)
        extra = Adaptation(site, func, kind, at, loop, scored, [site, *chain[1:]])
        extra.slot_param = main.slot_param
        out.append(extra)
    return out


def _classify_one(model, site, func, loss, others) -> Adaptation:
    adaptation = Adaptation(site=site, func=func, kind="unscored", report_at=site, chain=[site])
    adaptation.slot_param = _slot_param(model, func, loss)
    if _in_training_loop(model, site):
        adaptation.kind = "training"
        return adaptation
    warm = _is_warmup(model, site, func)
    kind, at, loop, scored = _classify(model, site, func, 0, adaptation.chain, others)
    adaptation.kind, adaptation.report_at, adaptation.loop, adaptation.scored_at = (
        kind,
        at,
        loop,
        scored,
    )
    if warm and kind in ("pretrain", "prequant", "unscored", "update-before-score"):
        adaptation.kind = "warmup"
    return adaptation


def _classify(
    model: ProgramModel,
    node: ast.AST,
    func: FunctionInfo | None,
    depth: int,
    chain,
    others: list | None = None,
):
    """(kind, report node, deciding loop, scoring node) for an update reached at ``node``;
    ``others`` collects the result of every call path tried, with its chain."""
    line = node.lineno  # type: ignore[attr-defined]
    epoch_loops = [lp for lp in model.enclosing_loops(node) if _is_epoch_loop(model, lp)]
    for loop in model.enclosing_loops(node):
        before = [
            s
            for s in model.scoring_sites(loop)
            if s.lineno < line and not any(model.contains(ep, s) for ep in epoch_loops)
        ]
        if before:
            # The same scoring call repeated after the update, in the same iteration.
            again = [s for s in model.scoring_sites(loop) if s.lineno > line]
            if _same_scoring(model, before, again):
                return (
                    "rescore",
                    node,
                    loop,
                    next(s for s in again if _same_scoring(model, before, [s])),
                )
            return "score-first", node, loop, before[-1]
    for loop in epoch_loops:  # scored inside the epoch loop that also trains on the tokens
        # Only explicit scoring counts here; a detached ``epoch_loss += loss.item()`` is logging.
        inside = [
            s
            for s in model.scoring_sites(loop)
            if isinstance(s, ast.Call) or model.grad_disabled(s)
        ]
        if inside:
            return "update-before-score", node, loop, inside[0]
    for loop in model.enclosing_loops(node):
        after = [
            s
            for s in model.scoring_sites(loop)
            if s.lineno > line and _scores_after_update(model, s, node)
        ]
        if after:
            if _trains_on_previous(model, node, loop):
                return "score-first", node, loop, after[0]  # trains on chunk k-1, scores k
            return "update-before-score", node, loop, after[0]
    body = func.node if func else model.tree
    own = [s for s in _val_scoring(model, body) if model.function_of(s) is func]
    later = [s for s in own if s.lineno > line and _scores_after_update(model, s, node)]
    earlier = [s for s in own if s.lineno < line]
    first_later = later[0].lineno if later else 10**9
    calls = func.calls if func is not None else [s.node for s in model.call_sites]
    saves = [
        c
        for c in calls
        if line < c.lineno < first_later
        and model.function_of(c) is func
        and QUANT_OR_SAVE.search(dotted(c.func) or callee_name(c))
    ]
    if later and earlier:
        if _same_scoring(model, earlier, later):
            return "rescore", node, None, later[0]
        if epoch_loops or (depth > 0 and hands_whole_split(model, node)):
            # An earlier diagnostic pass does not make epochs of training on validation
            # tokens, or ``adapt(model, val_tokens)`` over the whole split, then scoring, any
            # less a train-before-score.
            return "pretrain", node, None, later[0]
        # Legal phased TTT also scores, trains on what it scored, then scores new tokens.
        return "rescore-maybe", node, None, later[0]
    if saves:
        return "prequant", node, None, saves[0]
    if later:
        return "pretrain", node, None, later[0]
    if func is None or depth >= 4:
        return "unscored", node, None, None
    worst = None
    for site in model.callers_of(func):
        if site.caller is func:
            continue
        if not model.passes_val(func, site.node):
            continue  # this call hands the helper training data, not validation tokens
        sub_chain = [*chain, site.node]
        result = _classify(model, site.node, site.caller, depth + 1, sub_chain, others)
        if others is not None:
            others.append((result, list(sub_chain)))
        if worst is None or _RANK[result[0]] > _RANK[worst[0]]:
            worst = result
            chain[:] = sub_chain
    return worst or ("unscored", node, None, None)


_EPOCH = re.compile(r"epoch|(^|_)ep($|_)", re.IGNORECASE)


def hands_whole_split(model: ProgramModel, call: ast.AST) -> bool:
    """A call that hands an adapting helper the validation tokens whole, by a bare name
    (``ttt_adapt(args, model, val_tokens)``), rather than a slice or the documents already
    scored."""
    if not isinstance(call, ast.Call):
        return False
    args = list(call.args) + [k.value for k in call.keywords]
    return any(isinstance(a, ast.Name | ast.Attribute) and model.is_val_tokens(a) for a in args)


def _scores_after_update(model: ProgramModel, site: ast.AST, update: ast.AST) -> bool:
    """Whether a scoring site after an update in its loop scores tokens again. Adding up the
    very loss that is back-propagated (``epoch_loss += loss.detach() * n``), or a count that
    carries no validation data (``epoch_tokens += y.numel()``), is training-loss logging."""
    if isinstance(site, ast.Call) and not _ACCUMULATING_CALLS.search(callee_name(site)):
        return True  # a call to a scoring function
    value = accumulated(site)
    if not model.is_val(value):
        return False
    if update not in model.backward_sites():
        return True
    loss = model.loss_of_backward(update)
    if not isinstance(loss, ast.Name):
        return True
    return not any(isinstance(n, ast.Name) and n.id == loss.id for n in model.walk(value))


_ACCUMULATING_CALLS = re.compile(r"^(add_|append|extend)$")


def _is_epoch_loop(model: ProgramModel, loop: ast.AST) -> bool:
    """A loop over epochs: a score inside it, before the update, is a score taken by a model
    that already trained on those tokens in the previous epoch (#525 "score on final epoch")."""
    if not isinstance(loop, ast.For):
        return False
    return bool(
        _EPOCH.search(model.unparse(loop.target)) or _EPOCH.search(model.unparse(loop.iter))
    )


_RANK = {
    "unscored": 0,
    "score-first": 1,
    "rescore-maybe": 2,
    "update-before-score": 3,
    "pretrain": 4,
    "prequant": 5,
    "rescore": 6,
}
_PREVIOUS = re.compile(r"prev|previous|last|scored|done", re.IGNORECASE)


def _trains_on_previous(model: ProgramModel, node: ast.AST, loop: ast.AST) -> bool:
    """The update reads the previous iteration's chunk (``chunks[ci - 1]``, ``prev_chunk``),
    which the previous iteration already scored."""
    if not isinstance(loop, ast.For):
        return False
    targets = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    data = model.loss_of_backward(node) if node in model.backward_sites() else node
    for part in model.expand(data, depth=3):
        for n in model.walk(part):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub):
                if isinstance(n.left, ast.Name) and n.left.id in targets:
                    return True
            if isinstance(n, ast.Name) and _PREVIOUS.search(n.id):
                return True
    return False


def _same_scoring(model: ProgramModel, earlier: list[ast.AST], later: list[ast.AST]) -> bool:
    """A later scoring call repeats an earlier one: same callee, same arguments."""

    def key(call: ast.AST):
        if not isinstance(call, ast.Call):
            return None
        return callee_name(call), [model.unparse(a) for a in call.args]

    seen = {repr(key(c)) for c in earlier if key(c)}
    return any(key(c) and repr(key(c)) in seen for c in later)


def _val_scoring(model: ProgramModel, body: ast.AST) -> list[ast.AST]:
    out = []
    for s in model.scoring_sites(body):
        if isinstance(s, ast.Call):
            if model.is_val_scoring_call(s):
                out.append(s)
        elif model.is_val(accumulated(s)):
            out.append(s)
    return out


def _in_training_loop(model: ProgramModel, site: ast.AST) -> bool:
    """The update sits in a loop that also draws training batches."""
    return any(_draws_training(model, loop) for loop in model.enclosing_loops(site))


def _draws_training(model: ProgramModel, loop: ast.AST) -> bool:
    """Whether a loop reads training data (cached per loop: updates share their loops)."""
    cache = model.__dict__.setdefault("_draws_training", {})
    known = cache.get(loop)
    if known is None:
        known = cache[loop] = any(
            (isinstance(n, ast.Name) and TRAIN_NAME.search(n.id))
            or (
                isinstance(n, ast.Attribute)
                and (TRAIN_NAME.search(n.attr) or n.attr == "next_batch")
            )
            for n in model.walk(loop)
        )
    return known


def _is_warmup(model: ProgramModel, site: ast.AST, func: FunctionInfo | None) -> bool:
    """The update belongs to a compile warm-up: the function, a loop header, a log string in
    the loop, or a log line just before the outermost loop says "warm"."""
    if func and _WARM.search(func.name):
        return True
    loops = model.enclosing_loops(site)
    for loop in loops:
        header = loop.iter if isinstance(loop, ast.For) else loop.test
        target = model.unparse(loop.target) if isinstance(loop, ast.For) else ""
        if _WARM.search(model.unparse(header)) or _WARM.search(target):
            return True
        if any(
            isinstance(n, ast.Constant) and isinstance(n.value, str) and _WARM.search(n.value)
            for n in model.walk(loop)
        ):
            return True
    outer = loops[-1] if loops else model.statement_of(site)
    parent = model.parents.get(outer)
    for block in (getattr(parent, "body", None), getattr(parent, "orelse", None)):
        if isinstance(block, list) and outer in block:
            before = block[max(0, block.index(outer) - 3) : block.index(outer)]
            for stmt in before:
                for n in model.walk(stmt):
                    if isinstance(n, ast.Constant) and isinstance(n.value, str):
                        if _WARM.search(n.value):
                            return True
                    if isinstance(n, ast.Name) and _WARM.search(n.id):
                        return True
    return False


def _slot_param(model: ProgramModel, func: FunctionInfo | None, loss: ast.AST) -> str | None:
    """A tensor created with requires_grad in this function and handed to an optimizer."""
    if func is None:
        return None
    grad_tensors: set[str] = set()
    for n in model.walk(func.node):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
            value = n.value
            makes = any(
                k.arg == "requires_grad"
                and isinstance(k.value, ast.Constant)
                and k.value.value is True
                for k in value.keywords
            )
            makes |= callee_name(value) in ("requires_grad_", *_PARAM_MAKERS)
            if makes:
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        grad_tensors.add(t.id)
    if not grad_tensors:
        return None
    for n in model.walk(func.node):
        if isinstance(n, ast.Call) and _OPTIMIZERS.match(callee_name(n)):
            used = {x.id for x in model.walk(n) if isinstance(x, ast.Name)}
            hit = grad_tensors & used
            if hit:
                return sorted(hit)[0]
    return None


def resets_between(model: ProgramModel, func: FunctionInfo | None, start: int, end: int) -> bool:
    """A state reset (``load_state_dict``, dequantize, ...) between two lines of ``func``."""
    body = func.node if func else model.tree
    for c in model.walk(body):
        if isinstance(c, ast.Call) and start < c.lineno < end:
            if _RESET.search(callee_name(c)):
                return True
    return False
