"""Nothing lost, nothing doubled: replays change no table, a failure in any stage leaves the warehouse as it
was and the run ledger names the stage, and `--resume` finishes a failed batch."""

from __future__ import annotations

import json

import pytest

from framework.local import runner as runner_module
from framework.warehouse import DuckDBWarehouse
from framework.warehouse.duckdb_adapter import DuckDBWarehouse as Adapter
from tests.e2e.test_examples import run_cli, summaries

pytestmark = pytest.mark.slow

TABLES = ("sales.customers", "sales.products", "sales.transactions", "sales.product_reviews")


def snapshot(project, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple]]:
    """Every row of the example tables, lineage columns included."""
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        return {t: warehouse.query(f"SELECT * FROM {t} ORDER BY 1, _batch_id")[1]  # noqa: S608 (fixed names)
                for t in tables}


RECORD_SOURCES = ("supplier_invoices", "sensor_readings_push", "sensor_readings_stream")
RECORD_TABLES = ("procurement.supplier_invoices", "iot.sensor_readings_push", "iot.sensor_readings_stream")


def business_rows(project, table: str) -> list[tuple]:
    """A table's rows without the lineage columns, which a re-delivered batch rewrites."""
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        columns = [c for c, _ in warehouse.table_columns(*table.split(".")) if not c.startswith("_")]
        listed = ", ".join(columns)
        return warehouse.query(f"SELECT {listed} FROM {table} ORDER BY {listed}")[1]  # noqa: S608 (fixed names)


def customers(project) -> list[tuple]:
    return snapshot(project, ("sales.customers",))["sales.customers"]


def status_records(project, *source: str) -> list[dict]:
    result = run_cli(project, "status", *source, "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def ledger_record(project, source: str, batch_id: str) -> dict:
    """The batch's record as `onboard status` lists it (two batches of one second sort by their hash)."""
    [record] = [r for r in status_records(project, source) if r["batch_id"] == batch_id]
    return record


def test_the_same_inputs_twice_change_no_table_and_every_row_is_counted(repo_project, monkeypatch):
    monkeypatch.setenv("ONBOARD_SECRET_REVIEWS_API_KEY", "demo-key")  # the recorded review API's key
    first = run_cli(repo_project, "run", "--all", "--json")
    assert first.exit_code == 0, first.output
    loaded = snapshot(repo_project)
    for name, row in summaries(first.output).items():
        assert row["rows_in"] == row["rows_loaded"] + row["rows_quarantined"] + row["rows_duplicate"], name
    assert {t: len(rows) for t, rows in loaded.items()} == {
        "sales.customers": 10, "sales.products": 10, "sales.transactions": 15, "sales.product_reviews": 6}

    records_before = {t: business_rows(repo_project, t) for t in RECORD_TABLES}
    assert all(records_before.values())

    again = run_cli(repo_project, "run", "--all", "--json")
    assert again.exit_code == 0, again.output
    # Files: the same object again is skipped. The REST source: its cursor has moved, nothing new is fetched.
    # Email: the same Message-ID lands once. Pushed and streamed records arrive again as a new delivery and
    # are merged on their keys, so their tables keep the same rows.
    expected = {n: ("no_data", None) if n == "product_reviews" else ("skipped", r["batch_id"])
                for n, r in summaries(first.output).items() if n not in RECORD_SOURCES}
    expected |= {"supplier_invoices": ("duplicate", None), "sensor_readings_push": ("succeeded", None),
                 "sensor_readings_stream": ("succeeded", None)}
    got = {n: (r["status"], None if n in RECORD_SOURCES else r.get("batch_id"))
           for n, r in summaries(again.output).items()}
    assert got == expected
    assert snapshot(repo_project) == loaded
    assert {t: business_rows(repo_project, t) for t in RECORD_TABLES} == records_before

    records = status_records(repo_project)
    assert sorted((r["source"], r["status"], r["stage"], r["rows"]["rows_loaded"]) for r in records
                  if r["source"] not in RECORD_SOURCES) == [
        ("customers", "succeeded", "done", 10), ("product_reviews", "succeeded", "done", 6),
        ("products", "succeeded", "done", 10), ("sales_transactions", "succeeded", "done", 15)]
    [record] = status_records(repo_project, "customers")
    assert [o["etag"] for o in record["objects"]] and set(record["seconds"]) == {"startup", "check", "land", "transform", "load"}


@pytest.fixture
def loaded_customers(repo_project, tmp_path):
    """customers loaded once, and a changed copy of its sample (another object) ready to land."""
    assert run_cli(repo_project, "run", "customers").exit_code == 0
    sample = repo_project.root / "sources/samples/customers_data.json"
    changed = tmp_path / "customers_data.json"
    changed.write_text(sample.read_text(encoding="utf-8").replace("John Doe", "John Q. Doe"), encoding="utf-8")
    return changed, customers(repo_project)


def failed_run(project, changed) -> dict:
    result = run_cli(project, "run", "customers", "--input", str(changed), "--json")
    assert result.exit_code == 1, result.output
    return summaries(result.output)["customers"]


def test_a_spark_job_crash_leaves_the_table_and_the_ledger_names_the_transform(repo_project, loaded_customers,
                                                                                monkeypatch):
    changed, before = loaded_customers
    real_job = runner_module.run_glue_script

    def crash(script, args):
        raise RuntimeError("Py4JJavaError: executor lost")

    monkeypatch.setattr(runner_module, "run_glue_script", crash)
    summary = failed_run(repo_project, changed)
    assert summary["error"] == "transform failed: Py4JJavaError: executor lost"
    assert customers(repo_project) == before
    assert len(status_records(repo_project, "customers")) == 2
    latest = ledger_record(repo_project, "customers", summary["batch_id"])
    assert (latest["status"], latest["stage"], latest["error"]) == (
        "failed", "transform", "transform failed: Py4JJavaError: executor lost")

    again = failed_run(repo_project, changed)  # the same object again: not landed twice, pointed to --resume
    assert again["batch_id"] == summary["batch_id"] and "--resume" in again["error"]

    monkeypatch.setattr(runner_module, "run_glue_script", real_job)
    resumed = run_cli(repo_project, "run", "customers", "--resume", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert summaries(resumed.output)["customers"]["rows_loaded"] == 10
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT name, _batch_id FROM sales.customers WHERE customer_id = 'CUST001'")[1] == [
            ("John Q. Doe", summary["batch_id"])]


def test_a_copy_mismatch_leaves_the_table_and_resume_loads_without_transforming(repo_project, loaded_customers,
                                                                                monkeypatch, tmp_path):
    changed, before = loaded_customers
    real_job = runner_module.run_glue_script
    wrong = tmp_path / "wrong.parquet"
    with DuckDBWarehouse() as scratch:
        scratch._connection.execute(f"COPY (SELECT 1 AS a, 2 AS b) TO '{wrong}' (FORMAT PARQUET)")
    good_manifest = {}

    def job_with_a_bad_manifest(script, args):
        real_job(script, args)
        with open(args["manifest"], encoding="utf-8") as manifest:
            good_manifest["text"] = manifest.read()
        with open(args["manifest"], "w", encoding="utf-8") as manifest:
            json.dump({"entries": [{"url": str(wrong), "mandatory": True,
                                    "meta": {"content_length": wrong.stat().st_size}}]}, manifest)

    monkeypatch.setattr(runner_module, "run_glue_script", job_with_a_bad_manifest)
    summary = failed_run(repo_project, changed)
    assert "Unmatched number of columns" in summary["error"]
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"], summary["rows_duplicate"],
            summary["rows_not_loaded"]) == (10, 0, 0, 0, 10)
    assert customers(repo_project) == before
    latest = ledger_record(repo_project, "customers", summary["batch_id"])
    assert (latest["status"], latest["stage"], latest["rows"]["rows_not_loaded"]) == ("failed", "load", 10)

    def no_transform(script, args):
        raise AssertionError("resume at load must not run the Glue job again")

    monkeypatch.setattr(runner_module, "run_glue_script", no_transform)
    manifest = next((repo_project.lake_dir / "processed/_manifests/customers").glob(f"{summary['batch_id']}.manifest"))
    manifest.write_text(good_manifest["text"], encoding="utf-8")
    resumed = run_cli(repo_project, "run", "customers", "--resume", summary["batch_id"], "--json")
    assert resumed.exit_code == 0, resumed.output
    # The batch keeps the timing of its one transform (the failed attempt's); the load is new.
    assert summaries(resumed.output)["customers"]["seconds"]["transform"] == summary["seconds"]["transform"]
    assert "rows_not_loaded" not in summaries(resumed.output)["customers"]
    assert len(customers(repo_project)) == 10
    latest = ledger_record(repo_project, "customers", summary["batch_id"])
    assert (latest["status"], latest["stage"], latest["rows"]["rows_loaded"]) == ("succeeded", "done", 10)
    assert run_cli(repo_project, "run", "customers", "--resume", summary["batch_id"]).exit_code == 1


def test_a_merge_error_leaves_the_table_and_the_ledger_names_the_load(repo_project, loaded_customers, monkeypatch):
    changed, before = loaded_customers
    real_run = Adapter._run

    def failing_merge(self, item, in_transaction):
        if item.statement.text.lstrip().upper().startswith("INSERT INTO SALES.CUSTOMERS"):
            raise RuntimeError("merge failed: disk full")
        return real_run(self, item, in_transaction)

    monkeypatch.setattr(Adapter, "_run", failing_merge)
    summary = failed_run(repo_project, changed)
    assert "merge failed: disk full" in summary["error"]
    monkeypatch.setattr(Adapter, "_run", real_run)
    assert customers(repo_project) == before  # the DELETE before it was rolled back
    latest = ledger_record(repo_project, "customers", summary["batch_id"])
    assert (latest["status"], latest["stage"]) == ("failed", "load")
    assert "merge failed: disk full" in latest["error"]
