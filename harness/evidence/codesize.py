"""Code bytes counted the way the record counted them.

Early records log ``Code size: N bytes``, the raw bytes of ``train_gpt.py``. Later ones log
``Code size (compressed): N bytes`` and count the script as a compressed, self-extracting
wrapper (maintainers accepted this: the code that runs can be shipped in that form). So the
convention is read from the log (is the figure tagged compressed?) and from the script (which
codec, which settings, which wrapper), and the figure is recomputed from the shipped files
with that same codec. The script is never run: its size function is read from the AST.

A recomputation is ``exact`` when golf-check applied the very same transformation. A script
that minifies its source before compressing (``pyminify``) cannot be reproduced here, nor can
a codec whose module is not installed: the figure is then an upper bound (the unminified
source compressed the same way) or an estimate (lzma standing in for the missing codec), and
the rules use it only to pass a record or to warn, never to fail one.
"""

from __future__ import annotations

import ast
import base64
import lzma
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.errors import InputError

CODECS = ("lzma", "zlib", "zstd", "brotli")
_MINIFIERS = ("pyminify", "python_minifier", "minify")


@dataclass
class CodeConvention:
    """How a record counted its code bytes."""

    codec: str = "raw"  # raw | lzma | zlib | zstd | brotli
    level: int | None = None  # preset / level / quality passed to the codec
    base85_wrapper: bool = False  # counted as `exec(L.decompress(B.b85decode("...")))`
    wrapper_overhead: int = 0  # bytes of the wrapper around the encoded payload
    minified: bool = False  # the source is minified before compressing
    line: int | None = None  # the script line of the size function

    def describe(self) -> str:
        if self.codec == "raw":
            return "raw bytes of the code files"
        parts = [self.codec + (f" level {self.level}" if self.level is not None else "")]
        if self.base85_wrapper:
            parts.append("base85 self-extracting wrapper")
        if self.minified:
            parts.insert(0, "minified")
        return " + ".join(parts)


@dataclass
class CodeCount:
    """The code bytes golf-check recomputed for a record under its convention."""

    convention: CodeConvention
    bytes: int  # what the code counts under the convention (helpers raw)
    exact: bool  # False: an upper bound or estimate (minifier or codec not reproducible here)
    raw_bytes: int  # the shipped files' bytes as they are
    files: list[Path] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    why_inexact: str | None = None
    bound: str = "upper bound"  # what an inexact figure is: "upper bound" or "estimate"

    def describe(self) -> str:
        how = self.convention.describe()
        return how if self.exact else f"{how}, {self.bound}: {self.why_inexact}"


def detect_convention(script: Path, logged_compressed: bool) -> CodeConvention:
    """The convention a record used: raw unless the log tagged its figure compressed, then
    the codec and wrapper of the script's code-size function (lzma + base85 by default)."""
    if not logged_compressed:
        return CodeConvention()
    try:
        from golf_check.harness.static.loader import load_script

        loaded = load_script(script)
    except InputError:
        return CodeConvention(codec="lzma", base85_wrapper=True)
    if loaded.layers:
        # Shipped already as a self-extracting wrapper: its bytes are the compressed count.
        return CodeConvention()
    return _convention_from_tree(loaded.tree) or CodeConvention(codec="lzma", base85_wrapper=True)


def _convention_from_tree(tree: ast.Module) -> CodeConvention | None:
    """The function that compresses the script's own code, read as a convention.

    Candidates take code (a name or an argument with "code" in it) and call a codec's
    ``compress``; the one named for code that builds a base85 wrapper wins over, say, a
    ``serialize(h, model, code)`` that compresses the model.
    """
    best, best_rank = None, None
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        named = "code" in node.name.lower()
        if not named and not any("code" in a.arg.lower() for a in node.args.args):
            continue
        found = _compress_call(node)
        if found is None:
            continue
        text = ast.dump(node)
        rank = (named, "b85encode" in text, any(m in text for m in _MINIFIERS))
        if best_rank is None or rank > best_rank:
            best, best_rank = (node, found, text), rank
    if best is None:
        return None
    node, (codec, level), text = best
    convention = CodeConvention(codec=codec, level=level, line=node.lineno)
    convention.minified = any(m in text for m in _MINIFIERS)
    if "b85encode" in text:
        convention.base85_wrapper = True
        convention.wrapper_overhead = _wrapper_literal_bytes(node)
    return convention


def _compress_call(func: ast.AST) -> tuple[str, int | None] | None:
    for node in ast.walk(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "compress":
            continue
        owner = ast.unparse(node.func.value).lower()
        codec = next((c for c in CODECS if c in owner), None)
        if codec is None and "zstd" in owner.replace("standard", "std"):
            codec = "zstd"
        if codec is None:
            continue
        level = None
        for kw in node.keywords:
            if kw.arg in ("preset", "level", "quality") and isinstance(kw.value, ast.Constant):
                level = kw.value.value if isinstance(kw.value.value, int) else None
        if level is None and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            level = node.args[1].value if isinstance(node.args[1].value, int) else None
        if level is None and codec == "zstd":
            level = _zstd_level(func)
        return codec, level
    return None


def _zstd_level(func: ast.AST) -> int | None:
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and "ZstdCompressor" in ast.unparse(node.func):
            for kw in node.keywords:
                if kw.arg == "level" and isinstance(kw.value, ast.Constant):
                    return kw.value.value if isinstance(kw.value.value, int) else None
    return None


def _wrapper_literal_bytes(func: ast.AST) -> int:
    """Bytes of the literal text around the payload in ``b'...' + encoded + b'...'``."""
    best = 0
    for node in ast.walk(func):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            literals = [
                n.value
                for n in ast.walk(node)
                if isinstance(n, ast.Constant) and isinstance(n.value, bytes | str)
            ]
            total = sum(len(v.encode() if isinstance(v, str) else v) for v in literals)
            if any(b"exec" in (v.encode() if isinstance(v, str) else v) for v in literals):
                best = max(best, total)
    return best


def recompute_code(
    script: Path, convention: CodeConvention, helpers: list[Path] | None = None
) -> CodeCount:
    """The code bytes under ``convention``: the script transformed as the record did, every
    helper file at its raw size (they ship as files beside the script)."""
    helpers = list(helpers or [])
    raw_script = script.read_bytes()
    helper_bytes = sum(p.stat().st_size for p in helpers)
    raw_total = len(raw_script) + helper_bytes
    files = [script, *helpers]
    if convention.codec == "raw":
        return CodeCount(convention, raw_total, True, raw_total, files)
    source = _without_comments_and_literals(raw_script) if convention.minified else raw_script
    packed = _compress(source, convention)
    why = []
    stand_in = packed is None
    if stand_in:
        # The codec's module is missing here: lzma at its strongest stands in, an estimate.
        packed = lzma.compress(source, preset=9 | lzma.PRESET_EXTREME)
        why.append(f"the {convention.codec} module is not installed, lzma stands in")
    if convention.minified:
        why.append(
            "the script minifies its source first; golf-check only drops comments and "
            "literal statements (ast.unparse), which a minifier shrinks further"
        )
    size = len(packed)
    if convention.base85_wrapper:
        size = len(base64.b85encode(packed)) + convention.wrapper_overhead
    # Compression never counts more than the raw file: nobody would ship the larger form.
    size = min(size, len(raw_script))
    return CodeCount(
        convention,
        size + helper_bytes,
        not why,
        raw_total,
        files,
        why_inexact="; ".join(why) or None,
        bound="estimate" if stand_in else "upper bound",
    )


def _without_comments_and_literals(raw: bytes) -> bytes:
    """The source re-printed without comments and bare literal statements (docstrings): what
    a minifier removes at the least, so its compressed size bounds the minified one."""
    try:
        tree = ast.parse(raw)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return raw
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept = [
            stmt
            for stmt in body
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        ]
        node.body = kept or [ast.Pass()]
    try:
        return ast.unparse(tree).encode("utf-8")
    except (ValueError, RecursionError):
        return raw


def _compress(data: bytes, convention: CodeConvention) -> bytes | None:
    level = convention.level
    if convention.codec == "lzma":
        return lzma.compress(data, preset=6 if level is None else level)
    if convention.codec == "zlib":
        return zlib.compress(data, -1 if level is None else level)
    if convention.codec == "zstd":
        try:
            import zstandard
        except ImportError:
            return None
        return zstandard.ZstdCompressor(level=3 if level is None else level).compress(data)
    if convention.codec == "brotli":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            return None
        return brotli.compress(data, quality=11 if level is None else level)
    return None
