"""The program model: environment defaults and gating, taint, grad contexts, scoring sites,
and the suppression parser."""

from __future__ import annotations

import ast
import textwrap

from golf_check.harness.static.checker import check_script
from golf_check.harness.static.loader import load_source
from golf_check.harness.static.model import ProgramModel
from golf_check.rules.suppressions import parse_suppressions


def model_of(src: str) -> ProgramModel:
    return ProgramModel(load_source(textwrap.dedent(src), "t.py"))


def node_at(model: ProgramModel, line: int, kind=ast.Call) -> ast.AST:
    return next(n for n in ast.walk(model.tree) if isinstance(n, kind) and n.lineno == line)


GATED = """
import os

class Hyperparameters:
    ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))
    two_pass = os.environ.get("TWO_PASS", "false").lower() in ("1", "true")
    epochs = int(os.environ.get("EPOCHS", 3))

SLOT_ON = int(os.environ.get("SLOT_ON", "1"))

def maybe(args):
    if args.ttt_enabled:
        run_ttt()
    if not args.two_pass and args.epochs > 0:
        run_single()
    if SLOT_ON:
        run_slot()

def early(args):
    if not args.ttt_enabled:
        return
    run_after_return()

def helper():
    pass

def main():
    args = Hyperparameters()
    if args.ttt_enabled:
        helper()
"""


def test_env_defaults_and_gates():
    m = model_of(GATED)
    assert m.env.attrs["ttt_enabled"] is False
    assert m.env.attrs["two_pass"] is False
    assert m.env.attrs["epochs"] == 3
    assert m.env.env_of["ttt_enabled"] == "TTT_ENABLED"
    assert m.env.setting("SLOT_ON") == ("1", 9)
    off = m.default_state(node_at(m, 13))
    assert off.state == "off" and off.switches == ["TTT_ENABLED"]
    assert m.default_state(node_at(m, 15)).state == "unknown"  # runs by default
    assert m.default_state(node_at(m, 17)).state == "unknown"
    assert m.default_state(node_at(m, 22)).state == "off"  # after an early return
    # Every call site of helper() is off, so its body is off too.
    assert m.default_state(m.functions_named("helper")[0].node.body[0]).state == "off"


TAINT = """
import torch

def load_validation_tokens(pattern):
    return torch.load(pattern)

def score(model, toks):
    chunk = toks[2:5]
    return model(chunk)

def main(model, train_loader):
    val_tokens = load_validation_tokens("fineweb_val_*.bin")
    a = val_tokens[:100].to("cpu")
    b = len(val_tokens)
    x, y = train_loader.next_batch(8, 2)
    loss = model(x, y)
    x = a[:-1]
    score(model, a)
"""


def test_validation_taint_flows_through_assignments_slices_and_parameters():
    m = model_of(TAINT)
    main = m.functions_named("main")[0]
    score = m.functions_named("score")[0]
    assert {"val_tokens", "a", "x"} <= m._val[main]
    assert "b" not in m._val[main]  # len() carries no tokens
    assert "toks" in m._val[score] and "chunk" in m._val[score]
    # The reaching-definition check sees that ``loss`` was built from a training batch.
    loss_use = node_at(m, 16, ast.Assign).value
    assert m.is_val(loss_use) and not m.is_val_reaching(loss_use)


def test_grad_context_and_scoring_sites():
    m = model_of(
        """
        import torch

        @torch.no_grad()
        def eval_val(model, val_tokens):
            loss_sum = 0.0
            loss_sum += model(val_tokens).item()
            return loss_sum

        def step(model, x):
            with torch.inference_mode():
                model(x)
            with torch.enable_grad():
                model(x).backward()
        """
    )
    assert m.is_scoring_function("eval_val")
    assert m.grad_disabled(node_at(m, 11))
    assert not m.grad_disabled(node_at(m, 13))


def test_suppression_comments_trailing_and_own_line():
    src = textwrap.dedent(
        """
        x = 1  # golf-check: ignore[C3.pretrain-on-val] tokens are synthetic
        # golf-check: ignore[C1, BUDGET.wallclock-default] reason here

        y = 2
        z = 3  # golf-check: ignore[NOT.a-rule]
        s = "# golf-check: ignore[C3] inside a string is not a comment"
        """
    )
    sups = parse_suppressions(src, {"C3.pretrain-on-val", "BUDGET.wallclock-default"})
    assert [(s.line, s.covers, s.ids, s.reason) for s in sups] == [
        (2, 2, ["C3.pretrain-on-val"], "tokens are synthetic"),
        (3, 5, ["C1", "BUDGET.wallclock-default"], "reason here"),
        (6, 6, ["NOT.a-rule"], ""),
    ]
    assert sups[2].unknown == ["NOT.a-rule"]


def test_condition_level_suppression_and_unknown_rule_finding():
    src = textwrap.dedent(
        """
        import os
        MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 900))  # golf-check: ignore[BUDGET] non-record run
        x = 1  # golf-check: ignore[C7.made-up] typo
        """
    )
    result = check_script(load_source(src, "t.py"))
    by_rule = {f.rule: f for f in result.findings}
    assert by_rule["BUDGET.wallclock-default"].suppressed
    assert "unknown rule" in by_rule["PACKAGE.unused-suppression"].message
    assert result.verdict == "warn"


def test_a_suppression_still_applies_when_only_other_rules_are_selected():
    src = textwrap.dedent(
        """
        import os
        MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 900))  # golf-check: ignore[BUDGET] non-record run
        """
    )
    result = check_script(load_source(src, "t.py"), select={"BUDGET.wallclock-default"})
    assert [(f.rule, f.suppressed) for f in result.findings] == [("BUDGET.wallclock-default", True)]
    assert result.verdict == "pass"


def test_pathologically_deep_expression_falls_back_without_crashing(tmp_path):
    from golf_check.harness.static.checker import check_file

    path = tmp_path / "train_gpt.py"
    path.write_text("total = " + " + ".join(["1"] * 2000) + "\nprint(total)\n")
    result = check_file(path)
    assert result.error is None
    model = ProgramModel(load_source(path.read_text(), "deep.py"))
    assert len(model.nodes) > 4000 and model.contains(model.tree, model.nodes[-1])
