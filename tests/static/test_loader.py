"""Loading scripts: decoding, parsing, unwrapping self-extracting wrappers, and bad input."""

from __future__ import annotations

import ast
import base64
import lzma
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.static.checker import check_paths
from harness.static.loader import MAX_DECODED_BYTES, import_aliases, load_script

TWINS = Path(__file__).parent / "twins"
RECORD = (TWINS / "legal_record.py").read_bytes()


def test_plain_script_loads_unchanged():
    script = load_script(TWINS / "legal_record.py")
    assert script.layers == [] and script.source == RECORD.decode()
    assert script.raw_bytes == RECORD
    assert any(getattr(n, "name", "") == "eval_val" for n in script.tree.body)


def test_lzma2_base85_wrapper_is_decoded_without_running(tmp_path, wrap):
    marker = tmp_path / "ran"
    inner = RECORD + f"\nopen({str(marker)!r}, 'w').write('x')\n".encode()
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap["lzma2"](inner))
    script = load_script(path)
    assert script.layers == ["base85", "lzma-raw-lzma2"]
    assert script.source == inner.decode()
    assert script.raw_bytes == path.read_bytes()  # counted bytes are the wrapper as shipped
    assert not marker.exists()  # never executed


def test_nested_wrappers_unwrap_recursively(tmp_path, wrap):
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap["zlib"](wrap["lzma2"](RECORD).encode()))
    script = load_script(path)
    assert script.layers == ["base64", "zlib", "base85", "lzma-raw-lzma2"]
    assert script.source == RECORD.decode()


def test_exec_of_non_literal_is_left_alone(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import sys\ncode = sys.argv[1]\nexec(code)\n")
    script = load_script(path)
    assert script.layers == [] and "exec(code)" in script.source


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
        (b"x = '\xff\xfe caf\xe9'\n", "not UTF-8 text (byte 0xff at offset 5)"),
        (b"def f(:\n    pass\n", "syntax error at line 1"),
    ],
)
def test_bad_scripts_raise_one_clear_line(tmp_path, content, message):
    path = tmp_path / "train_gpt.py"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        load_script(path)
    text = str(exc.value)
    assert message in text and str(path) in text and "\n" not in text


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_script(tmp_path / "nope.py")


def test_corrupt_payload(tmp_path):
    path = tmp_path / "train_gpt.py"
    payload = base64.b85encode(b"\x00garbage" * 40).decode()
    path.write_text(f'import lzma,base64\nexec(lzma.decompress(base64.b85decode("{payload}")))\n')
    with pytest.raises(InputError, match=r"payload at line 2: lzma payload is corrupt"):
        load_script(path)


def test_truncated_payload(tmp_path):
    full = lzma.compress(RECORD * 4)
    payload = base64.b85encode(full[: len(full) // 2]).decode()
    path = tmp_path / "train_gpt.py"
    path.write_text(f'import lzma,base64\nexec(lzma.decompress(base64.b85decode("{payload}")))\n')
    with pytest.raises(InputError, match="truncated"):
        load_script(path)


def test_decompression_bomb_is_refused(tmp_path):
    bomb = lzma.compress(b"#" * (MAX_DECODED_BYTES + 1024), preset=1)
    assert len(bomb) < 100_000  # small on disk, huge when decoded
    path = tmp_path / "train_gpt.py"
    path.write_text(
        f'import lzma,base64\nexec(lzma.decompress(base64.b85decode("{base64.b85encode(bomb).decode()}")))\n'
    )
    with pytest.raises(InputError, match="decompression bomb"):
        load_script(path)


def test_payload_that_is_not_python(tmp_path, wrap):
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap["lzma2"](b"def broken(:\n"))
    with pytest.raises(InputError, match=r"decoded payload\): syntax error at line 1"):
        load_script(path)


def test_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "train_gpt.py"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        load_script(fifo)


# --------------------------------------------------------------------------- import aliases


def test_import_aliases_bind_what_python_binds():
    tree = ast.parse(
        "import urllib.request\nimport torch.nn.functional as F\nimport lzma as L\n"
        "from base64 import b85decode as d\nfrom . import sibling\n"
    )
    assert import_aliases(ast.walk(tree)) == {
        "urllib": "urllib",  # `import a.b` binds `a`, not `a.b`
        "F": "torch.nn.functional",
        "L": "lzma",
        "d": "base64.b85decode",
    }


def test_dotted_module_call_is_named_once(tmp_path):
    # The program model resolves callees with the loader's aliases: `urllib.request.urlopen`
    # must not come out as `urllib.request.request.urlopen`.
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import urllib.request\n\ndef fetch(url):\n    return urllib.request.urlopen(url)\n"
    )
    (result,) = check_paths([path]).files
    (finding,) = [f for f in result.findings if f.rule == "DATA.network"]
    assert finding.line == 4
    assert "urllib.request.urlopen(" in finding.message and "request.request" not in finding.message
