"""Parse any script CPython 3.10 to 3.13 accepts, whatever Python golf-check itself runs on.

``ast.parse`` only knows the host interpreter's grammar, so on Python 3.11 a record written
for 3.12 (PEP 701 f-strings: ``f"{d["k"]}"``, backslashes or comments inside a replacement
field; PEP 695 type parameters; PEP 696 defaults) would be refused as a syntax error. When, and
only when, the host refuses a file, :func:`parse_python` rewrites the newer constructs into
host-parseable text that keeps every line where it was, parses that, and rebuilds the
f-string nodes, so every finding keeps its exact line number:

* each f-string (with the literals it is implicitly concatenated with) becomes a marker call
  over its replacement-field expressions, ``__golf_check_fstring__(K, (expr), ...)``, with the
  newlines of the literal text kept between the arguments; the literal text and the
  conversions and format specs are parsed separately from a skeleton (``f"a{0!r:>{1}}"``) and
  the marker call is turned back into the ``JoinedStr`` the newer parser would build;
* type parameter lists (``def f[T](x)``, ``class C[T]:``) are blanked, and ``type X = v``
  becomes ``X = v``; on Python 3.10, ``except*`` becomes ``except``.

Column offsets on a rewritten line may differ; line numbers never do. A file the newer
grammar rejects too is a syntax error, reported with its line. Not rewritten: PEP 646 star
expressions (``a[*b]``, ``*args: *Ts``), which a Python 3.10 host still refuses.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
import warnings

from golf_check.harness.errors import InputError

FSTRING_MARK = "__golf_check_fstring__"
_CONVERSIONS = {"s", "r", "a"}

# The tokens the rewriter must see; everything between them is copied in bulk. A prefix
# counts only at the start of a word; a quote right after a word (``if'x'``) opens a string.
_TOKEN_PARTS = r"""
    (?P<string>(?:(?<!\w)(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF]))?(?:'''|\"\"\"|'|"))
    | (?P<keyword>(?<![\w.])(?:def|class|type|except)(?!\w))
    | (?P<comment>\#[^\r\n]*)
"""
_TOKEN = re.compile(_TOKEN_PARTS + r"| (?P<op>[(\[{)\]}])", re.VERBOSE)
# Inside a replacement field ``!``, ``:`` and ``=`` end the expression at depth 0.
_FIELD_TOKEN = re.compile(_TOKEN_PARTS + r"| (?P<op>[!=<>]=|[(\[{)\]}!:=])", re.VERBOSE)
_SPACE = re.compile(r"(?:[ \t\f]|\\\r?\n)*")
_GAP = re.compile(r"(?:[ \t\f\r\n]|\\\r?\n|\#[^\r\n]*)*")  # between literals inside brackets
_NAME = re.compile(r"[^\W\d]\w*")
_COMMENT = re.compile(r"\#[^\r\n]*")


class _Reject(Exception):
    """The text is not valid in the newer grammar either."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def parse_python(source: str, name: str) -> ast.Module:
    """Parse ``source``; raise ``InputError`` (one line) only for a real syntax error."""
    try:
        return ast.parse(source, filename=name)
    except SyntaxError as exc:
        host_error = exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"{name}: cannot parse: {exc}") from None
    try:
        return parse_newer_grammar(source, name)
    except _Reject as exc:
        raise InputError(f"{name}: syntax error at line {exc.line}: {exc}") from None
    except SyntaxError as exc:  # the rewrite keeps lines, so this error's line is the file's
        raise InputError(f"{name}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise InputError(
            f"{name}: syntax error at line {host_error.lineno}: {host_error.msg}"
        ) from None


def parse_newer_grammar(source: str, name: str = "<string>") -> ast.Module:
    """Rewrite newer-grammar constructs to host-parseable text (same lines), parse, restore."""
    if "\r" in source:  # the parser counts a lone CR as a line break: so must the rewrite
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    rewriter = _Rewriter(source)
    text = rewriter.rewrite()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes were already warned about, or not
        tree = ast.parse(text, filename=name)
    if rewriter.groups:
        _restore_fstrings(tree, rewriter, _marker_positions(text))
    return tree


# --------------------------------------------------------------------------- rewriting


class _Group:
    """One f-string with the literals implicitly concatenated to it."""

    def __init__(self):
        self.fields = 0  # replacement fields so far; field N is argument N + 1 of the call
        self.skeleton: list[str] = []  # host-parseable literal text, fields as {N}
        self.parts: list[str] = []  # what the marker call gets: newlines and (expr) args
        self.debug: dict[int, str] = {}  # field -> the ``expr=`` text a debug field prints
        self.specs: dict[int, ast.JoinedStr] = {}  # field -> its format spec, parsed apart
        self.tree: ast.expr | None = None  # the skeleton parsed (all groups in one go)
        self.start = 0  # where the group starts in the source


class _Rewriter:
    def __init__(self, source: str):
        self.src = source
        self.n = len(source)
        self.groups: list[_Group] = []

    def line(self, pos: int) -> int:
        return self.src.count("\n", 0, pos) + 1

    def rewrite(self) -> str:
        out, end, _ = self.code(0, in_field=False)
        if end != self.n:
            raise _Reject(self.line(end), "unmatched closing bracket")
        self.parse_skeletons()
        return out

    def parse_skeletons(self) -> None:
        """Parse every group's skeleton in one call; on an error, find the group at fault."""
        if not self.groups:
            return
        text = "\n".join("(" + "".join(g.skeleton) + ")" for g in self.groups)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                body = ast.parse(text).body
        except SyntaxError:
            for group in self.groups:
                self.skeleton_tree(group, group.start)
            raise _Reject(self.line(self.groups[0].start), "invalid f-string") from None
        for group, statement in zip(self.groups, body, strict=True):
            group.tree = statement.value

    # ----------------------------------------------------------------- code

    def code(self, pos: int, in_field: bool) -> tuple[str, int, str]:
        """Copy code from ``pos``, rewriting literals, until the end or (inside a replacement
        field) a ``}``, ``!``, ``:`` or ``=`` at bracket depth 0. Returns the rewritten text,
        the position of the terminator and the terminator."""
        src, out, depth = self.src, [], 0
        token = _FIELD_TOKEN if in_field else _TOKEN
        while True:
            m = token.search(src, pos)
            if m is None:
                out.append(src[pos:])
                if in_field:
                    raise _Reject(self.line(self.n), "f-string: expecting '}'")
                return "".join(out), self.n, ""
            out.append(src[pos : m.start()])
            kind, tok = m.lastgroup, m.group()
            pos = m.end()
            if kind == "string":
                text, pos = self.literals(m.start(), depth > 0 or in_field)
                out.append(text)
            elif kind == "keyword":
                text, pos = self.keyword(tok, m.start(), pos, depth)
                out.append(text)
            elif kind == "comment":
                out.append(tok)
            elif tok in "([{":
                depth += 1
                out.append(tok)
            elif tok in ")]}":
                if depth == 0:
                    if in_field and tok == "}":
                        return "".join(out), m.start(), tok
                    if not in_field:
                        return "".join(out), m.start(), tok
                    raise _Reject(self.line(m.start()), f"f-string: unmatched '{tok}'")
                depth -= 1
                out.append(tok)
            elif in_field and depth == 0 and tok in ("!", ":", "="):
                return "".join(out), m.start(), tok
            else:
                out.append(tok)

    def keyword(self, word: str, start: int, pos: int, depth: int) -> tuple[str, int]:
        """Blank type parameter lists, turn ``type X = v`` into ``X = v``, and on 3.10 turn
        ``except*`` into ``except``."""
        src = self.src
        if word == "except":
            star = _SPACE.match(src, pos).end()
            if sys.version_info < (3, 11) and src.startswith("*", star):
                return word + src[pos:star] + " ", star + 1  # no TryStar node before 3.11
            return word, pos
        gap = _SPACE.match(src, pos).end()
        name = _NAME.match(src, gap)
        if name is None or depth:
            return word, pos
        after = _SPACE.match(src, name.end()).end()
        if word == "type":
            line_start = src.rfind("\n", 0, start) + 1
            before = src[line_start:start].rstrip()
            if before and not before.endswith((";", ":")):
                return word, pos
            params_end = self.bracket_end(after) if src.startswith("[", after) else after
            eq = _SPACE.match(src, params_end).end()
            if not src.startswith("=", eq) or src.startswith("==", eq):
                return word, pos
            # ``type X[T] = v`` -> ``X = v``: the name moves left, the rest is blanked
            head = name.group() + _blank(src[start + len(name.group()) : name.end()])
            return head + _blank(src[name.end() : params_end]), params_end
        if not src.startswith("[", after):  # def / class without type parameters
            return word + src[pos : name.end()], name.end()
        end = self.bracket_end(after)
        return word + src[pos:after] + _blank(src[after:end]), end

    def bracket_end(self, pos: int) -> int:
        """Position just past the ``]`` matching the ``[`` at ``pos``."""
        _, end, tok = self.code(pos + 1, in_field=False)
        if tok != "]":
            raise _Reject(self.line(pos), "'[' was never closed")
        return end + 1

    # ----------------------------------------------------------------- literals

    def literals(self, start: int, in_brackets: bool) -> tuple[str, int]:
        """A run of implicitly concatenated literals starting at ``start``: copied as they
        are, or, if one of them is an f-string, replaced by one marker call."""
        src = self.src
        pieces: list[tuple[int, int, bool]] = []  # (start, end, is_f)
        pos = start
        gap_re = _GAP if in_brackets else _SPACE
        while True:
            literal = _string_literal(src, pos)
            if literal is None:
                break
            m, prefix, quote = literal
            is_f = "f" in prefix.lower()
            end = self.skip_plain(m.end(), quote) if not is_f else -1
            pieces.append((m.start(), end, is_f))
            if is_f:
                break  # f-strings are scanned by the group below
            pos = _skip_gap(gap_re, src, end)
        if not any(is_f for _, _, is_f in pieces):
            last = pieces[-1][1]
            return src[start:last], last
        return self.fstring_group(start, in_brackets)

    def skip_plain(self, pos: int, quote: str) -> int:
        """Position just past the closing quote of a plain (non-f) literal (a backslash
        escapes the quote in raw literals too)."""
        src = self.src
        while True:
            hit = src.find(quote, pos)
            nl = src.find("\n", pos) if len(quote) == 1 else -1
            if hit < 0 or (0 <= nl < hit and not _escaped(src, nl)):
                raise _Reject(self.line(pos), "unterminated string literal")
            if not _escaped(src, hit):
                return hit + len(quote)
            pos = hit + 1

    def fstring_group(self, start: int, in_brackets: bool) -> tuple[str, int]:
        src = self.src
        group = _Group()
        self.groups.append(group)
        index = len(self.groups) - 1
        gap_re = _GAP if in_brackets else _SPACE
        pos = start
        while True:
            literal = _string_literal(src, pos)
            if literal is None:
                break
            m, prefix, quote = literal
            if "f" in prefix.lower():
                group.skeleton.append(prefix + quote)
                pos = self.fstring_body(group, m.end(), quote, "r" in prefix.lower(), level=0)
                group.skeleton.append(quote)
            else:
                end = self.skip_plain(m.end(), quote)
                group.skeleton.append(src[m.start() : end])
                group.parts.append("\n" * src.count("\n", m.start(), end))
                pos = end
            gap_end = _skip_gap(gap_re, src, pos)
            if _string_literal(src, gap_end) is None:
                break
            group.skeleton.append(" ")
            group.parts.append("\n" * src.count("\n", pos, gap_end))  # comments dropped
            pos = gap_end
        group.start = start
        return f"{FSTRING_MARK}({index}{''.join(group.parts)})", pos

    def fstring_body(self, group: _Group, pos: int, quote: str, raw: bool, level: int) -> int:
        """Scan literal text from ``pos``: an f-string body (``level`` 0) or a format spec
        nested ``level`` deep. Returns the position after the closing quote (body) or at
        the closing ``}`` (spec)."""
        src, n = self.src, self.n
        spec = level > 0
        triple = len(quote) == 3
        lit_start = pos
        while True:
            if pos >= n:
                raise _Reject(self.line(lit_start), "unterminated f-string literal")
            c = src[pos]
            if c == "\\":
                nxt = src[pos + 1 : pos + 2]
                if not raw and nxt == "N" and src.startswith("{", pos + 2):
                    close = src.find("}", pos + 3)
                    if close < 0:
                        raise _Reject(self.line(pos), "unterminated \\N{...} escape")
                    pos = close + 1
                elif nxt in ("{", "}", ""):
                    pos += 1
                else:
                    pos += 2
                continue
            if src.startswith(quote, pos):
                if spec:
                    raise _Reject(self.line(pos), "f-string: expecting '}'")
                self.keep_literal(group, lit_start, pos)
                return pos + len(quote)
            if c == "\n" and not triple:
                raise _Reject(self.line(pos), "unterminated f-string literal")
            if c == "{":
                if not spec and src.startswith("{", pos + 1):
                    pos += 2
                    continue
                self.keep_literal(group, lit_start, pos)
                pos = self.field(group, pos + 1, quote, raw, level)
                lit_start = pos
                continue
            if c == "}":
                if spec:
                    self.keep_literal(group, lit_start, pos)
                    return pos
                if src.startswith("}", pos + 1):
                    pos += 2
                    continue
                raise _Reject(self.line(pos), "f-string: single '}' is not allowed")
            pos += 1

    def keep_literal(self, group: _Group, start: int, end: int) -> None:
        text = self.src[start:end]
        group.skeleton.append(text)
        lines = text.count("\n")
        if lines:
            group.parts.append("\n" * lines)

    def field(self, group: _Group, pos: int, quote: str, raw: bool, level: int) -> int:
        """A replacement field whose ``{`` is just before ``pos``; returns the position after
        its ``}``."""
        src = self.src
        number = group.fields
        group.fields += 1
        expr_start = pos
        expr, pos, tok = self.code(pos, in_field=True)
        raw_expr = src[expr_start:pos]
        if not _has_code(raw_expr):
            raise _Reject(self.line(pos), "f-string: valid expression required before '}'")
        group.parts.append(f", ({expr})")
        skeleton = [f"{{{number}"]
        if tok == "=":
            after = _GAP.match(src, pos + 1).end()
            gap = src[pos:after]
            group.debug[number] = raw_expr + _COMMENT.sub("", gap)  # comments are not printed
            group.parts.append("\n" * gap.count("\n"))
            pos = after
            tok = src[pos : pos + 1]
            if tok not in ("!", ":", "}"):
                raise _Reject(self.line(pos), "f-string: expecting '!', or ':', or '}'")
        conversion = ""
        if tok == "!":
            conv = _NAME.match(src, pos + 1)
            if conv is None or conv.group() not in _CONVERSIONS:
                raise _Reject(self.line(pos), "f-string: invalid conversion character")
            conversion = conv.group()
            pos = _GAP.match(src, conv.end()).end()
            group.parts.append("\n" * src.count("\n", conv.end(), pos))
            tok = src[pos : pos + 1]
            if tok not in (":", "}"):
                raise _Reject(self.line(pos), "f-string: expecting ':' or '}'")
        if number in group.debug and not conversion and tok != ":":
            conversion = "r"  # a debug field prints the repr unless it has a format spec
        if conversion:
            skeleton.append("!" + conversion)
        group.skeleton.append("".join(skeleton))
        if tok == ":":
            if level >= 2:
                raise _Reject(self.line(pos), "f-string: expressions nested too deeply")
            if level == 0:
                group.skeleton.append(":")
                pos = self.fstring_body(group, pos + 1, quote, raw, level + 1)
            else:  # the host may allow one level of nested specs only: parse this one apart
                outer, group.skeleton = group.skeleton, [("rf" if raw else "f") + quote + "{0:"]
                pos = self.fstring_body(group, pos + 1, quote, raw, level + 1)
                group.skeleton.append("}" + quote)
                spec_of = self.skeleton_tree(group, pos)
                group.specs[number] = spec_of.values[0].format_spec
                group.skeleton = outer
        group.skeleton.append("}")
        return pos + 1

    def skeleton_tree(self, group: _Group, start: int) -> ast.expr:
        text = "(" + "".join(group.skeleton) + ")"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise _Reject(self.line(start), exc.msg) from None


def _string_literal(src: str, pos: int) -> tuple[re.Match[str], str, str] | None:
    """The string literal token at ``pos`` with its prefix (``rb``, ``f``...) and its quote
    (one or three quote characters), or None when the token there is something else."""
    m = _TOKEN.match(src, pos)
    if m is None or m.lastgroup != "string":
        return None
    prefix = m.group().rstrip("'\"")
    return m, prefix, m.group()[len(prefix) :]


def _skip_gap(gap_re: re.Pattern, src: str, pos: int) -> int:
    return gap_re.match(src, pos).end()


def _escaped(src: str, pos: int) -> bool:
    """Whether the character at ``pos`` follows an odd run of backslashes."""
    count = 0
    while pos > 0 and src[pos - 1] == "\\":
        count += 1
        pos -= 1
    return count % 2 == 1


def _blank(text: str) -> str:
    """Spaces for ``text``, its line breaks kept as continuations so lines do not move."""
    return re.sub(r"[^\n]", " ", text).replace("\n", "\\\n")


def _has_code(text: str) -> bool:
    return any(line.split("#", 1)[0].strip() for line in text.splitlines())


# --------------------------------------------------------------------------- restoring


def _marker_positions(text: str) -> list[tuple[int, int]]:
    """(line, UTF-8 column) of every marker call in the rewritten text, in order."""
    out: list[tuple[int, int]] = []
    line, line_start, counted = 1, 0, 0
    for match in re.finditer(re.escape(FSTRING_MARK) + r"\(", text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        line_start = text.rfind("\n", 0, match.start()) + 1
        out.append((line, len(text[line_start : match.start()].encode("utf-8"))))
    return out


def _restore_fstrings(
    tree: ast.Module, rewriter: _Rewriter, markers: list[tuple[int, int]]
) -> None:
    """Turn each marker call back into the ``JoinedStr`` its group stands for, visiting only
    the nodes whose source range holds a marker (golfed lines hold many statements)."""

    def holds_marker(node: ast.AST) -> bool:
        start = getattr(node, "lineno", None)
        if start is None:
            return True
        if getattr(node, "decorator_list", None):  # decorators sit above the ``def`` line
            first = node.decorator_list[0]
            begin = (first.lineno, first.col_offset)
        else:
            begin = (start, node.col_offset)
        i = bisect.bisect_left(markers, begin)
        return i < len(markers) and markers[i] < (node.end_lineno, node.end_col_offset)

    def restore(node: ast.AST) -> ast.AST:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST) and holds_marker(item):
                        value[i] = restore(item)
            elif isinstance(value, ast.AST) and holds_marker(value):
                setattr(node, name, restore(value))
        if (
            type(node) is ast.Call
            and isinstance(node.func, ast.Name)
            and node.func.id == FSTRING_MARK
        ):
            return _joined(node, rewriter.groups[node.args[0].value])
        return node

    restore(tree)


def _joined(call: ast.Call, group: _Group) -> ast.expr:
    exprs = call.args[1:]
    tree = group.tree  # each group's marker call is restored exactly once: no copy needed
    if group.specs:
        for sub in list(ast.walk(tree)):
            if isinstance(sub, ast.FormattedValue) and sub.value.value in group.specs:
                sub.format_spec = group.specs[sub.value.value]
    skeleton_nodes = list(ast.walk(tree))  # before the real expressions go in
    for sub in skeleton_nodes:
        ast.copy_location(sub, call)
    for sub in skeleton_nodes:
        if isinstance(sub, ast.JoinedStr):
            sub.values = _fill_fields(sub.values, group, exprs, call)
    for sub in skeleton_nodes:  # a format spec sits on the line its field's expression ends
        if isinstance(sub, ast.FormattedValue) and sub.format_spec is not None:
            spec = sub.format_spec
            for part in [spec, *(v for v in spec.values if isinstance(v, ast.Constant))]:
                part.lineno = part.end_lineno = sub.value.end_lineno
    return tree


def _fill_fields(
    values: list[ast.expr], group: _Group, exprs: list[ast.expr], where: ast.AST
) -> list[ast.expr]:
    """Put each field's expression in place of its placeholder, insert a debug field's
    ``expr=`` text before it, and merge adjacent literals as the parser does."""
    out: list[ast.expr] = []

    def push(value: ast.expr) -> None:
        if isinstance(value, ast.Constant) and value.value == "":
            return  # some 3.12 releases leave empty literals in format specs
        if out and isinstance(value, ast.Constant) and isinstance(out[-1], ast.Constant):
            out[-1] = ast.copy_location(ast.Constant(out[-1].value + value.value), where)
        else:
            out.append(value)

    for value in values:
        if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Constant):
            number = value.value.value
            value.value = exprs[number]
            if number in group.debug:
                push(ast.copy_location(ast.Constant(group.debug[number]), where))
        push(value)
    return out
