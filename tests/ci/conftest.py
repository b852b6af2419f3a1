"""Throw-away git repositories shaped like the challenge repository, and pull requests on them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDS = FIXTURES / "records"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
TRACK = "records/track_10min_16mb"
# A record already on main in every test repository. It is the #1868 compliance rerun
# ("record_support"), whose original and rerun logs verify does not average as claimed, so it
# is the one fixture the real-record test cannot use as a new submission anyway.
MERGED = "2026-04-29_SmearGateBOSFix_3Seed_1.06141"

_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class ChallengeRepo:
    """A challenge-like repository with a ``main`` branch; ``fork()`` starts a pull request."""

    TRACK = TRACK
    MERGED = MERGED

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.write("README.md", "# Parameter Golf\n")
        self.write("train_gpt.py", "# baseline\n")
        self.write("data/cached_challenge_fineweb.py", "# download script\n")
        self.copy_record(MERGED, f"{TRACK}/{MERGED}")
        self.write(f"{TRACK}/{MERGED}/README.md", "# merged record\n")
        self.write(f"{TRACK}/{MERGED}/train_gpt.py", legal_script())
        self.commit("base")

    def git(self, *args: str, input: bytes | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **_ENV},
            input=input,
            capture_output=True,
            check=True,
        )
        return proc.stdout.decode()

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    def symlink(self, rel: str, target: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)

    def copy_record(self, fixture: str, rel: str) -> None:
        shutil.copytree(RECORDS / fixture, self.root / rel, dirs_exist_ok=True)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def fork(self, branch: str = "fork") -> None:
        self.git("checkout", "-q", "-b", branch)

    def submission(
        self,
        name: str = "2026-05-01_Test",
        fixture: str = "2026-04-06_SP8192_QK5_LegalTTT_1.0828",
        script: str | None = None,
    ) -> str:
        """Add a complete record folder (fixture logs + README + script); return its path."""
        folder = f"{TRACK}/{name}"
        self.copy_record(fixture, folder)
        self.write(f"{folder}/README.md", "# Test submission\n\nTrained with train_gpt.py.\n")
        self.write(f"{folder}/train_gpt.py", script if script is not None else legal_script())
        return folder

    legal_script = staticmethod(lambda: legal_script())
    illegal_script = staticmethod(lambda: illegal_script())


def legal_script() -> str:
    return (SCRIPTS / "legal_train_gpt.py").read_text()


def illegal_script() -> str:
    return (SCRIPTS / "pretrain_on_val_train_gpt.py").read_text()


@pytest.fixture
def challenge(tmp_path: Path) -> ChallengeRepo:
    return ChallengeRepo(tmp_path / "parameter-golf")


# --------------------------------------------------------------------------- YAML subset
#
# PyYAML is not a dependency, so the workflow tests parse the workflows with this strict
# subset of YAML: block mappings and sequences, literal/folded block scalars, one-line flow
# sequences, quoted and plain scalars, comments. Anything else (tabs, anchors, flow mappings,
# duplicate keys, ": " inside a plain scalar) is an error, so a file that parses here is
# unambiguous YAML.


class YamlSubsetError(ValueError):
    pass


class _YamlSubset:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.i = 0

    def fail(self, why: str) -> YamlSubsetError:
        return YamlSubsetError(f"line {self.i + 1}: {why}")

    def peek(self) -> tuple[int, str] | None:
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            body = raw.lstrip(" ")
            if body.startswith("\t"):
                raise self.fail("tab in indentation")
            if body.strip() and not body.startswith("#"):
                return len(raw) - len(body), _strip_comment(body).rstrip()
            self.i += 1
        return None

    def node(self, indent: int):
        _, content = self.peek()
        return self.sequence(indent) if _is_item(content) else self.mapping(indent)

    def mapping(self, indent: int) -> dict:
        out: dict = {}
        while (p := self.peek()) and p[0] == indent and not _is_item(p[1]):
            key, rest = _split_key(p[1], self.fail)
            if key in out:
                raise self.fail(f"duplicate key {key!r}")
            self.i += 1
            out[key] = self.value(rest, indent)
        if (p := self.peek()) and p[0] > indent:
            raise self.fail("unexpected indentation")
        return out

    def sequence(self, indent: int) -> list:
        out: list = []
        while (p := self.peek()) and p[0] == indent and _is_item(p[1]):
            rest = p[1][1:].lstrip(" ")
            if not rest:
                self.i += 1
                nxt = self.peek()
                out.append(self.node(nxt[0]) if nxt and nxt[0] > indent else None)
            elif _split_key(rest, None):
                # "- key: value" opens a mapping indented past the dash.
                offset = len(p[1]) - len(rest)
                self.lines[self.i] = " " * (indent + offset) + rest
                out.append(self.mapping(indent + offset))
            else:
                self.i += 1
                out.append(self.scalar(rest))
        return out

    def value(self, rest: str, indent: int):
        if rest in ("|", "|-", "|+", ">", ">-", ">+"):
            return self.block_scalar(indent, folded=rest.startswith(">"))
        if rest:
            return self.scalar(rest)
        p = self.peek()
        if p and (p[0] > indent or (p[0] == indent and _is_item(p[1]))):
            return self.node(p[0])
        return None

    def block_scalar(self, indent: int, folded: bool) -> str:
        body: list[str] = []
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip() and len(raw) - len(raw.lstrip(" ")) <= indent:
                break
            body.append(raw)
            self.i += 1
        while body and not body[-1].strip():
            body.pop()
        cut = min((len(b) - len(b.lstrip(" ")) for b in body if b.strip()), default=0)
        lines = [b[cut:] for b in body]
        return (" ".join(lines) if folded else "\n".join(lines)) + "\n"

    def scalar(self, text: str):
        if text.startswith("["):
            if not text.endswith("]") or "[" in text[1:] or "{" in text:
                raise self.fail("only one-line flow sequences of scalars are supported")
            inner = text[1:-1].strip()
            return [self.scalar(part.strip()) for part in inner.split(",")] if inner else []
        if text[0] in "{&*!%@`|>?":
            raise self.fail(f"unsupported YAML construct {text[:20]!r}")
        if text[0] == "'":
            if not text.endswith("'") or len(text) < 2:
                raise self.fail("unterminated single-quoted string")
            return text[1:-1].replace("''", "'")
        if text[0] == '"':
            import json

            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise self.fail(f"bad double-quoted string: {exc}") from None
        if ": " in text or text.endswith(":"):
            raise self.fail(f"': ' inside a plain scalar: {text[:40]!r}")
        if text in ("true", "false"):
            return text == "true"
        return int(text) if text.isdigit() else text


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _strip_comment(text: str) -> str:
    quote = None
    for pos, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (pos == 0 or text[pos - 1] in " [,:"):
            quote = ch
        elif ch == "#" and pos > 0 and text[pos - 1] == " ":
            return text[:pos]
    return text


def _split_key(content: str, fail):
    if content[0] in "'\"":
        end = content.find(content[0], 1)
        key, after = content[1:end], content[end + 1 :]
        if after.startswith(":"):
            return key, after[1:].strip()
    else:
        for pos, ch in enumerate(content):
            if ch == ":" and (pos + 1 == len(content) or content[pos + 1] == " "):
                key = content[:pos]
                if key and " #" not in key and not key.startswith(("[", "{", "- ")):
                    return key, content[pos + 1 :].strip()
                break
    if fail is None:
        return None
    raise fail(f"expected 'key: value', got {content[:40]!r}")


def yaml_subset_load(text: str):
    parser = _YamlSubset(text)
    first = parser.peek()
    if first is None:
        return None
    if first[0] != 0:
        raise parser.fail("document must start at column 0")
    doc = parser.node(0)
    if parser.peek() is not None:
        raise parser.fail("content after the document")
    return doc


@pytest.fixture
def load_yaml():
    return yaml_subset_load
