"""Load a candidate script for static analysis, unwrapping self-extracting wrappers.

Record scripts are often shipped as a two-line wrapper that decodes a base85 (or base64)
literal, decompresses it (LZMA, raw LZMA2, zlib, gzip, bz2) and ``exec``s the result, so the
counted code bytes stay small. golf-check never runs the wrapper: it recognises the decoding
chain in the AST, evaluates only those pure decoding calls on the literal payload, with a
bound on the decompressed size and on the nesting depth, and analyses the decoded source.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bisect
import bz2
import hashlib
import io
import itertools
import lzma
import re
import tokenize
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.errors import InputError
from golf_check.harness.static.parsing import parse_python

MAX_SCRIPT_BYTES = 16_000_000  # nothing legal is larger than the artifact cap itself
MAX_DECODED_BYTES = 16 * 1024 * 1024  # a payload decompressing past this is treated as a bomb
MAX_LAYERS = 8


@dataclass
class LoadedScript:
    path: Path
    raw_bytes: bytes  # the file as shipped (what counts toward the artifact)
    source: str  # the decoded, unwrapped source that actually runs
    layers: list[str] = field(default_factory=list)  # unwrapping steps, outermost first
    tree: ast.Module = field(default_factory=lambda: ast.Module(body=[], type_ignores=[]))
    nodes: list[ast.AST] | None = None  # every node of ``tree`` once something has walked it
    # With ``nodes``, from the program model: nodes by exact class, and preorder positions.
    nodes_by_type: dict[type, list[ast.AST]] | None = None
    node_index: dict[ast.AST, int] | None = None
    # Code this source runs that is packed in a form golf-check could not decode statically:
    # (the call that runs it, what it is). Reported as a warning, never silently skipped.
    undecoded: list[tuple[ast.AST, str]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def line_text(self, lineno: int | None) -> str:
        if not lineno:
            return ""
        lines = self.lines
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


class _NotADecoder(Exception):
    """The expression is not a pure decoding chain over a literal."""


# `ci` and `verify` load one script several times (its checks, its code size, the code it
# imports); a hostile script near the size bounds costs seconds each time. The last few
# outcomes are kept, keyed by the name asked for and the exact bytes read.
_RECENT: OrderedDict[tuple[str, bytes], LoadedScript | InputError] = OrderedDict()
_RECENT_SIZE = 2


def load_script(path: str | Path) -> LoadedScript:
    """Read, decode, parse and unwrap ``path``. Raises ``InputError`` with one clear line."""
    path = Path(path)
    raw = _read_script(path)
    key = (str(path), hashlib.blake2b(raw, digest_size=16).digest())
    if key in _RECENT:
        _RECENT.move_to_end(key)
        outcome = _RECENT[key]
    else:
        try:
            outcome = _load(path, raw)
        except InputError as exc:
            outcome = exc
        _RECENT[key] = outcome
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)
    if isinstance(outcome, InputError):
        raise InputError(str(outcome))
    return outcome


def _read_script(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a script")
        if path.exists() and not path.is_file():  # a FIFO or device would block the read
            raise InputError(f"{path}: not a regular file")
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise InputError(f"{path}: {size:,} bytes is too large for a submission script")
        return path.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _load(path: Path, raw: bytes) -> LoadedScript:
    source = _decode_text(raw, str(path))
    tree = _parse(source, str(path))
    layers: list[str] = []
    undecoded: list[tuple[ast.AST, str]] = []
    for _ in range(MAX_LAYERS):
        if not _may_be_wrapper(source):  # no wrapper possible; skip the tree walk
            break
        unwrapper = _Unwrapper(tree, _exec_lines(source))
        try:
            unwrapped = unwrapper.unwrap()
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        if unwrapped is None:
            undecoded = unwrapper.undecoded
            break
        inner, steps = unwrapped
        layers.extend(steps)
        source = _decode_text(inner, f"{path} (decoded payload)")
        tree = _parse(source, f"{path} (decoded payload)")
    else:
        raise InputError(f"{path}: more than {MAX_LAYERS} nested self-extracting layers")
    return LoadedScript(
        path=path, raw_bytes=raw, source=source, layers=layers, tree=tree, undecoded=undecoded
    )


def load_source(source: str, name: str = "<string>") -> LoadedScript:
    """Wrap already-decoded source text (tests, benchmarks); no unwrapping."""
    return LoadedScript(
        path=Path(name), raw_bytes=source.encode(), source=source, tree=_parse(source, name)
    )


def _decode_text(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise InputError(f"{name}: empty file, not a Python script")
    if b"\x00" in raw:
        raise InputError(f"{name}: binary file (contains NUL bytes), not a Python script")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = _declared_encoding(raw)  # PEP 263: `# -*- coding: latin-1 -*-`
        if declared is not None:
            try:
                return raw.decode(declared)
            except (UnicodeDecodeError, LookupError):
                pass
        raise InputError(
            f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _declared_encoding(raw: bytes) -> str | None:
    """The encoding a coding comment on the first two lines declares, if not UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        return None
    return None if encoding.startswith("utf-8") else encoding


def _parse(source: str, name: str) -> ast.Module:
    _bound_tree_size(source, name)
    # The host's own parser first; the newer-grammar rewrite only when it refuses the file.
    return parse_python(source, name)


# A tree costs about 1 KB of memory per node to build and model: past this many names,
# numbers, operators and brackets (outside long string literals), a source would cost
# gigabytes and minutes (a 3 KB wrapper can decode to a 15 MB flat tuple, or to a chain of
# two million `and`s). The largest real submission has about 29,000.
MAX_CODE_TOKENS = 300_000
_CODE_TOKEN = re.compile(r"\w+|[,()\[\]{}=+\-*/<>:.;@%&|^~]")
_TRIPLE_QUOTE = re.compile(r"\"\"\"|\'\'\'")
_LONG_ONE_LINE_STRING = re.compile(r"(\"|')[^\"'\n]{1000,}\1")  # each scan stops at a quote
_LONG_STRING_CHARS = 1000
_MAX_TRIPLE_STRINGS = 100_000


def _bound_tree_size(source: str, name: str) -> None:
    """Refuse, before parsing, a source whose tree would be too large to analyse. Long string
    literals (an embedded payload) are left out of the count: they parse to one node. Every
    step is linear in the source and stops early, whatever the input."""
    if len(source) <= MAX_CODE_TOKENS or _count_tokens(source) <= MAX_CODE_TOKENS:
        return  # the common case: too short, or under the bound even with literals counted
    count = _count_tokens(_without_long_strings(source))
    if count > MAX_CODE_TOKENS:
        raise InputError(
            f"{name}: too large to analyse (over {MAX_CODE_TOKENS:,} names, operators and "
            "brackets; golf-check stops there, ten times the largest real submission)"
        )


def _count_tokens(text: str) -> int:
    """Tokens of ``text``, counted only up to one past the bound."""
    return sum(1 for _ in itertools.islice(_CODE_TOKEN.finditer(text), MAX_CODE_TOKENS + 1))


def _without_long_strings(source: str) -> str:
    """``source`` with every string literal of 1,000 or more characters replaced by ``''``.
    Triple-quoted literals are paired with ``str.find`` (one forward pass: a regex with a lazy
    ``.*?`` rescans to the end for every unterminated opener)."""
    parts: list[str] = []
    pos = 0
    for _ in range(_MAX_TRIPLE_STRINGS):
        opener = _TRIPLE_QUOTE.search(source, pos)
        if opener is None:
            break
        close = source.find(opener.group(), opener.end())
        if close < 0:
            break  # unterminated: a syntax error the parser reports
        long_literal = close - opener.end() >= _LONG_STRING_CHARS
        parts.append(source[pos : opener.start()] if long_literal else source[pos : close + 3])
        if long_literal:
            parts.append("''")
        pos = close + 3
    parts.append(source[pos:])
    return _LONG_ONE_LINE_STRING.sub("''", "".join(parts))


# --------------------------------------------------------------------------- unwrapping


# A wrapper decodes something and then runs it: as ``exec``/``eval`` of the decoded text, or
# by writing it to a file that ``exec(open(path).read())``, ``runpy`` or a subprocess runs.
_DECODER_HINTS = ("decode", "decompress", "unhexlify", "fromhex")
_FILE_RUN_HINTS = ("run_path", "subprocess", "system", "Popen")  # "exec" covers the rest
_EXEC_CALLS = {"exec", "eval", "builtins.exec", "builtins.eval"}
_RUN_PATH_CALLS = {"runpy.run_path"}
_PROCESS_CALLS = {
    "os.system",
    "os.popen",
    "os.execv",
    "os.execl",
    "os.execvp",
    "os.execlp",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
}
_READ_METHODS = ("read", "read_text", "read_bytes")
_MAX_NAME_DEPTH = 16  # a payload bound to a name bound to a name ...


def _may_be_wrapper(source: str) -> bool:
    """Cheap text test before any tree walk: decodes something, and runs code (``exec``, or
    writes a file and has a way to run one)."""
    if not any(h in source for h in _DECODER_HINTS):
        return False
    if "exec" in source:
        return True
    return "write" in source and any(h in source for h in _FILE_RUN_HINTS)


class _Unwrapper:
    """Finds, in one module, code that is decoded at run time and then run, and decodes it.

    ``unwrap()`` returns the payload and its decoding steps, or ``None``; then ``undecoded``
    lists what was run but could not be decoded statically (a payload read from elsewhere,
    or computed). It searches module-level code, and the functions and classes whose lines
    hold an ``exec`` call (``exec_lines``): a stub lives there, and a long script is not
    walked whole.
    """

    def __init__(self, tree: ast.Module, exec_lines: list[int]):
        self.nodes = list(_module_level_nodes(tree, exec_lines))
        self.aliases = import_aliases(self.nodes)
        self.bindings = _single_bindings(self.nodes)
        self.undecoded: list[tuple[ast.AST, str]] = []
        self._depth = 0

    def unwrap(self) -> tuple[bytes, list[str]] | None:
        calls = [n for n in self.nodes if isinstance(n, ast.Call)]
        written: dict[str, tuple[ast.expr, ast.Call]] | None = None
        for call in calls:
            name = _call_name(call.func, self.aliases)
            if name in _EXEC_CALLS and call.args:
                source = call.args[0]
                if _is_compile(source, self.aliases):  # exec(compile(src, name, "exec"))
                    source = source.args[0]
                path = self.read_path(source)
                if path is None:
                    found = self.payload(source, call, [])
                    if found is not None:
                        return found
                    continue
            elif name in _RUN_PATH_CALLS and call.args:
                path = call.args[0]
            elif name in _PROCESS_CALLS:
                path = None  # matched against the files written below
            else:
                continue
            if written is None:
                written = self.written_files(calls)
            for key, (data, write) in written.items():
                if path is not None and self.path_key(path) != key:
                    continue
                if path is None and not self.mentions(call, key):
                    continue
                found = self.payload(data, write, [])
                if found is not None:
                    payload, steps = found
                    return payload, [*steps, f"file {key}"]
        return None

    # ------------------------------------------------------------------ payloads

    def payload(self, expr: ast.expr, where: ast.AST, steps: list[str]):
        try:
            value = self.evaluate(expr, steps)
        except _NotADecoder:
            if _calls_a_decoder(expr, self.aliases, self.bindings):
                self.undecoded.append((where, ast.unparse(expr)[:80]))
            return None
        except InputError as exc:
            raise InputError(
                f"self-extracting payload at line {where.lineno}: {exc}"  # type: ignore[attr-defined]
            ) from None
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes) or not steps:
            return None
        return value, steps

    def evaluate(self, node: ast.expr, steps: list[str]):
        if isinstance(node, ast.Name) and node.id in self.bindings:
            if self._depth >= _MAX_NAME_DEPTH:
                raise _NotADecoder
            self._depth += 1
            try:
                return self.evaluate(self.bindings[node.id], steps)
            finally:
                self._depth -= 1
        return _evaluate(node, self.aliases, steps, self.evaluate)

    # ------------------------------------------------------------------ files

    def written_files(self, calls: list[ast.Call]) -> dict[str, tuple[ast.expr, ast.Call]]:
        """Path key -> (data written, the write call) for ``open(p, "w").write(data)``,
        ``with open(p, "wb") as f: f.write(data)`` and ``Path(p).write_bytes(data)``."""
        out: dict[str, tuple[ast.expr, ast.Call]] = {}
        for call in calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and call.args):
                continue
            target = func.value
            if isinstance(target, ast.Name) and target.id in self.bindings:
                target = self.bindings[target.id]
            if not isinstance(target, ast.Call) or not target.args:
                continue
            opener = _call_name(target.func, self.aliases)
            if func.attr == "write" and opener in ("open", "io.open", "codecs.open"):
                out[self.path_key(target.args[0])] = (call.args[0], call)
            elif func.attr in ("write_bytes", "write_text") and opener.endswith("Path"):
                out[self.path_key(target.args[0])] = (call.args[0], call)
        return out

    def read_path(self, node: ast.expr) -> ast.expr | None:
        """The path of ``open(p).read()`` / ``Path(p).read_text()``, else ``None``."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _READ_METHODS
        ):
            return None
        opened = node.func.value
        if isinstance(opened, ast.Name) and opened.id in self.bindings:
            opened = self.bindings[opened.id]
        if isinstance(opened, ast.Call) and opened.args:
            opener = _call_name(opened.func, self.aliases)
            if opener in ("open", "io.open", "codecs.open") or opener.endswith("Path"):
                return opened.args[0]
        return None

    def path_key(self, node: ast.expr) -> str:
        """A written or read path: its text when it is a literal (or a name bound to one),
        else the expression itself (``tempfile.mktemp()`` bound to ``p`` is ``p``)."""
        while isinstance(node, ast.Name) and node.id in self.bindings:
            bound = self.bindings[node.id]
            if not (isinstance(bound, ast.Constant) or isinstance(bound, ast.Name)):
                return node.id
            node = bound
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return ast.unparse(node)

    def mentions(self, call: ast.Call, key: str) -> bool:
        """Whether a subprocess call runs the written file with Python (``[sys.executable,
        p]``, ``os.system("python x.py")``); other commands that name a file do not count."""
        named, python = False, key.endswith(".py")
        for sub in ast.walk(call):
            if isinstance(sub, ast.Name) and self.path_key(sub) == key:
                named = True
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                named = named or key in sub.value.split()
                python = python or sub.value.split(" ")[0].rpartition("/")[2].startswith("python")
            elif (
                isinstance(sub, ast.Attribute) and _call_name(sub, self.aliases) == "sys.executable"
            ):
                python = True
        return named and python


_EXEC_CALL_TEXT = re.compile(r"exec\s*\(")


def _exec_lines(source: str) -> list[int]:
    """Lines on which the text ``exec(`` appears (in code or not), but not a method such as
    ``engine.exec()``. (``eval`` of a payload is looked for at module level only: training
    scripts are full of ``eval(`` names.)"""
    out: list[int] = []
    line, counted = 1, 0
    for match in _EXEC_CALL_TEXT.finditer(source):
        start = match.start()
        before = source[start - 1 : start]
        if before and (before.isalnum() or before in "._"):
            continue
        line += source.count("\n", counted, start)
        counted = start
        out.append(line)
    return out


def _module_level_nodes(tree: ast.Module, exec_lines: list[int]):
    """Every node outside function and class bodies (where a wrapper's stub lives), and
    inside those whose lines hold an ``exec`` call."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            i = bisect.bisect_left(exec_lines, first)
            if not (i < len(exec_lines) and exec_lines[i] <= node.end_lineno):
                continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _single_bindings(nodes: list[ast.AST]) -> dict[str, ast.expr]:
    """Names bound exactly once (``payload = "..."``, ``with open(p) as f``) -> their value."""
    seen: dict[str, list[ast.expr]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                seen.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                seen.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    seen.setdefault(item.optional_vars.id, []).append(item.context_expr)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


def _is_compile(node: ast.expr, aliases: dict[str, str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and _call_name(node.func, aliases) in ("compile", "builtins.compile")
        and bool(node.args)
    )


def _calls_a_decoder(node: ast.expr, aliases: dict[str, str], bindings, depth: int = 0) -> bool:
    """Whether an expression (following bound names) decodes or decompresses something."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = _call_name(sub.func, aliases)
            last = name.rpartition(".")[2] or (
                sub.func.attr if isinstance(sub.func, ast.Attribute) else ""
            )
            if (
                name in _B_DECODERS
                or last in ("decompress", "unhexlify", "fromhex")
                or (last.endswith("decode") and last != "decode")
            ):
                return True
        elif isinstance(sub, ast.Name) and sub.id in bindings and depth < _MAX_NAME_DEPTH:
            if _calls_a_decoder(bindings[sub.id], aliases, bindings, depth + 1):
                return True
    return False


def import_aliases(nodes: Iterable[ast.AST]) -> dict[str, str]:
    """Local name -> dotted origin over the import statements among ``nodes``: ``L`` ->
    ``lzma``, ``b85decode`` -> ``base64.b85decode``. ``import a.b`` binds ``a`` itself (so
    ``a.b.f`` stays ``a.b.f``); only ``import a.b as c`` binds ``c`` to ``a.b``."""
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _call_name(func: ast.expr, aliases: dict[str, str]) -> str:
    """Dotted name of a callee with import aliases resolved (``L.decompress`` -> ``lzma.decompress``)."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(aliases.get(func.id, func.id))
        return ".".join(reversed(parts))
    return ""


# The decoders a stub may call, by the encoding each undoes, under the dotted names a script
# calls them by; each name is evaluated with the function it names.
_DECODER_NAMES = {
    "base85": ("base64.b85decode",),
    "ascii85": ("base64.a85decode",),
    "base32": ("base64.b32decode",),
    "base16": ("base64.b16decode",),
    "base64": (
        "base64.b64decode",
        "base64.urlsafe_b64decode",
        "base64.standard_b64decode",
        "base64.decodebytes",
        "binascii.a2b_base64",
    ),
    "hex": ("binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex"),
}
_DECODER_OWNERS = {"base64": base64, "binascii": binascii, "bytes": bytes}
_B_DECODERS = {
    name: (encoding, getattr(_DECODER_OWNERS[name.split(".")[0]], name.split(".")[1]))
    for encoding, names in _DECODER_NAMES.items()
    for name in names
}
_LZMA_CONSTS = {
    name: getattr(lzma, name)
    for name in dir(lzma)
    if name.startswith(("FORMAT_", "FILTER_", "CHECK_", "PRESET_"))
}
# Pure text methods a stub applies to its payload before decoding it (``s.replace(b"\n",
# b"")``, ``"".join(s.split())``); evaluated on literals only, and size-checked.
_TEXT_METHODS = {"replace", "strip", "lstrip", "rstrip", "split", "join", "decode", "encode"}


def _evaluate(node: ast.expr, aliases: dict[str, str], steps: list[str], ev=None):
    """Evaluate a pure decoding expression over literals; anything else is ``_NotADecoder``.
    ``ev`` evaluates sub-expressions (the unwrapper passes one that follows bound names)."""
    if ev is None:

        def ev(sub, steps):
            return _evaluate(sub, aliases, steps)

    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes, int, type(None))):
        return node.value
    if isinstance(node, ast.Attribute):
        dotted = _call_name(node, aliases)
        module, _, const = dotted.rpartition(".")
        if module == "lzma" and const in _LZMA_CONSTS:
            return _LZMA_CONSTS[const]
        raise _NotADecoder
    if isinstance(node, ast.List | ast.Tuple):
        return [ev(e, steps) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _NotADecoder
        return {ev(k, steps): ev(v, steps) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # payload split in parts
        left, right = ev(node.left, steps), ev(node.right, steps)
        if type(left) is not type(right) or not isinstance(left, str | bytes):
            raise _NotADecoder
        _check_size(len(left) + len(right))
        return left + right
    if not isinstance(node, ast.Call):
        raise _NotADecoder
    func = node.func
    name = _call_name(func, aliases)
    if isinstance(func, ast.Attribute) and func.attr in _TEXT_METHODS and name not in _B_DECODERS:
        target = ev(func.value, steps)
        args = [ev(a, steps) for a in node.args]
        if node.keywords or not isinstance(target, str | bytes):
            raise _NotADecoder
        return _text_method(target, func.attr, args)
    args = [ev(a, steps) for a in node.args]
    kwargs = {k.arg: ev(k.value, steps) for k in node.keywords if k.arg}
    if name in ("compile", "builtins.compile") and args:  # compile(source, "<string>", "exec")
        return args[0]
    if name in ("bytes", "str") and len(args) in (2, 3):  # bytes(text, "utf-8")
        value, encoding = args[0], args[1]
        if name == "bytes" and isinstance(value, str) and isinstance(encoding, str):
            return _safe(lambda: value.encode(encoding), "payload cannot be encoded")
        if name == "str" and isinstance(value, bytes) and isinstance(encoding, str):
            return _safe(lambda: value.decode(encoding), "payload is not text")
        raise _NotADecoder
    if name in _B_DECODERS and args:
        label, fn = _B_DECODERS[name]
        steps.append(label)
        return _safe(lambda: fn(args[0]), f"{label} payload is corrupt")
    if name == "lzma.decompress" and args:
        return _lzma(args[0], kwargs, steps)
    if name in ("zlib.decompress", "gzip.decompress") and args:
        wbits = (
            31
            if name.startswith("gzip")
            else (args[1] if len(args) > 1 else kwargs.get("wbits", 15))
        )
        steps.append("gzip" if wbits in (31,) or name.startswith("gzip") else "zlib")
        return _bounded(
            zlib.decompressobj(wbits if isinstance(wbits, int) else 15), args[0], "zlib"
        )
    if name == "bz2.decompress" and args:
        steps.append("bz2")
        return _bounded(bz2.BZ2Decompressor(), args[0], "bz2")
    raise _NotADecoder


def _text_method(target: str | bytes, method: str, args: list):
    kind = type(target)
    if method == "decode":
        if kind is not bytes or len(args) > 1 or (args and not isinstance(args[0], str)):
            raise _NotADecoder
        encoding = args[0] if args else "utf-8"
        return _safe(lambda: target.decode(encoding), "payload is not UTF-8 text")
    if method == "encode":
        if kind is not str or len(args) > 1 or (args and not isinstance(args[0], str)):
            raise _NotADecoder
        encoding = args[0] if args else "utf-8"
        return _safe(lambda: target.encode(encoding), "payload cannot be encoded")
    if method == "join":  # sep.join(parts)
        if len(args) != 1 or not isinstance(args[0], list):
            raise _NotADecoder
        if not all(type(part) is kind for part in args[0]):
            raise _NotADecoder
        _check_size(sum(map(len, args[0])) + len(target) * max(len(args[0]) - 1, 0))
        return target.join(args[0])
    if not all(type(a) is kind or a is None for a in args):
        raise _NotADecoder
    if method == "replace" and len(args) == 2 and None not in args:
        old, new = args
        hits = target.count(old) if old else len(target) + 1
        _check_size(len(target) + hits * (len(new) - len(old)))
        return target.replace(old, new)
    if method in ("strip", "lstrip", "rstrip", "split") and len(args) <= 1:
        return getattr(target, method)(*args)
    raise _NotADecoder


def _check_size(size: int) -> None:
    """Refuse, before building it, text that would grow past the decoded-size cap."""
    if size > MAX_DECODED_BYTES:
        raise InputError(
            f"payload text grows past {MAX_DECODED_BYTES // (1024 * 1024)} MB "
            "(refusing a possible decompression bomb)"
        )


def _lzma(data, kwargs: dict, steps: list[str]) -> bytes:
    fmt = kwargs.get("format", lzma.FORMAT_AUTO)
    filters = kwargs.get("filters")
    if fmt == lzma.FORMAT_RAW:
        ids = {f.get("id") for f in filters or [] if isinstance(f, dict)}
        steps.append("lzma-raw-lzma2" if lzma.FILTER_LZMA2 in ids else "lzma-raw")
    else:
        steps.append("lzma")
    try:
        decomp = lzma.LZMADecompressor(format=fmt, filters=filters)
    except (lzma.LZMAError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"lzma settings are invalid ({exc})") from None
    return _bounded(decomp, data, "lzma")


def _bounded(decomp, data, label: str) -> bytes:
    if not isinstance(data, bytes):
        raise _NotADecoder
    try:
        if isinstance(decomp, bz2.BZ2Decompressor) or isinstance(decomp, lzma.LZMADecompressor):
            out = decomp.decompress(data, max_length=MAX_DECODED_BYTES + 1)
        else:
            out = decomp.decompress(data, MAX_DECODED_BYTES + 1)
    except (lzma.LZMAError, OSError, EOFError, ValueError, zlib.error) as exc:
        raise InputError(f"{label} payload is corrupt ({exc})") from None
    if len(out) > MAX_DECODED_BYTES:
        raise InputError(
            f"{label} payload decompresses past {MAX_DECODED_BYTES // (1024 * 1024)} MB "
            "(refusing a possible decompression bomb)"
        )
    if not decomp.eof:
        raise InputError(f"{label} payload is truncated (the compressed stream does not end)")
    return out


def _safe(fn, message: str):
    try:
        return fn()
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(f"{message} ({exc})") from None
