"""Each PACKAGE rule of rules/pull_request.py on a real git pull request: legal and illegal twin."""

from __future__ import annotations

import json
import os

from golf_check.harness.ci.gate import package_findings
from golf_check.harness.ci.pull_request import load_pull_request
from golf_check.harness.rulebook import load_all

TRACK = "records/track_10min_16mb"


def findings(repo, **kw):
    return package_findings(load_pull_request(str(repo.root), "main", "HEAD", **kw))


def by_rule(found, rule_id):
    return [f for f in found if f.rule == rule_id and f.severity != "info"]


def test_clean_submission_has_no_package_problem(challenge):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    found = findings(challenge)
    assert [f for f in found if f.severity != "info"] == []


def test_every_package_detector_is_registered_with_its_rule():
    registry = load_all()
    ids = {rid for d in registry.detectors_for("package") for rid in d.rule_ids}
    assert ids == {
        "PACKAGE.pr-scope",
        "PACKAGE.pr-modifies-record",
        "PACKAGE.pr-logs-per-seed",
        "PACKAGE.pr-file-size",
        "PACKAGE.pr-symlink",
        "PACKAGE.pr-path-escape",
        "PACKAGE.pr-committed-checkpoint",
        "PACKAGE.pr-helper-code",
    }


# --------------------------------------------------------------------------- scope


def test_path_outside_the_folder_is_named(challenge):
    challenge.fork()
    challenge.submission()
    challenge.write("data/cached_challenge_fineweb.py", "# patched downloader\n")
    challenge.write("notes.txt", "hello\n")
    challenge.commit()
    (scope,) = by_rule(findings(challenge), "PACKAGE.pr-scope")
    assert "data/cached_challenge_fineweb.py (modified)" in scope.message
    assert "notes.txt (added)" in scope.message
    assert "2 path(s)" in scope.message


def test_no_record_folder_is_out_of_scope(challenge):
    challenge.fork()
    challenge.write("README.md", "# Parameter Golf, improved\n")
    challenge.commit()
    found = by_rule(findings(challenge), "PACKAGE.pr-scope")
    assert any("adds no new record folder" in f.message for f in found)


def test_two_record_folders_are_out_of_scope(challenge):
    challenge.fork()
    challenge.submission("2026-05-01_A")
    challenge.submission("2026-05-01_B")
    challenge.commit()
    (scope,) = by_rule(findings(challenge), "PACKAGE.pr-scope")
    assert "adds 2 record folders" in scope.message


def test_non_record_track_is_a_valid_target(challenge):
    challenge.fork()
    folder = "records/track_non_record_16mb/2026-05-01_Slow"
    challenge.copy_record("2026-04-06_SP8192_QK5_LegalTTT_1.0828", folder)
    challenge.write(f"{folder}/README.md", "# slow\n")
    challenge.write(f"{folder}/train_gpt.py", "print(1)\n")
    challenge.commit()
    pr = load_pull_request(str(challenge.root), "main", "HEAD")
    assert [f.path for f in pr.new_folders] == [folder]
    assert by_rule(package_findings(pr), "PACKAGE.pr-scope") == []


def test_modifying_an_existing_record_is_reported(challenge):
    challenge.fork()
    challenge.submission()
    merged = f"{TRACK}/{challenge.MERGED}"
    challenge.write(f"{merged}/submission.json", json.dumps({"val_bpb": 0.5}))
    (challenge.root / merged / "train_seed42_rerun_gptq8s.log").unlink()
    challenge.commit()
    found = findings(challenge)
    (mod,) = by_rule(found, "PACKAGE.pr-modifies-record")
    assert f"{merged}/submission.json (modified)" in mod.message
    assert f"{merged}/train_seed42_rerun_gptq8s.log (deleted)" in mod.message
    assert by_rule(found, "PACKAGE.pr-scope") == []  # the new folder itself is fine


# --------------------------------------------------------------------------- logs per seed


def test_missing_log_for_claimed_seed(challenge):
    challenge.fork()
    folder = challenge.submission()
    (challenge.root / folder / "train_seed1234.log").unlink()
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-logs-per-seed")
    assert "claims seed(s) 1234" in f.message
    assert f.file == f"{folder}/submission.json"


def test_seed_is_read_from_the_log_not_the_name(challenge):
    challenge.fork()
    folder = challenge.submission()
    # Same three logs under names that say nothing about the seed: still covered.
    for i, seed in enumerate((0, 42, 1234)):
        (challenge.root / folder / f"train_seed{seed}.log").rename(
            challenge.root / folder / f"run{i}.log"
        )
    challenge.commit()
    assert by_rule(findings(challenge), "PACKAGE.pr-logs-per-seed") == []


def test_log_named_for_a_seed_it_did_not_run_does_not_count(challenge):
    challenge.fork()
    folder = challenge.submission()
    log = challenge.root / folder / "train_seed1234.log"
    log.write_bytes(log.read_bytes().replace(b"seed: 1234", b"seed: 7"))
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-logs-per-seed")
    assert "1234" in f.message


def test_folder_without_any_log(challenge):
    challenge.fork()
    folder = f"{TRACK}/2026-05-01_NoLogs"
    challenge.write(f"{folder}/README.md", "# x\n")
    challenge.write(f"{folder}/submission.json", json.dumps({"val_bpb": 1.1}))
    challenge.write(f"{folder}/train_gpt.py", "print(1)\n")
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-logs-per-seed")
    assert "holds no training log" in f.message


# --------------------------------------------------------------------------- size


def test_oversized_file_is_reported_and_never_read(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/notes.md", "x" * 30_000)
    challenge.commit()
    assert by_rule(findings(challenge), "PACKAGE.pr-file-size") == []
    pr = load_pull_request(str(challenge.root), "main", "HEAD", max_file_bytes=20_000)
    (f,) = by_rule(package_findings(pr), "PACKAGE.pr-file-size")
    assert f.file == f"{folder}/notes.md"
    assert "30,000 bytes, over the 20,000-byte bound" in f.message
    assert "notes.md" not in pr.new_folders[0].contents


def test_over_cap_artifact_fails_even_when_declared(challenge):
    challenge.fork()
    folder = challenge.submission()
    sub = json.loads((challenge.root / folder / "submission.json").read_text())
    sub["committed_binaries"] = [{"path": "final_model.int6.ptz", "reason": "artifact"}]
    challenge.write(f"{folder}/submission.json", json.dumps(sub))
    challenge.write(f"{folder}/final_model.int6.ptz", b"\x28\xb5\x2f\xfd" + b"\0" * 16_000_000)
    challenge.commit()
    found = findings(challenge)
    (f,) = by_rule(found, "PACKAGE.pr-file-size")
    assert "over the 16,000,000-byte artifact cap" in f.message
    # Declared: the checkpoint rule only lists it.
    assert by_rule(found, "PACKAGE.pr-committed-checkpoint") == []


# --------------------------------------------------------------------------- symlinks, paths


def test_symlink_escaping_the_folder(challenge):
    challenge.fork()
    folder = challenge.submission()
    (challenge.root / folder / "train_seed42.log").unlink()
    challenge.symlink(f"{folder}/train_seed42.log", "../../../../../etc/hostname")
    challenge.commit()
    found = findings(challenge)
    (f,) = by_rule(found, "PACKAGE.pr-symlink")
    assert "resolves outside the record folder" in f.message
    assert f.file == f"{folder}/train_seed42.log"
    # The link is not a log: seed 42 now has none.
    assert by_rule(found, "PACKAGE.pr-logs-per-seed")


def test_symlink_inside_the_folder_is_still_reported(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.symlink(f"{folder}/latest.log", "train_seed42.log")
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-symlink")
    assert "resolves outside" not in f.message


def test_symlink_mode_is_read_from_git_not_the_work_tree(challenge):
    challenge.fork()
    folder = challenge.submission()
    # Commit a symlink through git's index directly (as a checkout with core.symlinks=false
    # would hold it): the work tree has no link at all.
    sha = challenge.git("hash-object", "-w", "--stdin", input=b"/etc/passwd").strip()
    challenge.git("add", "-A")
    challenge.git("update-index", "--add", "--cacheinfo", f"120000,{sha},{folder}/evil.log")
    challenge.git("commit", "-q", "-m", "link")
    assert not (challenge.root / folder / "evil.log").exists()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-symlink")
    assert "'/etc/passwd'" in f.message


def test_submodule_is_a_path_escape(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.git("add", "-A")
    fake_commit = "1" * 40
    challenge.git("update-index", "--add", "--cacheinfo", f"160000,{fake_commit},{folder}/kernels")
    challenge.git("commit", "-q", "-m", "submodule")
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-path-escape")
    assert "git submodule" in f.message


def test_crafted_dotdot_tree_entry_is_reported(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.commit()
    # Build a tree by hand whose record folder holds a directory literally named "..".
    blob = challenge.git("hash-object", "-w", "--stdin", input=b"pwned\n").strip()
    inner = challenge.git("mktree", input=f"100644 blob {blob}\tREADME.md\n".encode()).strip()
    listing = challenge.git("ls-tree", f"HEAD:{folder}")
    crafted = challenge.git("mktree", input=(listing + f"040000 tree {inner}\t..\n").encode())
    track = challenge.git("ls-tree", f"HEAD:{TRACK}")
    name = folder.rsplit("/", 1)[1]
    track = track.replace(challenge.git("rev-parse", f"HEAD:{folder}").strip(), crafted.strip())
    track_sha = challenge.git("mktree", input=track.encode()).strip()
    records = challenge.git("mktree", input=f"040000 tree {track_sha}\ttrack_10min_16mb\n".encode())
    root = challenge.git("ls-tree", "HEAD").replace(
        challenge.git("rev-parse", "HEAD:records").strip(), records.strip()
    )
    root_sha = challenge.git("mktree", input=root.encode()).strip()
    commit = challenge.git("commit-tree", root_sha, "-p", "HEAD", "-m", "crafted").strip()
    found = package_findings(load_pull_request(str(challenge.root), "main", commit))
    escapes = by_rule(found, "PACKAGE.pr-path-escape")
    assert any("'..'" in f.message and name in f.message for f in escapes)


def test_non_utf8_file_name_is_reported_and_not_written(challenge):
    challenge.fork()
    folder = challenge.submission()
    raw = os.fsencode(str(challenge.root / folder)) + b"/notes\xff.md"
    with open(raw, "wb") as fh:
        fh.write(b"hello\n")
    challenge.commit()
    found = by_rule(findings(challenge), "PACKAGE.pr-path-escape")
    assert [f.message.split(": ", 1)[1] for f in found] == ["path is not valid UTF-8"]
    assert found[0].file is None  # the name cannot be shown as a location


def test_glob_like_folder_name_is_read_literally(challenge):
    challenge.fork()
    folder = challenge.submission(name="2026-05-01_[abc]*")
    challenge.commit()
    pr = load_pull_request(str(challenge.root), "main", "HEAD")
    assert [f.path for f in pr.new_folders] == [folder]
    assert "train_gpt.py" in pr.new_folders[0].names()


# --------------------------------------------------------------------------- binaries


def test_undeclared_checkpoint_is_an_error(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/final_model.pt", b"PK\x03\x04" + b"\0" * 100)
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-committed-checkpoint")
    assert f.severity == "error"
    assert "not declared" in f.message


def test_checkpoint_is_found_by_content_under_any_name(challenge):
    challenge.fork()
    folder = challenge.submission()
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    challenge.write(
        f"{folder}/weights.dat", len(header).to_bytes(8, "little") + header + b"\0\0\0\0"
    )
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-committed-checkpoint")
    assert "safetensors" in f.message


def test_declared_binary_is_listed_as_info(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/tokenizer.model", b"\x0a\x00\x01binary protobuf")
    sub = json.loads((challenge.root / folder / "submission.json").read_text())
    sub["committed_binaries"] = ["tokenizer.model"]
    challenge.write(f"{folder}/submission.json", json.dumps(sub))
    challenge.commit()
    found = [f for f in findings(challenge) if f.rule == "PACKAGE.pr-committed-checkpoint"]
    assert [f.severity for f in found] == ["info"]
    assert "declared in committed_binaries" in found[0].message


def test_undeclared_plain_binary_is_a_warning(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/figure.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    challenge.commit()
    (f,) = by_rule(findings(challenge), "PACKAGE.pr-committed-checkpoint")
    assert f.severity == "warning"


# --------------------------------------------------------------------------- helper code


def test_helper_code_is_named_with_its_bytes(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/ngram_tilt.py", "# helper\n" * 900)
    challenge.write(f"{folder}/kernels/fused.cu", "// kernel\n")
    challenge.commit()
    (f,) = [f for f in findings(challenge) if f.rule == "PACKAGE.pr-helper-code"]
    assert f.severity == "info"
    assert "kernels/fused.cu (10 bytes), ngram_tilt.py (8,100 bytes)" in f.message


def test_script_alone_names_no_helper(challenge):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    assert not [f for f in findings(challenge) if f.rule == "PACKAGE.pr-helper-code"]
