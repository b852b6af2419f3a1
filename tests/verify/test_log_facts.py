"""The simple log facts are described once, in ``LOG_FACTS``: the table drives the parser
and the fields of ``RunLog`` and ``SeedEvidence``, so a new fact is one line of the table."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

from golf_check.harness.evidence.logparse import LOG_FACTS, RunLog, parse_log
from golf_check.harness.evidence.model import SeedEvidence

SCORE = "final_int8_zlib_roundtrip_exact val_loss:2.05000000 val_bpb:1.21000000\n"

# Loads logparse with one more line in LOG_FACTS and nothing else changed, then reads a log.
_WITH_ONE_MORE_FACT = textwrap.dedent(
    """
    import importlib.util, json, sys
    import golf_check.harness.evidence as package

    name = "golf_check.harness.evidence.logparse"
    spec = importlib.util.find_spec(name)
    source = open(spec.origin, encoding="utf-8").read()
    anchor = "LOG_FACTS: tuple[LogFact, ...] = (\\n"
    assert source.count(anchor) == 1, "LOG_FACTS anchor not found"
    new_fact = (
        '    LogFact("ema_decay", "ema:", re.compile(r"^ema:decay=(\\\\d+(?:\\\\.\\\\d+)?)"),'
        ' line="ema_decay_line"),\\n'
    )
    source = source.replace(anchor, anchor + new_fact)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    package.logparse = module

    from golf_check.harness.evidence.model import SeedEvidence

    log = module.parse_log(sys.argv[1])
    seed = SeedEvidence.from_log(log)
    print(json.dumps({
        "log": [log.ema_decay, log.ema_decay_line],
        "seed": [seed.ema_decay, seed.ema_decay_line],
        "val_bpb": seed.val_bpb,
        "config": sorted(seed.hyperparameters),
    }))
    """
)


def test_a_fact_added_to_the_table_is_parsed_and_reaches_seed_evidence(tmp_path):
    assert not hasattr(RunLog, "ema_decay") and not hasattr(SeedEvidence, "ema_decay")
    log = tmp_path / "train_seed7.log"
    log.write_text("model_dim:512\nema:decay=0.997\n" + SCORE)
    done = subprocess.run(
        [sys.executable, "-c", _WITH_ONE_MORE_FACT, str(log)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["log"] == [0.997, 2]
    assert seen["seed"] == [0.997, 2]
    assert seen["val_bpb"] == 1.21
    # The fact's line says only the fact: it is not read as header config as well.
    assert seen["config"] == ["model_dim"]


def test_the_table_facts_are_read_and_copied_to_seed_evidence(tmp_path):
    log = tmp_path / "train_seed7.log"
    log.write_text(
        "world_size:8\n"
        "train_loader:dataset:fineweb10B_sp1024\n"
        "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=./tok.model"
        " byte_sidecar:enabled\n"
        "val_tokens:62021632\n"
        "gptq:generated 64 sequences in 12.5s\n"
        "GPTQ:collected 66 Hessians in 3.25s\n"
        "Serialized model int6+lzma: 15800000 bytes\n"
        "Total submission size: 90000000 bytes\n"
        "ngram_tilt:precompute tables elapsed=3.5s\n"
        "beginning TTT eval timer\n"
        "total_eval_time: 412.5s\n" + SCORE
    )
    run = parse_log(log)
    expected = {
        "world_size": 8,
        "dataset": "fineweb10B_sp1024",
        "tokenizer_kind": "sentencepiece",
        "tokenizer_path": "./tok.model",
        "byte_sidecar": True,
        "val_tokens": 62021632,
        "val_tokens_line": 4,
        "gptq_generate_s": 12.5,
        "gptq_hessian_s": 3.25,
        "gptq_hessian_line": 6,
        "model_bytes": 15800000,
        "raw_total_bytes": 90000000,
        "ngram_precompute_s": 3.5,
        "eval_timer_started": True,
        "total_eval_time_s": 412.5,
        "total_eval_time_line": 11,
    }
    assert {name: getattr(run, name) for name in expected} == expected
    assert {f.name for f in LOG_FACTS} | {f.line for f in LOG_FACTS if f.line} == set(expected)
    # Config lines (world_size, train_loader) are header config too; the others are not.
    assert run.hyperparameters == {"world_size": "8", "train_loader": "dataset:fineweb10B_sp1024"}

    seed = SeedEvidence.from_log(run)
    fields = {f.name for f in dataclasses.fields(SeedEvidence)}
    for fact in LOG_FACTS:
        names = [fact.name] + ([fact.line] if fact.line else [])
        for name in names:
            if fact.evidence:
                assert getattr(seed, name) == expected[name], name
            elif name not in ("val_tokens", "val_tokens_line"):
                assert name not in fields, name


def test_a_table_prefix_without_its_pattern_is_still_not_header_config(tmp_path):
    # "total_eval_time: n/a" names a table fact but holds no figure: it sets nothing, and is
    # not taken for a config setting either (as before the table).
    log = tmp_path / "train.log"
    log.write_text("total_eval_time: n/a\nworld_size: many\n" + SCORE)
    run = parse_log(log)
    assert run.total_eval_time_s is None and run.world_size is None
    assert run.hyperparameters == {"world_size": "many"}
