"""The program model: the facts about one script that every static detector asks about.

Built once per script from its (unwrapped) AST. Detectors never re-walk the tree for these
questions; they ask the model:

* functions, their call sites in source order, and who calls whom (by simple name, which is
  what a reader of a single-file script would assume);
* loops and loop nesting (``enclosing_loops``);
* statements that run with gradients off (``grad_disabled``: ``torch.no_grad()`` /
  ``torch.inference_mode()`` as context managers or decorators);
* gradient updates (``backward_sites``: ``.backward()`` calls, with the optimizer ``.step()``
  beside them) and scoring (``scoring_sites``: loss/byte accumulators under no-grad, and calls
  to functions that contain them);
* where validation tokens come from and where they flow (``is_val``: a flow-insensitive taint
  over assignments, slices, calls and function parameters), and likewise for target tokens
  (``is_target``);
* environment-variable defaults (``model.env``, see ``settings``) and which code they gate
  (``default_state``: whether a statement runs in the default configuration).

The analysis is deliberately simple and says so: it sees one file, resolves calls by name,
and treats a variable as tainted if any assignment to it is. Detectors set their confidence
accordingly.
"""

from __future__ import annotations

import ast

from golf_check.harness.static.gates import Gate, Gates
from golf_check.harness.static.loader import LoadedScript, import_aliases
from golf_check.harness.static.scoring import Scoring, accumulated  # noqa: F401  (re-exported)
from golf_check.harness.static.settings import UNKNOWN, Settings, dotted  # noqa: F401  (re-exported)
from golf_check.harness.static.structure import CallSite, FunctionInfo, Structure  # noqa: F401
from golf_check.harness.static.taint import Taint
from golf_check.harness.static.vocabulary import (  # noqa: F401  (re-exported)
    QUANT_OR_SAVE,
    SCORE_ACCUMULATOR,
    SCORE_BUFFER,
    SCORING_FUNC,
    TARGET_NAME,
    TRAIN_NAME,
    TRAIN_STRING,
    VAL_NAME,
    VAL_STRING,
    callee_name,
)


class ProgramModel(Structure, Taint, Scoring, Gates):
    """The facts about one script, built once: structure (``structure``), taint
    (``taint``), updates and scoring (``scoring``) and configuration gates (``gates``)."""

    def __init__(self, script: LoadedScript, display_path: str | None = None) -> None:
        self.script = script
        self.tree = script.tree
        self.path = display_path or str(script.path)
        self.parents: dict[ast.AST, ast.AST] = {}
        self.nodes: list[ast.AST] = []  # every node, depth-first preorder
        self._index: dict[ast.AST, int] = {}
        self._end: dict[ast.AST, int] = {}  # subtree of node = nodes[_index:_end]
        self._scope: dict[ast.AST, FunctionInfo | None] = {}
        self._types: dict[type, list[ast.AST]] = {}  # nodes by exact AST class
        self.functions: list[FunctionInfo] = []
        self.by_name: dict[str, list[FunctionInfo]] = {}
        self._func_of_node: dict[ast.AST, FunctionInfo] = {}
        self._index_tree()
        # Shared with codefiles, which would otherwise re-walk.
        script.nodes, script.nodes_by_type, script.node_index = self.nodes, self._types, self._index
        self.aliases = import_aliases(self.of_type(ast.Import, ast.ImportFrom))
        self.call_sites: list[CallSite] = []
        self.calls_to: dict[str, list[CallSite]] = {}
        self._collect_calls()
        self.env = Settings(self)
        self._val: dict[FunctionInfo | None, set[str]] = {}
        self._target: dict[FunctionInfo | None, set[str]] = {}
        self._assigned: dict[FunctionInfo | None, dict[str, list[ast.expr]]] = {}
        self._data: dict[int, tuple[frozenset[str], bool, bool, bool]] = {}
        self._reads_val: dict[str, bool] = {}
        self._val_params: dict[str, frozenset[str] | None] = {}
        self._resolved: dict[int, str] = {}  # id(callee expression) -> resolved dotted name
        self._reaching: dict[tuple[ast.AST, int], bool] = {}  # is_val_reaching, memoized
        self._texts: dict[ast.AST, str] = {}  # unparse, memoized
        self._intrinsic: dict[tuple[FunctionInfo, bool], bool] = {}
        self._callees: dict[int, list[FunctionInfo]] = {}  # script_callees, memoized
        self._edges: list | None = None  # taint edges, built by the first propagation
        self._mentions: dict[tuple, list] = {}
        self._calling: dict[str, list] = {}  # function name -> taint edges that call it
        self._collect_assignments()
        self._returns = self._collect_returns()
        self._propagate_taint()
        self._scoring_funcs = self._find_scoring_functions()
        self._all_scoring_sites = self._collect_scoring_sites()
        self._gate_cache: dict[int, Gate] = {}
        self._func_gate_cache: dict[str, Gate] = {}


def resolved_name(model: ProgramModel, func: ast.AST) -> str:
    """Dotted callee with import aliases resolved (``hf.snapshot_download`` ->
    ``huggingface_hub.snapshot_download``)."""
    cache = model._resolved
    key = id(func)
    if key not in cache:
        name = dotted(func)
        head, _, rest = name.partition(".")
        origin = model.aliases.get(head)
        cache[key] = (f"{origin}.{rest}" if rest else origin) if origin else name
    return cache[key]
