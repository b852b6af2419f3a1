"""PACKAGE, static part: code a script runs that golf-check could not decode and so never
checked (DESIGN.md, "Never execute untrusted code"; rules.md R-CODE-COUNTED)."""

from __future__ import annotations

from golf_check.harness.rulebook import detector, rule

UNDECODED_WRAPPER = rule(
    "PACKAGE.undecoded-wrapper",
    "PACKAGE",
    "Code the script decodes and runs must be decodable without running it",
    """
Records are often shipped as a self-extracting wrapper: a short stub that decodes a packed
payload (base85, base64, LZMA, zlib, ...) and runs it with `exec`, or writes it to a file and
runs that. golf-check decodes such payloads without running anything and checks the code
inside. When the payload comes from somewhere it cannot see (another file, a computed
value), the code that actually runs was not checked: the verdict covers the stub only, and
the payload's bytes may not be counted toward the cap. The finding says what was run.

Example:
    exec(lzma.decompress(base64.b85decode(open("payload.b85").read())))
""",
    [
        "DESIGN.md",
        "https://github.com/openai/parameter-golf/blob/main/README.md",
    ],
    severity="warning",
)


@detector(UNDECODED_WRAPPER, level="static")
def undecoded_wrapper(model):
    """A stub that runs a decoded payload (``exec`` of it, or a file written from it and run)
    which the loader could not decode without running the script, because the payload comes
    from another file or a computed value; the finding says what was run.

    Confidence: high.

    Cannot see: the payload's code, which is never checked.
    """
    for node, what in model.script.undecoded:
        yield model.finding(
            UNDECODED_WRAPPER,
            node,
            f"runs code decoded at run time from `{what}`, which golf-check cannot decode "
            "without running the script: that code was not checked",
            confidence="high",
            fix="ship the payload as a literal in the script (base85/base64 over "
            "lzma/zlib/gzip/bz2), or ship the plain source",
        )
