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
import bz2
import lzma
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import InputError
from harness.static.parsing import parse_python

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


def load_script(path: str | Path) -> LoadedScript:
    """Read, decode, parse and unwrap ``path``. Raises ``InputError`` with one clear line."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a script")
        if path.exists() and not path.is_file():  # a FIFO or device would block the read
            raise InputError(f"{path}: not a regular file")
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise InputError(f"{path}: {size:,} bytes is too large for a submission script")
        raw = path.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    source = _decode_text(raw, str(path))
    tree = _parse(source, str(path))
    layers: list[str] = []
    for _ in range(MAX_LAYERS):
        if "exec" not in source:  # no wrapper possible; skip the tree walk
            break
        unwrapped = _unwrap_once(tree, str(path))
        if unwrapped is None:
            break
        inner, steps = unwrapped
        layers.extend(steps)
        source = _decode_text(inner, f"{path} (decoded payload)")
        tree = _parse(source, f"{path} (decoded payload)")
    else:
        raise InputError(f"{path}: more than {MAX_LAYERS} nested self-extracting layers")
    return LoadedScript(path=path, raw_bytes=raw, source=source, layers=layers, tree=tree)


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
        raise InputError(
            f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _parse(source: str, name: str) -> ast.Module:
    # The host's own parser first; the newer-grammar rewrite only when it refuses the file.
    return parse_python(source, name)


# --------------------------------------------------------------------------- unwrapping


def _unwrap_once(tree: ast.Module, name: str) -> tuple[bytes, list[str]] | None:
    """If the module execs a decodable literal payload, return the payload and its steps."""
    aliases: dict[str, str] | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if aliases is None:
            if not _mentions_exec(node.func):
                continue
            aliases = import_aliases(ast.walk(tree))
        if _call_name(node.func, aliases) != "exec":
            continue
        if not node.args:
            continue
        steps: list[str] = []
        try:
            value = _evaluate(node.args[0], aliases, steps)
        except _NotADecoder:
            continue
        except InputError as exc:
            raise InputError(
                f"{name}: self-extracting payload at line {node.lineno}: {exc}"
            ) from None
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes) or not steps:
            continue
        return value, steps
    return None


def _mentions_exec(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id not in ("print", "len")) or (
        isinstance(func, ast.Attribute) and func.attr == "exec"
    )


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


_B_DECODERS = {
    "base64.b85decode": ("base85", base64.b85decode),
    "base64.b64decode": ("base64", base64.b64decode),
    "base64.a85decode": ("ascii85", base64.a85decode),
    "base64.b32decode": ("base32", base64.b32decode),
    "base64.urlsafe_b64decode": ("base64", base64.urlsafe_b64decode),
    "base64.standard_b64decode": ("base64", base64.standard_b64decode),
}
_LZMA_CONSTS = {
    name: getattr(lzma, name)
    for name in dir(lzma)
    if name.startswith(("FORMAT_", "FILTER_", "CHECK_", "PRESET_"))
}


def _evaluate(node: ast.expr, aliases: dict[str, str], steps: list[str]):
    """Evaluate a pure decoding expression over literals; anything else is ``_NotADecoder``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes, int, type(None))):
        return node.value
    if isinstance(node, ast.Attribute):
        dotted = _call_name(node, aliases)
        module, _, const = dotted.rpartition(".")
        if module == "lzma" and const in _LZMA_CONSTS:
            return _LZMA_CONSTS[const]
        raise _NotADecoder
    if isinstance(node, ast.List | ast.Tuple):
        return [_evaluate(e, aliases, steps) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _NotADecoder
        return {
            _evaluate(k, aliases, steps): _evaluate(v, aliases, steps)
            for k, v in zip(node.keys, node.values, strict=True)
        }
    if not isinstance(node, ast.Call):
        raise _NotADecoder
    func = node.func
    # Method calls on a decoded value: payload.decode(), .encode()
    if isinstance(func, ast.Attribute) and func.attr in ("decode", "encode") and not node.keywords:
        target = _evaluate(func.value, aliases, steps)
        if func.attr == "decode" and isinstance(target, bytes):
            return _safe(lambda: target.decode("utf-8"), "payload is not UTF-8 text")
        if func.attr == "encode" and isinstance(target, str):
            return target.encode("utf-8")
        raise _NotADecoder
    name = _call_name(func, aliases)
    args = [_evaluate(a, aliases, steps) for a in node.args]
    kwargs = {k.arg: _evaluate(k.value, aliases, steps) for k in node.keywords if k.arg}
    if name == "compile" and args:  # compile(source, "<string>", "exec")
        return args[0]
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
