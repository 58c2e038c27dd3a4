"""`onboard rehearse`: the synthesized state machine executes every example source kind end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.runtime.ledger import SqliteRunLedger
from framework.warehouse import DuckDBWarehouse
from tests.rehearse.conftest import LOADED

pytestmark = pytest.mark.slow



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


def test_email_push_and_rest_sources_rehearse_through_their_triggers(repo_project, rehearsal_assembly, monkeypatch):
    from decimal import Decimal

    from framework.rehearse.assembly import Assembly
    from framework.rehearse.command import rehearse as rehearse_plan
    from tests.conftest import REPO

    monkeypatch.setenv("ONBOARD_SECRET_REVIEWS_API_KEY", "demo-key")  # becomes the moto Secrets Manager secret
    plan = [("supplier_invoices", REPO / "sources/samples/supplier_invoice.eml"),
            ("sensor_readings_push", REPO / "sources/samples/sensor_readings.jsonl"),
            ("product_reviews", REPO / "sources/samples/reviews_api.json")]
    got = {s.source: s for s in rehearse_plan(repo_project, Assembly(rehearsal_assembly), plan)}
    assert {name: (s.status, s.rows_in, s.rows_loaded, s.rows_quarantined, s.rows_duplicate)
            for name, s in got.items()} == {
        "supplier_invoices": ("succeeded", 6, 5, 1, 0), "sensor_readings_push": ("succeeded", 8, 8, 0, 0),
        "product_reviews": ("succeeded", 7, 6, 1, 0)}
    assert all(s.states == LOADED and len(s.glue_job_runs) == 1 for s in got.values())
    with DuckDBWarehouse(repo_project.warehouse_path, read_only=True) as warehouse:
        assert warehouse.query(
            "SELECT invoice_id, COUNT(*), SUM(amount), MIN(supplier) FROM procurement.supplier_invoices "
            "GROUP BY invoice_id ORDER BY invoice_id")[1] == [
            ("INV-1001", 3, Decimal("183.49"), "Acme Supplies"), ("INV-1002", 1, Decimal("50.00"), "Acme Supplies"),
            ("INV-1003", 1, Decimal("30.00"), "Acme Supplies Société")]
        assert warehouse.query("SELECT device_id, COUNT(*) FROM iot.sensor_readings_push GROUP BY 1 ORDER BY 1")[1] == [
            ("sensor-001", 2), ("sensor-002", 2), ("sensor-003", 2), ("sensor-004", 1), ("sensor-005", 1)]
        assert warehouse.query("SELECT COUNT(*), COUNT(DISTINCT review_id) FROM sales.product_reviews")[1] == [(6, 6)]


def test_every_loader_reaches_the_warehouse_as_one_identity(repo_project, rehearsal_assembly):
    """Issue 13 item 1: the loaders of two sources (two roles) submit every Data API statement with the
    platform's one loader secret, so the second source can use what the first one created."""
    from framework.rehearse.assembly import Assembly
    from framework.rehearse.execution import Rehearsal
    from tests.conftest import REPO

    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["customers", "products"]) as rehearsal:
        first = rehearsal.deliver("customers", REPO / "sources/samples/customers_data.json")
        second = rehearsal.deliver("products", REPO / "sources/samples/products_data.json")
        statements = list(rehearsal.data_api.statements.values())
    assert [s.status for s in first + second] == ["succeeded", "succeeded"]
    identities = {s.identity for s in statements}
    assert len(identities) == 1 and identities.pop().startswith("secret:arn:aws:secretsmanager:us-east-1:")
    assert {s.connection["WorkgroupName"] for s in statements} == {"onboard-warehouse"}


def test_fail_at_names_a_task_of_the_state_machine(repo_project, rehearsal_assembly):
    result = CliRunner().invoke(main, ["--project", str(repo_project.root), "rehearse", "customers", "--fail-at",
                                       "Done", "--out", str(rehearsal_assembly)])
    assert result.exit_code == 1
    assert ("--fail-at Done: not a task of customers's state machine; choose from: Ingest, Transform, "
            "RecordTransform, Migrate, MigrationStatus, RecordFailure, Load, Crawl, LoadStatus, RecordSuccess, "
            "Notify, Alert") in " ".join(result.output.split())


def test_a_stream_replay_of_micro_batches_is_coalesced_into_one_glue_run(repo_project, rehearsal_assembly):
    """Issue 13 item 8: the Kinesis batches (13 records in batches of 5) are landed and marked pending by the
    connector; the flush Lambda, fired by its schedule, starts one execution: one Glue run loads them all."""
    result = rehearse(repo_project, rehearsal_assembly, "sensor_readings_stream")
    assert result.exit_code == 0, result.output
    [summary] = summaries(result.output)
    assert (summary["status"], summary["rows_loaded"]) == ("succeeded", 12)
    assert summary["states"] == LOADED
    assert [run["state"] for run in summary["glue_job_runs"]] == ["SUCCEEDED"]
    with DuckDBWarehouse(repo_project.warehouse_path, read_only=True) as warehouse:
        assert warehouse.query("SELECT location, COUNT(*), COUNT(DISTINCT device_id) FROM iot.sensor_readings_stream "
                               "GROUP BY location ORDER BY location")[1] == [
            ("cold-store-1", 3, 2), ("dock-2", 2, 1), ("roof-east", 2, 1), ("warehouse-a", 5, 2)]
        assert warehouse.query("SELECT COUNT(DISTINCT _batch_id) FROM iot.sensor_readings_stream")[1] == [(1,)]


def test_a_loaded_batch_of_a_partitioned_source_is_in_the_lake_catalog_at_once(repo_project, rehearsal_assembly,
                                                                                 tmp_path):
    """The loader adds the batch's partition folders to `<source>_batches` (the table the stack creates) after
    the load, so the Athena view counts the batch without waiting for the crawler's daily run."""
    from framework.rehearse.assembly import Assembly
    from framework.rehearse.execution import Rehearsal

    data = tmp_path / "sales.csv"
    data.write_text("transaction_id,date,customer_id,product_id,quantity,unit_price,total_amount,region,"
                    "payment_method\nTXN001,2024-11-16,CUST002,PROD102,2,5.00,10.00,US-EAST,paypal\n"
                    "TXN002,2024-12-01,CUST002,PROD102,1,5.00,5.00,US-EAST,paypal\n", encoding="utf-8")
    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["sales_transactions"]) as rehearsal:
        [summary] = rehearsal.deliver("sales_transactions", data)
        glue = rehearsal.session.client("glue")
        found = glue.get_partitions(DatabaseName="onboard_lake", TableName="sales_transactions_batches")["Partitions"]
        view = glue.get_table(DatabaseName="onboard_lake", Name="sales_transactions")["Table"]
    assert (summary.status, summary.rows_loaded) == ("succeeded", 2)
    assert sorted(p["Values"] for p in found) == [["2024", "11", "16"], ["2024", "12", "01"]]
    assert {p["StorageDescriptor"]["Location"].split("/sales_transactions/")[1] for p in found} == {
        "onboard_year=2024/onboard_month=11/onboard_day=16/", "onboard_year=2024/onboard_month=12/onboard_day=01/"}
    assert view["TableType"] == "VIRTUAL_VIEW"
