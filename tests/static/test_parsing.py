"""Scripts in the Python 3.12/3.13 grammar parse on any supported host, with exact lines.

The twins below are written in the newer grammar (PEP 701 f-strings: the outer quote reused
inside a replacement field, backslashes and comments inside fields, nested format specs;
PEP 695 type parameters). They live in strings because this file itself must parse on 3.10.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from golf_cli import golf_check

from golf_check.harness.errors import InputError
from golf_check.harness.static import parsing
from golf_check.harness.static.checker import check_paths
from golf_check.harness.static.loader import load_script
from golf_check.harness.static.parsing import parse_newer_grammar, parse_python

ROOT = Path(__file__).resolve().parents[2]

# A logging helper in the 3.12 style, with a network call the checker must place exactly.
TWIN_LOGGING = r'''"""Run summary written with 3.12 f-strings."""
import json
import urllib.request

stats = {"loss": 2.5, "bpb": 1.1}
names = ["train", "val"]
width = 8
print(f"loss {stats["loss"]:.3f} bpb {stats['bpb']:>{width}.{3}f}")
print(f"{"\n".join(names)}")
summary = f"""{
    json.dumps(stats)  # the whole dict
    + "!"  # marks the end
}"""
print(f"{width=} {names[0]!r:^{width}}")


def upload(url):
    return urllib.request.urlopen(url)
'''

# Type parameters (3.12) and a type-parameter default (3.13) around a nested-quote f-string.
TWIN_GENERICS = r"""type Table[K] = dict[K, float]


class Meter[T = float]:
    def __init__(self, values: list[T]):
        self.values = values


def show[T](meter: Meter[T]) -> str:
    return f"{", ".join(f"{v:.2f}" for v in meter.values)}"
"""

# Tricky but valid, and invalid in 3.13 too (the parser must refuse these, with the line).
VALID_SNIPPETS = [
    'f"{x["k"]!r:>{w}} and {y = }"',
    "f'{x # a comment\n}'",
    'f"{x:{y:{z}}}"',
    'f"{x:{{}}}"',
    '"a" f"{b["c"]}" rf"\\d{e}"',
    'f"""a"{x}"""',
    'f"\\N{BULLET} {x["k"]}"',
    'print(f"{a}"\n      f"{b["c"]}"  # note\n      "d")',
    'w = f"{x}"if\'a\'in b else"c"',
    'f"{a!r:{b!s:{c}}}"',
    'f"{x = !r:^20}"',
    "class C[T: int, *Ts, **P]:\n    pass",
    'f"{1+2 = # not printed\n  }"\ny = 1',
    'f"{x!r\n}"\ny = 1',
    'f"{x=\n:>4}"\ny = 1',
]
INVALID_SNIPPETS = [
    'f"{x!z}"',
    'f"{ }"',
    'f"{x}}"',
    'f"{x! r}"',
    'f"{lambda:1}"',
    'f"{x:{y:{z:{w}}}}"',
    'f"{x:a\nb}"',
    'f"{x"',
]


def _line_of(source: str, text: str) -> int:
    return source[: source.index(text)].count("\n") + 1


def _load(tmp_path, source: str):
    path = tmp_path / "train_gpt.py"
    path.write_text(source)
    return path, load_script(path)


def test_nested_quotes_backslashes_comments_and_specs_parse(tmp_path):
    _, script = _load(tmp_path, TWIN_LOGGING)
    calls = {
        ast.unparse(n.func): n.lineno for n in ast.walk(script.tree) if isinstance(n, ast.Call)
    }
    assert calls["json.dumps"] == _line_of(TWIN_LOGGING, "json.dumps(stats)")
    assert calls["'\\n'.join"] == _line_of(TWIN_LOGGING, '"\\n".join')
    assert calls["urllib.request.urlopen"] == _line_of(TWIN_LOGGING, "urllib.request.urlopen")
    # the f-strings come back as f-strings: nested spec fields, conversions, debug text
    loss_line = _line_of(TWIN_LOGGING, 'f"loss')
    (loss,) = [
        n for n in ast.walk(script.tree) if isinstance(n, ast.JoinedStr) and n.lineno == loss_line
    ][:1]
    fields = [v for v in loss.values if isinstance(v, ast.FormattedValue)]
    assert [ast.unparse(f.value) for f in fields] == ["stats['loss']", "stats['bpb']"]
    spec_fields = [v for v in fields[1].format_spec.values if isinstance(v, ast.FormattedValue)]
    assert [ast.unparse(f.value) for f in spec_fields] == ["width", "3"]
    debug_line = _line_of(TWIN_LOGGING, "{width=}")
    (debug,) = [
        n for n in ast.walk(script.tree) if isinstance(n, ast.JoinedStr) and n.lineno == debug_line
    ][:1]
    assert isinstance(debug.values[0], ast.Constant) and debug.values[0].value == "width="
    assert debug.values[1].conversion == ord("r")


def test_findings_keep_exact_lines_in_newer_grammar(tmp_path):
    path, _ = _load(tmp_path, TWIN_LOGGING)
    (result,) = check_paths([path]).files
    assert result.error is None
    network = [f for f in result.findings if f.rule == "DATA.network" and f.severity == "error"]
    assert [f.line for f in network] == [_line_of(TWIN_LOGGING, "urllib.request.urlopen")]


def test_type_parameters_and_defaults_parse(tmp_path):
    _, script = _load(tmp_path, TWIN_GENERICS)
    names = {n.name: n.lineno for n in script.tree.body if hasattr(n, "name")}
    assert names == {
        "Meter": _line_of(TWIN_GENERICS, "class Meter"),
        "show": _line_of(TWIN_GENERICS, "def show"),
    }
    joins = [n for n in ast.walk(script.tree) if isinstance(n, ast.JoinedStr)]
    assert {n.lineno for n in joins} == {_line_of(TWIN_GENERICS, "return f")}


def test_real_syntax_error_is_one_line_with_its_line(tmp_path):
    source = TWIN_LOGGING + "\n\ndef broken(:\n    pass\n"
    path = tmp_path / "train_gpt.py"
    path.write_text(source)
    with pytest.raises(InputError) as exc:
        load_script(path)
    text = str(exc.value)
    assert f"syntax error at line {_line_of(source, 'def broken')}" in text and "\n" not in text


@pytest.mark.parametrize("snippet", INVALID_SNIPPETS)
def test_fstrings_the_newer_parser_refuses_are_refused(snippet):
    source = "x = 1\n" + snippet + "\n"
    with pytest.raises(InputError, match=r"syntax error at line 2"):
        parse_python(source, "s.py")


def test_invalid_fstring_exits_2_with_one_line(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text('d = {"k": 1}\nprint(f"{d["k"]!z}")\n')
    proc = golf_check("check", path, timeout=60)
    assert proc.returncode == 2
    assert "syntax error at line 2" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_rewrite_runs_only_when_the_host_parser_refuses(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("the rewrite ran on a file the host parses")

    monkeypatch.setattr(parsing, "parse_newer_grammar", refuse)
    script = load_script(ROOT / "tests" / "static" / "twins" / "legal_record.py")
    assert script.tree.body


@pytest.mark.parametrize(
    "rel", ["harness/static/loader.py", "harness/static/parsing.py", "harness/report.py"]
)
def test_rewrite_is_faithful_on_ordinary_code(rel):
    # Forcing the rewrite on code the host parses gives the host's tree, every line intact.
    source = (ROOT / rel).read_text()
    host, rewritten = ast.parse(source), parse_newer_grammar(source)
    assert ast.dump(rewritten) == ast.dump(host) or (
        ast.dump(rewritten, include_attributes=False) == ast.dump(host, include_attributes=False)
        and _lines(rewritten) == _lines(host)
    )


def _lines(tree: ast.AST) -> list[tuple[str, int]]:
    skip = (ast.JoinedStr, ast.FormattedValue, ast.Constant)  # f-string parts move to its start
    return [
        (type(n).__name__, n.lineno)
        for n in ast.walk(tree)
        if hasattr(n, "lineno") and not isinstance(n, skip)
    ]


# --------------------------------------------------------------------------- other interpreters


def _interpreter(version: str) -> str | None:
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}"))
    for exe in filter(None, candidates):
        probe = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return exe
    return None


# The tree's shape (type parameters left out: the rewrite drops them, nothing reads them) and
# the lines of its calls, statements, attributes and subscripts, printed alike by any Python.
_SHAPE = r"""
import ast

def shape(node):
    if type(node).__name__ == "TypeAlias":
        return ["Assign", [["targets", [shape(node.name)]], ["value", shape(node.value)]]]
    if isinstance(node, ast.AST):
        skip = ("type_params", "type_ignores", "type_comment")
        fields = [[f, shape(v)] for f, v in ast.iter_fields(node) if f not in skip]
        return [type(node).__name__, [f for f in fields if f[1] not in ("None", [])]]
    if isinstance(node, list):  # 3.12.1 leaves empty literals in format specs: not kept
        return [shape(x) for x in node if not (isinstance(x, ast.Constant) and x.value == "")]
    return repr(node)

def lines(tree):
    kinds = (ast.Call, ast.stmt, ast.Attribute, ast.Subscript)
    return sorted(n.lineno for n in ast.walk(tree) if isinstance(n, kinds))
"""

# Runs under another interpreter: each source as CPython parses it, and as golf-check does.
_REPORT = (
    _SHAPE
    + r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from golf_check.harness.errors import InputError
from golf_check.harness.static.parsing import parse_python

out = []
for source in json.load(sys.stdin):
    try:
        native = ast.parse(source)
        native = ["ok", shape(native), lines(native)]
    except SyntaxError as exc:
        native = ["error"]
    try:
        ours = parse_python(source, "s.py")
        ours = ["ok", shape(ours), lines(ours)]
    except InputError:
        ours = ["error"]
    out.append([native, ours])
print(json.dumps(out))
"""
)
_HELPERS: dict = {}
exec(_SHAPE, _HELPERS)


def _importable_source_tree() -> Path:
    """A folder from which another interpreter, where golf-check is not installed, imports
    the source tree's ``harness`` as ``golf_check.harness`` (a namespace of one link)."""
    home = Path(tempfile.mkdtemp(prefix="golf-check-tree-"))
    (home / "golf_check").mkdir()
    (home / "golf_check" / "harness").symlink_to(ROOT / "harness", target_is_directory=True)
    return home


def _both_parses(exe: str, sources: list[str]) -> list:
    home = _importable_source_tree()
    try:
        proc = _report_under(exe, home, sources)
    finally:
        shutil.rmtree(home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _report_under(exe: str, home: Path, sources: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [exe, "-W", "ignore", "-c", _REPORT, str(home)],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _here(source: str) -> list:
    """What golf-check on this host makes of ``source``, as ``_REPORT`` prints it."""
    try:
        tree = parse_python(source, "s.py")
    except InputError:
        return ["error"]
    return json.loads(json.dumps(["ok", _HELPERS["shape"](tree), _HELPERS["lines"](tree)]))


ALL_SOURCES = [TWIN_LOGGING, TWIN_GENERICS, *VALID_SNIPPETS, *INVALID_SNIPPETS]


def test_acceptance_and_trees_match_cpython_313():
    exe = _interpreter("3.13")
    if exe is None:
        pytest.skip("no python3.13 on this machine")
    results = _both_parses(exe, ALL_SOURCES)
    for source, (native, _), here in zip(
        ALL_SOURCES, results, map(_here, ALL_SOURCES), strict=True
    ):
        assert native == here, source


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_every_supported_host_parses_the_newer_grammar(version):
    exe = _interpreter(version)
    if exe is None:
        pytest.skip(f"no python{version} on this machine")
    results = _both_parses(exe, ALL_SOURCES)
    for source, (_, theirs), here in zip(
        ALL_SOURCES, results, map(_here, ALL_SOURCES), strict=True
    ):
        assert theirs == here, source


def test_carriage_return_line_ends_keep_lines_in_the_rewrite():
    source = TWIN_LOGGING.replace("\n", "\r")  # old Mac line ends: a lone CR
    calls = {
        ast.unparse(n.func): n.lineno
        for n in ast.walk(parse_python(source, "s.py"))
        if isinstance(n, ast.Call)
    }
    assert calls["urllib.request.urlopen"] == _line_of(TWIN_LOGGING, "urllib.request.urlopen")
