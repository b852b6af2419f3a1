"""Code bytes recomputed the way the record counted them (raw, compressed, wrapped).

The 04-16 fixture logs `Code size (compressed): 27555 bytes`: its script counts itself as an
lzma + base85 self-extracting wrapper. These twins ship a train_gpt.py of our own beside its
logs, with a code-size function of each convention, and check the recomputed figure gates.
"""

from __future__ import annotations

import base64
import hashlib
import lzma
import zlib

from golf_check.harness.evidence.codesize import CodeConvention, detect_convention, recompute_code
from golf_check.harness.evidence.verifier import verify_path

from .conftest import findings_of

SMEAR = "2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT"  # models up to 15,911,493 B

WRAPPED_SIZE = """
import base64, lzma


def _compressed_code_size(code):
    raw = code.encode("utf-8")
    packed = lzma.compress(raw, preset=9)
    encoded = base64.b85encode(packed)
    wrapper = b"import lzma as L,base64 as B\\nexec(L.decompress(B.b85decode(\\"" + encoded + b"\\")))\\n"
    return len(raw), len(wrapper)
"""

MINIFIED_SIZE = WRAPPED_SIZE.replace(
    'raw = code.encode("utf-8")',
    'raw = subprocess.run(["pyminify", "-"], input=code.encode(), capture_output=True).stdout',
)

ZLIB_SIZE = """
import zlib


def code_bytes_packed(code):
    return len(zlib.compress(code.encode(), 9))
"""


def _padding(kilobytes: int) -> str:
    """Hex digests: text that compresses to about half its size, deterministically."""
    lines, i = [], 0
    while sum(len(x) for x in lines) < kilobytes * 1000:
        lines.append(f"# {hashlib.sha256(str(i).encode()).hexdigest()}\n")
        i += 1
    return "".join(lines)


def _code_padding(kilobytes: int) -> str:
    """Assignments of hex strings: code a minifier keeps, unlike comments."""
    lines = (f"PAD_{i} = '{hashlib.sha256(str(i).encode()).hexdigest()}'\n" for i in range(10**6))
    out, size = [], 0
    for line in lines:
        if size >= kilobytes * 1000:
            break
        out.append(line)
        size += len(line)
    return "".join(out)


def _wrapped(raw: bytes) -> int:
    overhead = len(b'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("')
    return overhead + len(base64.b85encode(lzma.compress(raw, preset=9))) + len(b'")))\n')


def test_convention_read_from_the_script(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text(WRAPPED_SIZE)
    wrapped = detect_convention(script, logged_compressed=True)
    assert (wrapped.codec, wrapped.level, wrapped.base85_wrapper) == ("lzma", 9, True)
    assert not wrapped.minified
    assert detect_convention(script, logged_compressed=False) == CodeConvention()
    script.write_text(ZLIB_SIZE)
    packed = detect_convention(script, logged_compressed=True)
    assert (packed.codec, packed.level, packed.base85_wrapper) == ("zlib", 9, False)


def test_recomputed_wrapper_is_the_bytes_the_script_would_count(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text(WRAPPED_SIZE + _padding(20))
    counted = recompute_code(script, detect_convention(script, True))
    assert counted.exact and counted.bytes == _wrapped(script.read_bytes())
    script.write_text(ZLIB_SIZE + _padding(20))
    counted = recompute_code(script, detect_convention(script, True))
    assert counted.bytes == len(zlib.compress(script.read_bytes(), 9))


def test_compressed_code_within_the_cap_passes(record):
    folder = record(SMEAR)
    (folder / "train_gpt.py").write_text(WRAPPED_SIZE + _padding(20))  # ~122 KB raw
    report = verify_path(folder)
    assert not findings_of(report, "BUDGET.artifact-cap", "error")
    assert not findings_of(report, "BUDGET.artifact-cap", "warning")


def test_compressed_code_over_the_cap_fails_with_both_figures(record):
    folder = record(SMEAR)
    script = folder / "train_gpt.py"
    script.write_text(WRAPPED_SIZE + _padding(300))
    findings = findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")
    assert len(findings) == 3
    recomputed = _wrapped(script.read_bytes())
    assert all("the log counts 27,555 code bytes" in f.message for f in findings)
    assert all(f"golf-check recomputes {recomputed:,}" in f.message for f in findings)
    assert all("over the cap" in f.message for f in findings)


def test_raw_convention_still_counts_the_file_as_shipped(record):
    folder = record(SMEAR)
    for log in folder.glob("*.log"):
        text = log.read_text().replace("Code size (compressed): 27555", "Code size: 27555")
        log.write_text(text)
    (folder / "train_gpt.py").write_text(WRAPPED_SIZE + _padding(120))
    findings = findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")
    assert len(findings) == 3 and all("raw bytes of the code files" in f.message for f in findings)


def test_minified_convention_is_an_upper_bound_that_only_passes(record):
    folder = record(SMEAR)
    (folder / "train_gpt.py").write_text(MINIFIED_SIZE + _code_padding(20))
    infos = findings_of(verify_path(folder), "BUDGET.artifact-cap")
    assert infos and all(f.severity == "info" for f in infos)
    assert "upper bound" in infos[0].message and "at most" in infos[0].message
    (folder / "train_gpt.py").write_text(MINIFIED_SIZE + _code_padding(300))
    warnings = findings_of(verify_path(folder), "BUDGET.artifact-cap")
    assert warnings and all(f.severity == "warning" for f in warnings)
    assert all("the log's total is" in f.message for f in warnings)


def test_a_script_shipped_as_a_wrapper_counts_as_its_own_bytes(tmp_path):
    script = tmp_path / "train_gpt.py"
    inner = (WRAPPED_SIZE + _padding(20)).encode()
    payload = base64.b85encode(lzma.compress(inner)).decode()
    script.write_text(
        f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{payload}")))\n'
    )
    convention = detect_convention(script, logged_compressed=True)
    assert convention == CodeConvention()
    counted = recompute_code(script, convention)
    assert counted.exact and counted.bytes == script.stat().st_size


BROTLI_SIZE = WRAPPED_SIZE.replace(
    "lzma.compress(raw, preset=9)", "brotli.compress(raw, quality=11)"
)


def test_a_missing_codec_is_estimated_and_never_fails(record, monkeypatch):
    import golf_check.harness.evidence.codesize as codesize

    monkeypatch.setattr(codesize, "_compress", lambda data, convention: None)
    folder = record(SMEAR)
    (folder / "train_gpt.py").write_text(BROTLI_SIZE + _padding(20))
    assert detect_convention(folder / "train_gpt.py", True).codec == "brotli"
    infos = findings_of(verify_path(folder), "BUDGET.artifact-cap")
    assert infos and all(f.severity == "info" for f in infos)
    assert "brotli module is not installed, lzma stands in" in infos[0].message
    assert "artifact is about" in infos[0].message
    (folder / "train_gpt.py").write_text(BROTLI_SIZE + _code_padding(300))
    found = findings_of(verify_path(folder), "BUDGET.artifact-cap")
    assert found and all(f.severity == "warning" for f in found)
    assert "the estimate is" in found[0].message


def test_the_code_size_function_wins_over_a_serializer_that_compresses_the_model(tmp_path):
    serializer = (
        "import brotli\n\n\ndef serialize(h, model, code):\n"
        "    return brotli.compress(model, quality=11)\n\n"
    )
    script = tmp_path / "train_gpt.py"
    script.write_text(serializer + WRAPPED_SIZE)
    convention = detect_convention(script, logged_compressed=True)
    assert (convention.codec, convention.base85_wrapper) == ("lzma", True)
