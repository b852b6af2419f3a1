"""Accuracy of `golf-check verify` and `golf-check ci` on real record folders.

Run: .venv/bin/python bench/bench_verify_corpus.py SHARED_DIR [--no-ci] [--json]
                                                    [--markdown] [--update DOC]

SHARED_DIR is the folder holding ``fixtures/records`` (merged record folders, logs only),
``corpus/records`` (merged record folders, whole), ``corpus/illegal_records`` and
``corpus/pr_folders`` (folders of pull requests the maintainers closed) and
``corpus/labels.json`` (the conditions each closed pull request broke).

For every folder it runs ``verify`` in-process and records the verdict, the rules of its
errors, and whether the recomputed headline mean matches the claim (within the claim's
rounding). A merged folder should pass or warn; an illegal one should fail, for one of its
expected conditions when it fails on a rule of that condition. With ``ci`` (the default),
every whole merged folder (one that ships its script) is committed as a pull request into a
throw-away git repository shaped like the challenge's and gated; so is every logs-only merged
folder completed (in a temporary folder) with its own script from ``corpus/scripts/legal`` and
a stub README. Every SARIF result ``verify`` and ``ci`` write is checked for a location with a
line.

``--markdown`` prints the figures block of docs/accuracy.md; ``--update DOC`` rewrites that
block in DOC in place (appending it when DOC has none). Exit codes: 0 when scored, 2 when
SHARED_DIR is not such a folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from git_repo import GIT_ENV, git  # noqa: E402

from golf_check.harness.errors import InputError  # noqa: E402
from golf_check.harness.evidence import stats as st  # noqa: E402
from golf_check.harness.evidence.verifier import verify_path  # noqa: E402
from golf_check.harness.report import render  # noqa: E402

BEGIN = "<!-- bench_verify_corpus:begin (generated: bench/bench_verify_corpus.py --update) -->"
END = "<!-- bench_verify_corpus:end -->"
TRACK = "records/track_10min_16mb"


def folders(shared: Path) -> list[tuple[str, Path]]:
    """(kind, folder): kind is "merged" or "illegal"."""
    out = []
    for kind, sub in (
        ("merged", "fixtures/records"),
        ("merged", "corpus/records"),
        ("illegal", "corpus/illegal_records"),
        ("illegal", "corpus/pr_folders"),
    ):
        base = shared / sub
        if base.is_dir():
            out += [(kind, p) for p in sorted(base.iterdir()) if p.is_dir()]
    if not out:
        raise SystemExit(f"bench_verify_corpus: {shared}: no record folders found")
    return out


def expected_conditions(shared: Path) -> dict[str, set[str]]:
    """Pull request number (``pr733``) -> the conditions its label expects."""
    try:
        labels = json.loads((shared / "corpus/labels.json").read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, set[str]] = {}
    for entry in labels:
        name = str(entry.get("name", ""))
        if name.startswith("pr"):
            out[name.split("_")[0]] = set(entry.get("expected_conditions") or [])
    return out


def completed_folders(shared: Path, tmp: Path) -> list[Path]:
    """The logs-only merged folders (fixtures/records) completed, in a temporary folder, with
    the record's own train_gpt.py (corpus/scripts/legal/<name>.py) and a stub README.md: the
    whole merged folders verify and ci would see, run on scripts and logs never tested."""
    out = []
    scripts = shared / "corpus/scripts/legal"
    for kind, folder in folders(shared):
        script = scripts / f"{folder.name}.py"
        if kind != "merged" or not script.is_file() or any(folder.glob("train*.py")):
            continue
        whole = tmp / folder.name
        shutil.copytree(folder, whole)
        shutil.copy(script, whole / "train_gpt.py")
        (whole / "README.md").write_text(f"# {folder.name}\n")
        out.append(whole)
    return out


def verify_row(kind: str, folder: Path, expected: dict[str, set[str]]) -> dict:
    row = {"folder": folder.name, "kind": kind}
    start = time.perf_counter()
    try:
        report = verify_path(folder)
    except InputError as exc:
        row.update(verdict="error", note=str(exc)[:120], seconds=time.perf_counter() - start)
        return row
    row["seconds"] = time.perf_counter() - start
    errors = sorted({f.rule for f in report.all_findings() if f.severity == "error"})
    row.update(verdict=report.verdict, errors=errors)
    mean, claim = report.data.get("mean_val_bpb"), report.data.get("claimed_val_bpb")
    headline = report.data.get("headline_val_bpb")
    if mean is not None and claim is not None:
        decimals = len(repr(float(claim)).split(".")[-1])
        tol = st.claim_tolerance(decimals) + (10.0**-decimals if decimals >= 4 else 0.0)
        row["mean_matches_claim"] = abs(mean - claim) <= tol
        row["headline_matches_claim"] = headline is not None and abs(headline - claim) <= tol
        row["headline_basis"] = report.data.get("headline_basis")
    wanted = expected.get(folder.name.split("_")[0], set())
    if kind == "illegal":
        row["expected"] = sorted(wanted)
        row["right_reason"] = any(rule.split(".")[0] in wanted for rule in errors)
    sarif = json.loads(render(report, "sarif"))
    results = sarif["runs"][0]["results"]
    row["sarif_results"] = len(results)
    row["sarif_unlocated"] = sum(1 for r in results if not _located(r))
    return row


def _located(result: dict) -> bool:
    """A SARIF result with a file and a start line."""
    locations = result.get("locations") or [{}]
    physical = locations[0].get("physicalLocation", {})
    return bool(physical.get("artifactLocation", {}).get("uri")) and bool(
        physical.get("region", {}).get("startLine")
    )


def ci_row(folder: Path, cli: list[str]) -> dict:
    """Commit ``folder`` as a pull request into a throw-away challenge-shaped repository."""
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        repo = Path(tmp) / "parameter-golf"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("# Parameter Golf\n")
        (repo / "train_gpt.py").write_text("# baseline\n")
        (repo / "data").mkdir()
        (repo / "data/cached_challenge_fineweb.py").write_text("# download script\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "base")
        git(repo, "checkout", "-q", "-b", "pr")
        shutil.copytree(folder, repo / TRACK / folder.name)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"add {folder.name}")
        gate = [*cli, "ci", "--repo", str(repo), "--base", "main", "--head", "pr"]
        proc = subprocess.run(
            [*gate, "--format", "json"], capture_output=True, text=True, env=GIT_ENV
        )
        sarif = subprocess.run(
            [*gate, "--format", "sarif"], capture_output=True, text=True, env=GIT_ENV
        )
    row = {"folder": folder.name, "exit": proc.returncode}
    try:
        results = json.loads(sarif.stdout)["runs"][0]["results"]
        row["sarif_results"] = len(results)
        row["sarif_unlocated"] = sum(1 for r in results if not _located(r))
    except (ValueError, KeyError, IndexError):
        pass
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        row.update(verdict="error", note=proc.stderr.strip()[:120])
        return row
    errors = sorted({f["rule"] for f in doc.get("findings", []) if f["severity"] == "error"})
    row.update(verdict=doc.get("verdict"), errors=errors)
    return row


def summarize(rows: list[dict], ci_rows: list[dict]) -> dict:
    merged = [r for r in rows if r["kind"] == "merged"]
    completed = [r for r in rows if r["kind"] == "completed"]
    illegal = [r for r in rows if r["kind"] == "illegal"]
    claims = [r for r in merged if "mean_matches_claim" in r]
    return {
        "merged_folders": len(merged),
        "merged_pass_or_warn": sum(r["verdict"] in ("pass", "warn") for r in merged),
        "merged_failed": [r["folder"] for r in merged if r["verdict"] not in ("pass", "warn")],
        "claims_matched": sum(r["mean_matches_claim"] for r in claims),
        "claims_reproduced": sum(r["headline_matches_claim"] for r in claims),
        "claims_compared": len(claims),
        "illegal_folders": len(illegal),
        "illegal_failed": sum(r["verdict"] == "fail" for r in illegal),
        "illegal_right_reason": sum(bool(r.get("right_reason")) for r in illegal),
        "sarif_results": sum(r.get("sarif_results", 0) for r in rows + ci_rows),
        "sarif_unlocated": sum(r.get("sarif_unlocated", 0) for r in rows + ci_rows),
        "completed_folders": len(completed),
        "completed_pass_or_warn": sum(r["verdict"] in ("pass", "warn") for r in completed),
        "completed_ci_pass_or_warn": sum(r.get("ci") in ("pass", "warn") for r in completed),
        "ci_folders": len(ci_rows),
        "ci_pass_or_warn": sum(r["verdict"] in ("pass", "warn") for r in ci_rows),
        "ci_failed": [r["folder"] for r in ci_rows if r["verdict"] not in ("pass", "warn")],
    }


def markdown(summary: dict, rows: list[dict], ci_rows: list[dict], command: str) -> str:
    s = summary
    out = [
        BEGIN,
        "",
        f"Measured with `{command}`.",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| merged folders that pass or warn (`verify`) | {s['merged_pass_or_warn']} of "
        f"{s['merged_folders']} |",
        f"| headline mean matches the claim (merged, with a claim) | {s['claims_matched']} of "
        f"{s['claims_compared']} |",
        f"| the claim is reproduced (the mean, or the one run an early record claimed) | "
        f"{s['claims_reproduced']} of {s['claims_compared']} |",
        f"| closed pull requests' folders that fail `verify` | {s['illegal_failed']} of "
        f"{s['illegal_folders']} |",
        f"| ... failing on a rule of an expected condition | {s['illegal_right_reason']} of "
        f"{s['illegal_folders']} |",
        f"| whole merged folders that pass or warn `ci` as a pull request | "
        f"{s['ci_pass_or_warn']} of {s['ci_folders']} |",
        f"| logs-only merged folders completed with their own script: pass or warn `verify` | "
        f"{s['completed_pass_or_warn']} of {s['completed_folders']} |",
        f"| ... and pass or warn `ci` as a pull request | {s['completed_ci_pass_or_warn']} of "
        f"{s['completed_folders']} |",
        f"| SARIF results (`verify` and `ci`) without a file and line | {s['sarif_unlocated']} of "
        f"{s['sarif_results']} |",
        "",
        "| folder | kind | verify | errors | mean = claim | the claim is | ci |",
        "|---|---|---|---|---|---|---|",
    ]
    ci_by = {r["folder"]: r["verdict"] for r in ci_rows}
    for r in rows:
        ci = ci_by.get(r["folder"]) if r["kind"] != "completed" else r.get("ci")
        match = {True: "yes", False: "no"}.get(r.get("mean_matches_claim"), "–")
        out.append(
            f"| {r['folder']} | {r['kind']} | {r['verdict']} | "
            f"{', '.join(r.get('errors') or []) or '–'} | {match} | "
            f"{r.get('headline_basis') or '–'} | {ci or '–'} |"
        )
    out += ["", END]
    return "\n".join(out) + "\n"


def update_doc(doc: Path, block: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Accuracy\n"
    start, end = text.find(BEGIN), text.find(END)
    if start >= 0 and end > start:
        text = text[:start] + block + text[end + len(END) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n## verify and ci on real record folders\n\n" + block
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared", type=Path)
    parser.add_argument("--no-ci", action="store_true", help="skip the ci pull requests")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--update", type=Path, default=None, metavar="DOC")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"bench_verify_corpus: {args.shared}: not a folder", file=sys.stderr)
        return 2
    expected = expected_conditions(args.shared)
    rows = [verify_row(kind, folder, expected) for kind, folder in folders(args.shared)]
    ci_rows = []
    if not args.no_ci:
        cli = [str(Path(sys.executable).with_name("golf-check"))]
        if not Path(cli[0]).exists():
            cli = [sys.executable, "-m", "golf_check.harness"]
        whole = [
            folder
            for kind, folder in folders(args.shared)
            if kind == "merged" and any(folder.glob("train*.py"))
        ]
        ci_rows = [ci_row(folder, cli) for folder in whole]
        with tempfile.TemporaryDirectory(prefix="bench-completed-") as tmp:
            for folder in completed_folders(args.shared, Path(tmp)):
                row = verify_row("completed", folder, expected)
                row["ci"] = ci_row(folder, cli)["verdict"]
                rows.append(row)
    summary = summarize(rows, ci_rows)
    command = "python bench/bench_verify_corpus.py ../shared" + (" --no-ci" if args.no_ci else "")
    if args.json:
        print(json.dumps({"summary": summary, "verify": rows, "ci": ci_rows}, indent=2))
    elif args.markdown or args.update:
        block = markdown(summary, rows, ci_rows, command)
        if args.update:
            update_doc(args.update, block)
        else:
            print(block, end="")
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
