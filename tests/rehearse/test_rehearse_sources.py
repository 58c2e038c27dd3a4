"""`onboard rehearse`: the synthesized state machine executes every example source kind end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.runtime.ledger import SqliteRunLedger
from framework.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

LOADED = ["Ingest", "ResumeAt?", "Transform", "RecordTransform", "Crawl", "MigrationStart", "Migrate",
          "SchemaCurrent?", "WaitForMigration", "MigrationStatus", "MigrationFinished?", "Migrate", "SchemaCurrent?",
          "Load", "LoadSubmitted?", "WaitForLoad", "LoadStatus", "LoadFinished?", "RecordSuccess", "Notify", "Done"]


def rehearse(project, assembly, *args):
    return CliRunner().invoke(main, ["--project", str(project.root), "rehearse", *args, "--out", str(assembly),
                                     "--json"], catch_exceptions=False)


def summaries(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_an_s3_file_source_rehearses_through_the_cli(repo_project, rehearsal_assembly):
    result = rehearse(repo_project, rehearsal_assembly, "customers")
    assert result.exit_code == 0, result.output
    [summary] = summaries(result.output)
    assert {k: summary[k] for k in ("source", "status", "rows_in", "rows_loaded", "rows_quarantined",
                                    "rows_duplicate")} == {
        "source": "customers", "status": "succeeded", "rows_in": 10, "rows_loaded": 10, "rows_quarantined": 0,
        "rows_duplicate": 0}
    assert summary["states"] == LOADED
    assert [run["state"] for run in summary["glue_job_runs"]] == ["SUCCEEDED"]
    assert "error" not in summary and "failed_state" not in summary
    with DuckDBWarehouse(repo_project.warehouse_path, read_only=True) as warehouse:
        assert warehouse.query("SELECT customer_tier, COUNT(*) FROM sales.customers GROUP BY 1 ORDER BY 1")[1] == [
            ("bronze", 3), ("gold", 3), ("platinum", 1), ("silver", 3)]
        assert warehouse.query("SELECT DISTINCT _batch_id FROM sales.customers")[1] == [(summary["batch_id"],)]
    [record] = SqliteRunLedger(repo_project.ledger_path).recent("customers")
    assert (record.batch_id, record.status, record.stage) == (summary["batch_id"], "succeeded", "done")
    assert record.rows == {"rows_in": 10, "rows_loaded": 10, "rows_quarantined": 0, "rows_duplicate": 0}
