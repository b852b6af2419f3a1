"""The value classifiers the C1/C2 detectors rely on: what an expression computes, whatever
it is called."""

from __future__ import annotations

import ast
import textwrap

import pytest

from golf_check.harness.static import patterns
from golf_check.harness.static.loader import load_source
from golf_check.harness.static.model import ProgramModel


def _model(src: str) -> ProgramModel:
    return ProgramModel(load_source(textwrap.dedent(src), "t.py"))


def _value_of(model: ProgramModel, name: str) -> ast.AST:
    """The last expression statement ``name`` of the script, as a node in its tree."""
    exprs = [
        n.value
        for n in model.of_type(ast.Expr)
        if isinstance(n.value, ast.Name) and n.value.id == name
    ]
    return exprs[-1]


@pytest.mark.parametrize(
    "body",
    [
        "lp = F.log_softmax(z, -1)\n    h = -(lp.exp() * lp).sum(-1)",
        "p = torch.softmax(z, dim=-1)\n    h = -(p * torch.log(p + 1e-10)).sum(dim=-1)",
        "h = -(q * q.clamp_min(1e-9).log()).sum(-1)",  # q unknown: the same tensor twice
        "p = z.softmax(-1)\n    h = torch.sum(p * torch.log(p), dim=-1)",
        "h = torch.special.entr(z.softmax(-1)).sum(-1)",
        "h = torch.distributions.Categorical(logits=z).entropy()",
        "p = torch.softmax(z, -1)\n    h = torch.sum(p * p.log(), -1)",
        "h = -F.log_softmax(z, -1).max(-1).values",  # confidence: also blind to the target
        "h = torch.amax(torch.log_softmax(z, dim=-1), dim=-1)",
    ],
)
def test_entropy_is_recognised_by_what_it_computes(body):
    m = _model(f"import torch\nimport torch.nn.functional as F\ndef f(z, q):\n    {body}\n    h\n")
    assert patterns.entropy_sites(m)
    assert patterns.holds_entropy(m, _value_of(m, "h")) is not None


@pytest.mark.parametrize(
    "body",
    [
        "lp = F.log_softmax(z, -1)\n    h = -(lp.exp() * lp).sum()",  # a total, not per position
        "h = (a * b.log()).sum(-1)",  # two different tensors
        "p = torch.softmax(z, -1)\n    h = (p * z).sum(-1)",  # an expectation, not an entropy
        "h = z.max(-1).values",  # raw scores: not known to be a distribution
    ],
)
def test_other_reductions_are_not_entropies(body):
    m = _model(
        f"import torch\nimport torch.nn.functional as F\ndef f(z, a, b):\n    {body}\n    h\n"
    )
    assert patterns.holds_entropy(m, _value_of(m, "h")) is None


def test_reads_at_the_target_and_the_realized_token():
    m = _model(
        """
        import torch.nn.functional as F
        def f(logits, y, seq, pos, table):
            gold = -F.log_softmax(logits, -1).gather(-1, y[:, None])
            spread = logits.std(-1)
            key = ((seq[pos - 1] * 31) ^ seq[pos]) & 1023
            ctx_only = (seq[pos - 1] * 31) & 1023
            hit = table[key]
            gold
            spread
            key
            ctx_only
            hit
        """
    )
    assert patterns.reads_target(m, _value_of(m, "gold")) is not None
    assert patterns.reads_target(m, _value_of(m, "spread")) is None
    assert patterns.realized_token(m, _value_of(m, "key"))
    assert not patterns.realized_token(m, _value_of(m, "ctx_only"))
    assert patterns.hashed_key(m, _value_of(m, "key"))
    assert not patterns.hashed_key(m, _value_of(m, "gold"))


def test_values_flow_through_returns_and_arguments():
    m = _model(
        """
        import torch
        def columns(a, b):
            out = torch.stack([a, b], -1)
            return out
        def combine(cols, w):
            return -(w - cols).logsumexp(-1)
        def run(a, b, w):
            c = columns(a, b)
            xs = [a]
            xs.append(b)
            return combine(c, w)
        """
    )
    stack = next(n for n in m.of_type(ast.Call) if getattr(n.func, "attr", "") == "stack")
    mixer = patterns.flows_into(
        m, stack, lambda s: "logsumexp" in ast.unparse(s) and isinstance(s, ast.Return)
    )
    assert mixer is not None and m.function_of(mixer).name == "combine"
    xs = next(n for n in m.of_type(ast.Name) if n.id == "xs" and isinstance(n.ctx, ast.Load))
    assert [ast.unparse(e) for e in patterns.list_elements(m, xs)] == ["a", "b"]
