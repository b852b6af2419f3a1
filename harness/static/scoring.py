"""Updates and scoring: gradient updates (``.backward()`` beside an optimizer step), score
accumulators and the functions that commit a score."""

from __future__ import annotations

import ast

from golf_check.harness.static.settings import dotted
from golf_check.harness.static.vocabulary import (
    _ACCUMULATE_METHODS,
    _NOT_SCORING,
    _SCORE_TOTAL,
    SCORE_ACCUMULATOR,
    SCORE_BUFFER,
    SCORING_FUNC,
    callee_name,
)


def _accumulator_name(node: ast.AST) -> str:
    """The name a score is added into (``loss_sum`` in ``loss_sum += x``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = node.func.value
    elif isinstance(node, ast.Assign):
        base = node.targets[0]
        if isinstance(base, ast.Tuple):
            return _tuple_accumulator(node)
    else:
        base = getattr(node, "target", node)
    while isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ""


def _tuple_accumulator(node: ast.Assign) -> str:
    """The first name a tuple assignment adds into (``nll_sum`` in ``nll_sum, n = nll_sum +
    s, n + c``), or ``""``."""
    target, value = node.targets[0], node.value
    if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)):
        return ""
    for t, v in zip(target.elts, value.elts, strict=False):
        if (
            isinstance(t, ast.Name)
            and isinstance(v, ast.BinOp)
            and isinstance(v.op, ast.Add)
            and isinstance(v.left, ast.Name)
            and v.left.id == t.id
        ):
            return t.id
    return ""


def accumulated(node: ast.AST) -> ast.AST:
    """The value an accumulation site adds (see ``ProgramModel._is_accumulation``)."""
    if isinstance(node, ast.Call):
        return node.args[0] if node.args else node
    return getattr(node, "value", node)


def _detached(value: ast.AST) -> bool:
    """``x.detach()``, ``x.item()``, ``float(x)``: an accumulated value with no gradient."""
    for n in ast.walk(value):
        if isinstance(n, ast.Call) and callee_name(n) in ("detach", "item", "float", "tolist"):
            return True
    return False


class Scoring:
    """Where the script updates and where it commits a score (a ``ProgramModel`` part)."""

    def backward_sites(self) -> list[ast.Call]:
        """``X.backward()`` and ``torch.autograd.backward/grad`` calls, in source order."""
        cached = getattr(self, "_backward_sites", None)
        if cached is not None:
            return cached
        out: list[ast.Call] = []
        self._backward_sites = out
        for site in self.call_sites:
            n = site.node
            if not isinstance(n.func, ast.Attribute):
                continue
            if n.func.attr == "backward":
                out.append(n)
            elif n.func.attr == "grad" and dotted(n.func).startswith("torch.autograd"):
                out.append(n)
        return out

    def loss_of_backward(self, call: ast.Call) -> ast.AST:
        if dotted(call.func).startswith("torch.autograd"):
            return call.args[0] if call.args else call
        if isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
            return call.func.value
        return call.args[0] if call.args else call

    def has_step(self, scope_node: ast.AST) -> bool:
        """An optimizer-style ``.step()`` call somewhere under ``scope_node``."""
        for n in self.walk(scope_node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                if n.func.attr == "step" and "sched" not in ast.unparse(n.func.value).lower():
                    return True
        return False

    def _is_accumulation(self, node: ast.AST) -> bool:
        """Adding into a score total: ``loss_sum += x``, ``nll_sum.add_(x)``,
        ``nlls.append(x)``, ``token_nll[pos] = x`` (names that say loss/nll/bytes/...)."""
        pattern = SCORE_ACCUMULATOR
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            base = node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Tuple):  # nll_sum, n = nll_sum + s, n + c
                return bool(pattern.search(_tuple_accumulator(node)))
            if not isinstance(node.targets[0], ast.Subscript):
                return False
            base, pattern = node.targets[0], SCORE_BUFFER  # token_nll[pos] = nll
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in _ACCUMULATE_METHODS:
                return False
            base = node.func.value
            if node.func.attr in ("append", "extend"):
                pattern = SCORE_BUFFER  # nlls.append(nll), not byte LUT building
        else:
            return False
        while isinstance(base, ast.Subscript | ast.Attribute):
            if isinstance(base, ast.Attribute) and pattern.search(base.attr):
                return True
            base = base.value
        return isinstance(base, ast.Name) and bool(pattern.search(base.id))

    def _find_scoring_functions(self) -> set[str]:
        """Functions that commit a score: they accumulate a loss/byte total with gradients
        off, or call an accumulating helper under no-grad (``_accumulate_bpb``), or call such
        a function under no-grad while being named like an evaluator."""
        self._accumulations = [
            n for n in self.of_type(ast.AugAssign, ast.Assign, ast.Call) if self._is_accumulation(n)
        ]
        self._accumulating_funcs: set[str] = set()
        for n in self._accumulations:
            func = self.function_of(n)
            while func is not None:  # the helper and every function it is nested in
                self._accumulating_funcs.add(func.name)
                func = self.function_of(func.node)
        direct: set[str] = set()
        for n in self._accumulations:
            func = self.function_of(n)
            if func is None or func.name in _NOT_SCORING:
                continue
            # Under no-grad, or a score total (``nll_sum``) in a function named like scoring
            # (an evaluator whose gradients are off in the forward helper it calls).
            if self.grad_disabled(n) or (
                SCORING_FUNC.search(func.name) and _SCORE_TOTAL.search(_accumulator_name(n))
            ):
                direct.add(func.name)
        for site in self.call_sites:
            func = site.caller
            if (
                func is not None
                and site.callee in self._accumulating_funcs
                and site.callee != func.name
                and self.grad_disabled(site.node)
            ):
                direct.add(func.name)
        scoring = set(direct)
        for _ in range(4):
            grew = False
            for site in self.call_sites:
                func = site.caller
                if func is None or func.name in scoring or site.callee not in scoring:
                    continue
                if site.callee != func.name and self.grad_disabled(site.node):
                    if SCORING_FUNC.search(func.name) or site.callee in direct:
                        scoring.add(func.name)
                        grew = True
            if not grew:
                break
        return scoring

    def is_scoring_function(self, name: str) -> bool:
        return name in self._scoring_funcs

    def _collect_scoring_sites(self) -> list[ast.AST]:
        out: list[ast.AST] = [
            n
            for n in self._accumulations
            if self.grad_disabled(n)
            or _detached(accumulated(n))
            or _SCORE_TOTAL.search(_accumulator_name(n))
        ]
        seen = {id(n) for n in out}
        for site in self.call_sites:
            if id(site.node) in seen:
                continue
            if self.is_scoring_function(site.callee) or (
                site.callee in self._accumulating_funcs and self.grad_disabled(site.node)
            ):
                out.append(site.node)
        out.sort(key=lambda n: self._index[n])
        return out

    def scoring_sites(self, within: ast.AST) -> list[ast.AST]:
        """Places under ``within`` where a score is committed: accumulators under no-grad
        (or of detached values), and calls to scoring functions, in source order."""
        start = self._index.get(within)
        if start is None:
            return []
        end = self._end[within]
        return [s for s in self._all_scoring_sites if start <= self._index[s] < end]

    def is_val_scoring_call(self, call: ast.Call) -> bool:
        name = callee_name(call)
        if not self.is_scoring_function(name):
            return False
        if any(self.is_val(a) for a in list(call.args) + [k.value for k in call.keywords]):
            return True
        return any(self.reads_val(f) for f in self.functions_named(name))
