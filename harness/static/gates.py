"""Configuration gates: whether a statement runs in the configuration being judged (the
script's defaults, or the run configuration its record documents), and findings whose
severity follows from it."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from golf_check.harness.report import Finding
from golf_check.harness.rulebook import Rule
from golf_check.harness.static.structure import FunctionInfo


@dataclass
class Gate:
    state: str  # "on" | "off" | "unknown"
    switches: list[str] = field(default_factory=list)  # env vars / settings that decide it


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    out = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    return out


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue)


class Gates:
    """Which code runs as configured, and findings that say so (a ``ProgramModel`` part)."""

    def default_state(self, node: ast.AST) -> Gate:
        """Whether ``node`` runs in the script's default configuration.

        ``off`` when an enclosing ``if`` (or an earlier early-exit ``if``) is decided by
        defaults to skip it, or when every call site of its function is off.
        """
        key = id(node)
        if key in self._gate_cache:
            return self._gate_cache[key]
        self._gate_cache[key] = Gate("unknown")  # cycle guard
        gate = self._local_gate(node)
        if gate.state != "off":
            func = self.function_of(node)
            if func is not None:
                fgate = self._function_gate(func)
                if fgate.state == "off":
                    gate = fgate
        self._gate_cache[key] = gate
        return gate

    def _function_gate(self, func: FunctionInfo) -> Gate:
        if func.qualname in self._func_gate_cache:
            return self._func_gate_cache[func.qualname]
        self._func_gate_cache[func.qualname] = Gate("unknown")
        sites = [s for s in self.callers_of(func) if s.caller is not func]
        if func.is_method:  # a method runs only if its class is built: gate on constructions
            owner = func.qualname.rsplit(".", 2)[-2] if func.qualname.count(".") else ""
            built = [s for s in self.calls_to.get(owner, []) if s.caller is not func]
            if built and all(self.default_state(s.node).state == "off" for s in built):
                sites = built
        if not sites:
            gate = Gate("unknown")
        else:
            gates = [self.default_state(s.node) for s in sites]
            if all(g.state == "off" for g in gates):
                gate = Gate("off", sorted({sw for g in gates for sw in g.switches}))
            else:
                gate = Gate("unknown")
        self._func_gate_cache[func.qualname] = gate
        return gate

    def _local_gate(self, node: ast.AST) -> Gate:
        child: ast.AST = node
        for anc in self.ancestors(node):
            # An earlier ``if <cond>: return`` in the same block skips what follows.
            for block in _blocks(anc):
                if child in block:
                    for prev in block[: block.index(child)]:
                        if isinstance(prev, ast.If) and not prev.orelse and _exits(prev.body):
                            value, switches = self.env.truth(prev.test, self.function_of(prev))
                            if value is True:
                                return Gate("off", switches)
            if isinstance(anc, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                break
            if isinstance(anc, ast.If):
                value, switches = self.env.truth(anc.test, self.function_of(anc))
                if child in anc.body and value is False:
                    return Gate("off", switches)
                if child in anc.orelse and value is True:
                    return Gate("off", switches)
            if isinstance(anc, ast.IfExp) and child in (anc.body, anc.orelse):
                value, switches = self.env.truth(anc.test, self.function_of(anc))
                if (child is anc.body and value is False) or (
                    child is anc.orelse and value is True
                ):
                    return Gate("off", switches)
            child = anc
        return Gate("unknown")

    def finding(
        self,
        rule: Rule,
        node: ast.AST | None,
        message: str,
        *,
        confidence: str = "high",
        fix: str | None = None,
        severity: str | None = None,
        gate_nodes: list[ast.AST] | None = None,
    ) -> Finding:
        """A finding at ``node``; an error on a path that is off by default becomes a warning."""
        line = getattr(node, "lineno", None) if node is not None else None
        severity = severity or rule.severity
        gates = [self.default_state(n) for n in (gate_nodes or ([node] if node else []))]
        off = next((g for g in gates if g.state == "off"), None)
        if off is not None and severity == "error":
            severity = "warning"
            switch = ", ".join(self.env.describe(name) for name in off.switches)
            message += f" (off by default; switched on by {switch or 'a setting'})"
        return Finding.of(
            rule,
            message,
            severity=severity,
            confidence=confidence,
            file=self.path,
            line=line,
            evidence=self.script.line_text(line),
            fix=fix,
            level="static",
        )
