"""The promise of `onboard new`: the definition it writes validates, generates, and running the same sample
through it (connector, Glue job on Spark, DuckDB warehouse) loads every row with nothing quarantined."""

from __future__ import annotations

import json

import pytest

from tests.infer.test_new_from_sample import EXPECTED, onboard, write_corpus

pytestmark = pytest.mark.slow

ROWS = {"contacts": 3, "readings": 4, "events": 2, "orders": 2, "clicks": 3, "items": 2, "stock": 2}


def test_every_inferred_sample_loads_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    (tmp_path / "sources").mkdir()
    files = write_corpus(tmp_path / "samples")
    for name in sorted(EXPECTED):
        assert onboard(tmp_path, "new", name, "--from", str(files[name])).exit_code == 0
    assert onboard(tmp_path, "validate").exit_code == 0
    generated = onboard(tmp_path, "generate")
    assert generated.exit_code == 0, generated.output
    result = onboard(tmp_path, "run", "--all", "--json")
    assert result.exit_code == 0, result.output
    runs = {row["source"]: row for row in map(json.loads, (line for line in result.output.splitlines()
                                                            if line.startswith("{")))}
    assert {name: (r["status"], r["rows_in"], r["rows_loaded"], r["rows_quarantined"]) for name, r in runs.items()} \
        == {name: ("succeeded", rows, rows, 0) for name, rows in ROWS.items()}
    answer = onboard(tmp_path, "query", "--format", "csv",
                     'SELECT "when", local_time, logged_at, day, amount FROM public.events ORDER BY 1')
    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines()[1:] == [
        "2000-01-01,2024-01-02 21:05:00,2024-01-05 10:00:00+00:00,2023-12-31,12.50",
        "2024-02-29,2024-12-31 11:59:00,2024-01-05 08:00:00+00:00,2024-01-01,-3.00"]
