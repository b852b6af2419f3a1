"""Offline demo data: a small real-English corpus, a tokenizer and shards, built in seconds.

There is no network on a fresh machine, so the corpus comes from text every Python install
carries: the docstrings of the standard library (about 1.5 MB of English prose about code).
They are read with ``ast`` from the source files, never imported. Documents are grouped by
source file and whole files go to validation (every twentieth file), so the validation split is
disjoint from training, and it has the local repetition (names, phrasing of one module) that
score-first test-time training and online n-gram experts can legally exploit.

Same bytes every time on the same Python (sorted file walk, single-threaded tokenizer
training with sampling off); cached under ``~/.cache/golf-check/demo-<python version>``
(``GOLF_CHECK_CACHE`` replaces ``~/.cache/golf-check``).
"""

from __future__ import annotations

import ast
import io
import json
import os
import platform
import shutil
import sysconfig
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golf_check.harness.digest import file_sha256
from golf_check.harness.errors import InputError
from golf_check.harness.shards import shard_name, write_shard

FORMAT = 2  # bump when the recipe changes, so stale caches are rebuilt
VOCAB_SIZE = 1024
BOS_ID = 1
VAL_EVERY = 20  # every twentieth source file goes to validation
MIN_DOC_CHARS = 80
SHARD_TOKENS = 1 << 18  # small shards, so the multi-shard path is exercised
# Stdlib folders that are not library prose: tests, demos, vendored code.
SKIP_DIRS = frozenset(
    {
        "site-packages",
        "dist-packages",
        "test",
        "tests",
        "idlelib",
        "turtledemo",
        "__pycache__",
        "ensurepip",
        "lib2to3",
    }
)


@dataclass(frozen=True)
class DemoData:
    root: Path
    data_dir: Path  # fineweb_train_*.bin / fineweb_val_*.bin
    tokenizer_path: Path
    val_tokens: int
    train_tokens: int


def default_cache_dir() -> Path:
    base = os.environ.get("GOLF_CHECK_CACHE")
    base_dir = Path(base) if base else Path.home() / ".cache" / "golf-check"
    return base_dir / f"demo-{platform.python_version()}"


def ensure_demo_data(cache_dir: str | os.PathLike | None = None, force: bool = False) -> DemoData:
    """The demo dataset, built on first use (a few seconds) and cached afterwards."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not force:
        cached = _load_cached(root)
        if cached is not None:
            return cached
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise InputError(f"{root}: exists and is not a directory; choose another --out")
    if root.is_dir() and not (root / "manifest.json").exists() and any(root.iterdir()):
        raise InputError(
            f"{root}: not empty and not a golf-check demo dataset; refusing to replace it"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and swap in whole, so a crash never leaves a half-built cache.
    staging = Path(tempfile.mkdtemp(prefix=".demo-build-", dir=root.parent))
    try:
        manifest = _build(staging)
        if root.exists():
            shutil.rmtree(root)
        os.replace(staging, root)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return _as_demo(root, manifest)


def _load_cached(root: Path) -> DemoData | None:
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT or manifest.get("sentencepiece") != _spm_version():
        return None
    demo = _as_demo(root, manifest)
    if not demo.tokenizer_path.is_file():
        return None
    # Sizes are checked on every use (cheap); the hashes are for humans and tests.
    for name, size in manifest.get("sizes", {}).items():
        path = root / name
        if not path.is_file() or path.stat().st_size != size:
            return None
    return demo


def _as_demo(root: Path, manifest: dict) -> DemoData:
    return DemoData(
        root=root,
        data_dir=root / "data",
        tokenizer_path=root / "tokenizer.model",
        val_tokens=int(manifest["val_tokens"]),
        train_tokens=int(manifest["train_tokens"]),
    )


def _spm_version() -> str:
    import sentencepiece

    return sentencepiece.__version__


# --------------------------------------------------------------------------- the corpus


def stdlib_documents() -> list[tuple[str, list[str]]]:
    """(relative source path, its docstrings) for every stdlib module, in a fixed order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files += [Path(directory) / n for n in sorted(names) if n.endswith(".py")]
    out = []
    seen: set[str] = set()  # the same docstring in two files must not land in both splits
    for path in sorted(files):
        try:
            source = path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in old modules
                tree = ast.parse(source)
        except (OSError, SyntaxError, ValueError):
            continue
        docs = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= MIN_DOC_CHARS and doc not in seen:
                    seen.add(doc)
                    docs.append(doc)
        if docs:
            out.append((path.relative_to(root).as_posix(), docs))
    return out


def split_documents(files: list[tuple[str, list[str]]]) -> tuple[list[str], list[str]]:
    train, val = [], []
    for i, (_, docs) in enumerate(files):
        (val if i % VAL_EVERY == VAL_EVERY // 2 else train).extend(docs)
    return train, val


# --------------------------------------------------------------------------- the build


def train_tokenizer(docs: list[str]) -> bytes:
    """A 1024-piece BPE SentencePiece model, lossless (identity normalization, byte fallback)."""
    import sentencepiece as spm

    sentences = [line for doc in docs for line in doc.split("\n") if line.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="bpe",
        vocab_size=VOCAB_SIZE,
        byte_fallback=True,
        character_coverage=0.9995,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        unk_id=0,
        bos_id=BOS_ID,
        eos_id=2,
        pad_id=-1,
        input_sentence_size=0,  # use every sentence: no random sampling
        shuffle_input_sentence=False,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def encode_documents(sp, docs: list[str]) -> np.ndarray:
    """Each document as BOS followed by its tokens, as in the challenge's shards."""
    pieces = sp.encode(docs)
    total = sum(len(p) + 1 for p in pieces)
    out = np.empty(total, dtype=np.uint16)
    i = 0
    for ids in pieces:
        out[i] = BOS_ID
        out[i + 1 : i + 1 + len(ids)] = ids
        i += len(ids) + 1
    return out


def _write_split(data_dir: Path, split: str, tokens: np.ndarray) -> list[str]:
    names = []
    for k, lo in enumerate(range(0, tokens.size, SHARD_TOKENS)):
        name = shard_name(split, k)
        write_shard(data_dir / name, tokens[lo : lo + SHARD_TOKENS])
        names.append(f"data/{name}")
    return names


def _build(root: Path) -> dict:
    import sentencepiece as spm

    files = stdlib_documents()
    if not files:
        raise InputError(f"{sysconfig.get_paths()['stdlib']}: no standard-library sources found")
    train_docs, val_docs = split_documents(files)
    model_bytes = train_tokenizer(train_docs)
    (root / "tokenizer.model").write_bytes(model_bytes)
    sp = spm.SentencePieceProcessor(model_proto=model_bytes)
    data_dir = root / "data"
    data_dir.mkdir()
    train = encode_documents(sp, train_docs)
    val = encode_documents(sp, val_docs)
    names = (
        ["tokenizer.model"]
        + _write_split(data_dir, "train", train)
        + _write_split(data_dir, "val", val)
    )
    manifest = {
        "format": FORMAT,
        "python": platform.python_version(),
        "sentencepiece": _spm_version(),
        "source": "docstrings of the Python standard library",
        "files": len(files),
        "train_docs": len(train_docs),
        "val_docs": len(val_docs),
        "train_tokens": int(train.size),
        "val_tokens": int(val.size),
        "vocab_size": VOCAB_SIZE,
        "sha256": {n: file_sha256(root / n) for n in names},
        "sizes": {n: (root / n).stat().st_size for n in names},
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
