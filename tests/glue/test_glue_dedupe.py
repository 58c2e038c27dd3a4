"""Deduplication: the greatest order_by wins; on a tie or without order_by, the later input row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.glue.batch import column, job_config, run_batch, write

pytestmark = pytest.mark.slow


@pytest.fixture(params=["single-pass", "cached", "metrics-lost"])
def route(request, monkeypatch):
    """Run each test on both routes of run_job, and once with Spark losing the observed counts."""
    import onboard_glue.job

    if request.param == "cached":
        monkeypatch.setattr(onboard_glue.job, "fits_one_file", lambda *args: False)
    if request.param == "metrics-lost":
        monkeypatch.setattr(onboard_glue.job, "observed_metrics", lambda spark, observation: None)
    return request.param

INGESTED = datetime(2024, 11, 16, 10, 30, tzinfo=UTC)


def test_latest_by_order_by_then_by_input_order(spark, tmp_path, route):
    source = write(
        tmp_path / "in" / "updates.jsonl",
        '{"k": "k1", "v": "first",  "at": "2024-11-01T10:00:00Z"}\n'
        '{"k": "k1", "v": "older",  "at": "2024-11-01T09:00:00Z"}\n'
        '{"k": "k1", "v": "tie, later in input", "at": "2024-11-01T10:00:00Z"}\n'
        '{"k": "k2", "v": "only",   "at": "2024-11-02T00:00:00Z"}\n'
        '{"k": "k3", "v": "dated",  "at": "2024-11-03T00:00:00Z"}\n'
        '{"k": "k3", "v": "undated"}\n'
        '{"k": "k4", "v": "rejected, not a duplicate", "at": "yesterday"}\n',
    )
    columns = [column("k", nullable=False), column("v"), column("at", "timestamptz")]
    config = job_config({"type": "jsonl"}, columns, partition_by=[], dedupe={"keys": ["k"], "order_by": "at"})
    batch = run_batch(tmp_path / "lake", config, [source])

    assert batch.summary == {
        "batch_id": "b1",
        "rows_in": 7,
        "rows_loaded": 3,
        "rows_quarantined": 1,
        "rows_duplicate": 3,
        "files": 1,
        "quarantine_reasons": {"cast": 1},
        "quarantine_examples": {"cast": "cast: at value 'yesterday' is not timestamptz"},
        "unmapped_fields": [],
    }
    assert batch.rows("k") == [
        ("k1", "tie, later in input", datetime(2024, 11, 1, 10, tzinfo=UTC), "b1", INGESTED),
        ("k2", "only", datetime(2024, 11, 2, tzinfo=UTC), "b1", INGESTED),
        ("k3", "dated", datetime(2024, 11, 3, tzinfo=UTC), "b1", INGESTED),
    ]


def test_without_order_by_the_later_row_of_the_input_list_wins(spark, tmp_path, route):
    # Input order is the order of --input, not of the file names.
    later = write(tmp_path / "in" / "a-later.csv", "id,v\n1,from a (last file)\n3,only in a\n")
    earlier = write(tmp_path / "in" / "z earlier.csv", "id,v\n1,from z\n2,z first\n2,z second\n")
    columns = [column("id", "integer"), column("v")]
    config = job_config({"type": "csv"}, columns, partition_by=[], dedupe={"keys": ["id"], "order_by": None})
    batch = run_batch(tmp_path / "lake", config, [earlier, later])

    assert batch.rows("id") == [
        (1, "from a (last file)", "b1", INGESTED),
        (2, "z second", "b1", INGESTED),
        (3, "only in a", "b1", INGESTED),
    ]
    assert (batch.summary["rows_in"], batch.summary["rows_loaded"], batch.summary["rows_duplicate"]) == (5, 3, 2)


def test_keys_over_several_columns(spark, tmp_path):
    source = write(tmp_path / "in" / "r.csv", "a,b,v\n1,x,old\n1,y,other\n1,x,new\n")
    columns = [column("a", "integer"), column("b"), column("v")]
    config = job_config({"type": "csv"}, columns, partition_by=[], dedupe={"keys": ["a", "b"], "order_by": None})
    batch = run_batch(tmp_path / "lake", config, [source])

    assert batch.rows("a, b") == [(1, "x", "new", "b1", INGESTED), (1, "y", "other", "b1", INGESTED)]
