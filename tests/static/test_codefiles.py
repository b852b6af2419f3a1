"""Resolving the code files a run needs (what counts toward the artifact's code bytes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golf_check.harness.errors import InputError
from golf_check.harness.static.codefiles import needed_code_files

TWINS = Path(__file__).parent / "twins"


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _names(result, root):
    return [str(p.relative_to(root)) for p in result.files]


def test_sibling_import_and_compiled_kernel():
    root = TWINS / "BUDGET.uncounted-code" / "illegal_sibling_helpers"
    result = needed_code_files(root / "train_gpt.py")
    assert _names(result, root) == [
        "train_gpt.py",
        "ngram_tilt.py",
        "ngram/fused_expert_kernel.cpp",
    ]
    assert result.unresolved == []
    assert result.total_bytes() == sum(p.stat().st_size for p in result.files)


def test_single_file_needs_only_itself():
    root = TWINS / "BUDGET.uncounted-code" / "legal_single_file"
    assert _names(needed_code_files(root / "train_gpt.py"), root) == ["train_gpt.py"]


def test_every_reference_kind_recursively(tmp_path):
    _write(
        tmp_path,
        "train_gpt.py",
        "import os, runpy, subprocess\n"
        "from pathlib import Path\n"
        "import helpers.util\n"
        "from kernels import fused\n"
        "exec(open('extra.py').read())\n"
        "runpy.run_path('setup_eval.py')\n"
        "from torch.utils.cpp_extension import load\n"
        "mod = load(name='k', sources=[str(Path(__file__).parent / 'csrc' / 'attn.cu')])\n"
        "os.system('nvcc -O3 csrc/gemm.cu -o gemm.so')\n"
        "import numpy, torch\n",
    )
    _write(tmp_path, "helpers/__init__.py", "from . import inner\n")
    _write(tmp_path, "helpers/util.py", "x = 1\n")
    _write(tmp_path, "helpers/inner.py", "y = 1\n")
    _write(tmp_path, "kernels/fused.py", "import deep\n")
    _write(tmp_path, "deep.py", "z = 1\n")
    _write(tmp_path, "extra.py", "w = 1\n")
    _write(tmp_path, "setup_eval.py", "v = 1\n")
    _write(tmp_path, "csrc/attn.cu", "//\n")
    _write(tmp_path, "csrc/gemm.cu", "//\n")
    _write(tmp_path, "unrelated.py", "u = 1\n")
    names = set(_names(needed_code_files(tmp_path / "train_gpt.py"), tmp_path))
    assert names == {
        "train_gpt.py",
        "helpers/__init__.py",
        "helpers/util.py",
        "helpers/inner.py",
        "kernels/fused.py",
        "deep.py",
        "extra.py",
        "setup_eval.py",
        "csrc/attn.cu",
        "csrc/gemm.cu",
    }


def test_wrapped_script_is_resolved_from_its_decoded_source(tmp_path, wrap):
    (tmp_path / "train_gpt.py").write_text(wrap["lzma2"](b"from ngram_tilt import State\n"))
    _write(tmp_path, "ngram_tilt.py", "class State: pass\n")
    assert _names(needed_code_files(tmp_path / "train_gpt.py"), tmp_path) == [
        "train_gpt.py",
        "ngram_tilt.py",
    ]


def test_computed_paths_are_unresolved(tmp_path):
    _write(
        tmp_path,
        "train_gpt.py",
        "import os, runpy, subprocess\n"
        "exec(open(os.environ['HELPER']).read())\n"
        "runpy.run_path(pick_path())\n"
        "subprocess.run(['g++', '-O3', find_src(), '-o', 'k.so'])\n",
    )
    result = needed_code_files(tmp_path / "train_gpt.py")
    assert result.files == [tmp_path / "train_gpt.py"]
    assert [u.split(":")[1] for u in result.unresolved] == ["2", "3", "4"]


def test_never_leaves_the_folder(tmp_path):
    outside = tmp_path / "outside"
    inside = tmp_path / "sub"
    _write(outside, "secret.py", "s = 1\n")
    _write(inside, "train_gpt.py", "exec(open('../outside/secret.py').read())\nimport linked\n")
    os.symlink(outside / "secret.py", inside / "linked.py")
    result = needed_code_files(inside / "train_gpt.py")
    assert result.files == [inside / "train_gpt.py"]
    assert any("outside the submission folder" in u for u in result.unresolved)
    assert any("symlink" in u for u in result.unresolved)


def test_unreadable_helper_is_listed_not_fatal(tmp_path):
    _write(tmp_path, "train_gpt.py", "import helper\n")
    (tmp_path / "helper.py").write_bytes(b"\x00\x01binary")
    result = needed_code_files(tmp_path / "train_gpt.py")
    assert _names(result, tmp_path) == ["train_gpt.py", "helper.py"]
    assert "binary file" in result.unresolved[0]


def test_unreadable_script_raises(tmp_path):
    (tmp_path / "train_gpt.py").write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        needed_code_files(tmp_path / "train_gpt.py")
