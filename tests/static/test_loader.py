"""Loading scripts: decoding, parsing, unwrapping self-extracting wrappers, and bad input."""

from __future__ import annotations

import ast
import base64
import lzma
import zlib
from pathlib import Path

import pytest
from golf_cli import golf_check

from golf_check.harness.errors import InputError
from golf_check.harness.static.checker import check_paths
from golf_check.harness.static.loader import MAX_DECODED_BYTES, import_aliases, load_script

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


# --------------------------------------------------------------------------- wrapper variants
# Each variant below is a stub written here from the forms challenge records used; the payload
# is a legal twin plus a marker write that must never happen (nothing is executed).

INNER = RECORD + b"\nimport urllib.request\nurllib.request.urlopen('http://example.invalid')\n"
INNER_NETWORK_LINE = (
    INNER.decode().splitlines().index("urllib.request.urlopen('http://example.invalid')") + 1
)


def _b85_lines(data: bytes, width: int = 60) -> str:
    text = base64.b85encode(lzma.compress(data)).decode()
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


@pytest.mark.parametrize(
    "stub",
    [
        # payload wrapped over many lines, newlines stripped before decoding
        'import base64 as B, lzma as L\nD = b"""{lines}"""\n'
        'exec(L.decompress(B.b85decode(D.replace(b"\\n", b""))))\n',
        'import base64, lzma\nD = """{lines}"""\nexec(lzma.decompress(base64.b85decode("".join(D.split()))))\n',
        'import base64, lzma\nexec(lzma.decompress(base64.b85decode("""{lines}""".strip().replace("\\n", ""))))\n',
    ],
)
def test_whitespace_stripped_payloads_decode(tmp_path, stub):
    path = tmp_path / "train_gpt.py"
    path.write_text(stub.format(lines=_b85_lines(INNER)))
    script = load_script(path)
    assert script.layers == ["base85", "lzma"] and script.source == INNER.decode()


def test_exec_of_compile_over_a_bound_name_decodes(tmp_path):
    payload = base64.b64encode(zlib.compress(INNER)).decode()
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import base64, zlib\n"
        f'src = zlib.decompress(base64.b64decode("{payload}")).decode()\n'
        'exec(compile(src, "train_gpt", "exec"))\n'
    )
    script = load_script(path)
    assert script.layers == ["base64", "zlib"] and script.source == INNER.decode()


@pytest.mark.parametrize(
    "runner",
    [
        "exec(open(p).read())",
        "exec(compile(open(p).read(), p, 'exec'))",
        "runpy.run_path(p)",
        "subprocess.run([sys.executable, p], check=True)",
        "os.system(f'python {p}')",
    ],
)
def test_payload_written_to_a_file_then_run_decodes(tmp_path, runner):
    inner_path = tmp_path / "unpacked.py"
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import base64, lzma, os, runpy, subprocess, sys\n"
        f"p = {str(inner_path)!r}\n"
        'with open(p, "wb") as f:\n'
        f'    f.write(lzma.decompress(base64.b85decode("{_b85_lines(INNER, 10**9)}")))\n'
        f"{runner}\n"
    )
    script = load_script(path)
    assert script.layers == ["base85", "lzma", f"file {inner_path}"]
    assert script.source == INNER.decode()
    assert not inner_path.exists()  # decoded in memory, never written or run


def test_findings_point_into_the_decoded_file_payload_and_name_its_layers(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import base64, lzma, pathlib, runpy\n"
        'pathlib.Path("unpacked.py").write_bytes(lzma.decompress(base64.b85decode('
        f'"{_b85_lines(INNER, 10**9)}")))\n'
        'runpy.run_path("unpacked.py")\n'
    )
    (result,) = check_paths([path]).files
    (network,) = [f for f in result.findings if f.rule == "DATA.network"]
    assert network.line == INNER_NETWORK_LINE
    assert any("base85 + lzma + file unpacked.py" in note for note in result.notes)


def test_undecodable_wrapper_is_reported_not_checked_as_the_stub(tmp_path):
    folder = tmp_path / "record"
    folder.mkdir()
    (folder / "payload.b85").write_text(_b85_lines(INNER))
    (folder / "train_gpt.py").write_text(
        "import base64, lzma\n"
        'blob = open("payload.b85").read()\n'
        'exec(lzma.decompress(base64.b85decode(blob.replace("\\n", ""))))\n'
    )
    script = load_script(folder / "train_gpt.py")
    assert script.layers == [] and [node.lineno for node, _ in script.undecoded] == [3]
    report = check_paths([folder])
    (result,) = [r for r in report.files if r.path.endswith("train_gpt.py")]
    (finding,) = [f for f in result.findings if f.rule == "PACKAGE.undecoded-wrapper"]
    assert finding.line == 3 and finding.severity == "warning"
    assert "was not checked" in finding.message


def test_decoded_data_that_is_never_run_is_not_a_wrapper(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import lzma, subprocess\n"
        'open("model.bin", "wb").write(lzma.decompress(open("model.xz", "rb").read()))\n'
        'subprocess.run(["ls", "-l", "model.bin"])\n'
        "exec_mode = 'eval'\n"
    )
    script = load_script(path)
    assert script.layers == [] and script.undecoded == []


def test_text_growing_past_the_cap_is_refused_before_it_is_built(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import base64, lzma\n"
        f'D = "{"A" * 20_000}"\n'
        f'exec(lzma.decompress(base64.b85decode(D.replace("A", "{"B" * 1000}"))))\n'
    )
    with pytest.raises(InputError, match="decompression bomb"):
        load_script(path)


def test_folder_search_never_skips_an_undecodable_wrapper(tmp_path):
    # Outside a train_gpt.py folder only scripts that look like submissions are checked; a
    # wrapper does, decoded or not, whatever its name.
    (tmp_path / "packed.py").write_text(
        "import base64, zlib\nimport sys\nexec(zlib.decompress(base64.b64decode(sys.argv[1])))\n"
    )
    (tmp_path / "notes.py").write_text("print('plotting helper')\n")
    report = check_paths([tmp_path])
    assert [Path(r.path).name for r in report.files] == ["packed.py"]
    (finding,) = [f for f in report.files[0].findings if f.rule == "PACKAGE.undecoded-wrapper"]
    assert finding.line == 3


def test_declared_source_encoding_is_honoured(tmp_path):
    # CPython reads a PEP 263 coding comment; a script it runs is not an unreadable file.
    path = tmp_path / "train_gpt.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nlabel = 'caf\xe9'\n")
    script = load_script(path)
    assert "café" in script.source


def test_wrapper_inside_a_function_is_found(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(
        "import base64, lzma\n\n\ndef main():\n"
        f'    exec(lzma.decompress(base64.b85decode("{_b85_lines(INNER, 10**9)}")))\n\n\nmain()\n'
    )
    script = load_script(path)
    assert script.layers == ["base85", "lzma"] and script.source == INNER.decode()


def test_a_small_wrapper_of_a_huge_flat_tree_is_refused_before_parsing(tmp_path):
    # A few KB that decode to a multi-megabyte tuple would cost gigabytes to parse and model.
    source = "x = (" + ",".join("1" for _ in range(1_000_000)) + ")\n"
    payload = base64.b85encode(lzma.compress(source.encode())).decode()
    script = tmp_path / "train_gpt.py"
    script.write_text(
        f"import lzma, base64\nexec(lzma.decompress(base64.b85decode('{payload}')))\n"
    )
    assert script.stat().st_size < 10_000
    with pytest.raises(InputError, match="too large to analyse"):
        load_script(script)


def test_a_long_embedded_literal_is_not_counted_as_code(tmp_path):
    # An embedded payload parses to one node: it never trips the tree-size bound.
    blob = base64.b85encode(bytes(range(256)) * 6000).decode()  # about 1.9 MB of text
    script = tmp_path / "train_gpt.py"
    script.write_text(f"BLOB = '{blob}'\nDOC = '''{blob}'''\nx = 1\n")
    loaded = load_script(script)
    assert isinstance(loaded.tree.body[0], ast.Assign) and len(loaded.tree.body) == 3


@pytest.mark.parametrize(
    "body",
    [
        "x = a" + " and a" * 400_000 + "\n",  # names joined by keywords: no operator at all
        "a\n" * 400_000,  # bare expression statements
        "pass\n" * 400_000,
    ],
    ids=["and-chain", "names", "pass"],
)
def test_code_without_operators_counts_toward_the_bound(tmp_path, body):
    script = tmp_path / "train_gpt.py"
    script.write_text(body)
    with pytest.raises(InputError, match="too large to analyse"):
        load_script(script)


def test_unterminated_triple_quotes_do_not_rescan_the_file(tmp_path):
    # Hundreds of openers with no closer after a long tail: a lazy regex would rescan the tail
    # from every opener. Finishing at all (the subprocess has a minute) is the assertion.
    source = "x = 1 + 1\n" * 40_000 + 'y = """' + '""" """' * 3000 + "+z" * 2_000_000
    script = tmp_path / "train_gpt.py"
    script.write_text(source)
    done = golf_check("check", script, "--format", "json", timeout=60)
    assert done.returncode == 2, done.stderr
    assert "too large to analyse" in done.stderr and "Traceback" not in done.stderr
