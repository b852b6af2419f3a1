"""C2.oversized-ngram-cache from the hyperparameters a log echoes: a bucket count above the
vocabulary with nothing saying the cache is normalized, and its legal twins."""

from __future__ import annotations

import pytest

from golf_check.harness.evidence.verifier import verify_path

LOG = """Hyperparameters:
  seed: 1337
  vocab_size: 1024
  {extra}
step:10/10 val_loss:2.0000 val_bpb:1.2000
stopping_early: wallclock_cap train_time:500000ms step:10/10
final_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:1.20000000
"""


def _findings(tmp_path, extra: str) -> list:
    log = tmp_path / "train_seed1337.log"
    log.write_text(LOG.format(extra=extra))
    report = verify_path(log)
    return [f for f in report.findings if f.rule == "C2.oversized-ngram-cache"]


def test_buckets_above_the_vocabulary_without_normalization_are_reported(tmp_path):
    (found,) = _findings(tmp_path, "ngram_buckets: 4194304")
    assert found.severity == "warning" and found.level == "log"
    assert "4,194,304 buckets over a 1,024-token vocabulary" in found.message
    assert found.evidence == "ngram_buckets=4194304"


@pytest.mark.parametrize(
    "extra",
    ["ngram_buckets: 1024", "ngram_buckets: 4194304\n  ngram_normalize: 1", "ngram_order: 3"],
    ids=["within-the-vocabulary", "normalized", "no-bucket-setting"],
)
def test_legal_configurations_are_not(tmp_path, extra):
    assert _findings(tmp_path, extra) == []


@pytest.mark.parametrize("extra", ["hedge_buckets: 65536", "bigram_hash_buckets: 2816"])
def test_other_hashed_tables_are_not_an_ngram_cache(tmp_path, extra):
    # a normalized expert table (the reference's Hedge trigram rows) or a hashed embedding
    assert _findings(tmp_path, extra) == []
