"""Changing your mind, by the real CLI on local Spark and DuckDB: a column added after data arrived is applied
with `onboard migrate` and filled from the raw objects with `onboard run --reprocess`; a schema lock that
restarted at version 1 is refused before anything lands, and `onboard reset` starts the source over."""

from __future__ import annotations

import json
import shutil

import pytest

from framework.project import Project
from tests.conftest import edit_source
from tests.e2e.test_examples import run_cli, summaries
from tests.e2e.test_schema_evolution import customers_project, record, rows, write_batch  # noqa: F401

pytestmark = pytest.mark.slow

LOYALTY = "      - {name: signup_date, type: date}\n      - {name: loyalty_points, type: integer}\n"


def load(project: Project, path: str) -> dict:
    result = run_cli(project, "run", "customers", "--input", path, "--json")
    assert result.exit_code == 0, result.output
    return summaries(result.output)["customers"]


def add_loyalty_points(project: Project) -> None:
    edit_source(project, "      - {name: signup_date, type: date}\n", LOYALTY)
    assert run_cli(project, "generate").exit_code == 0


def test_add_a_column_migrate_then_reprocess_fills_it_without_new_rows(customers_project):  # noqa: F811
    project = customers_project
    first = load(project, write_batch(project, "a.json", [record("CUST001", "John", loyalty_points=120),
                                                         record("CUST002", "Jane", loyalty_points=7)]))
    second = load(project, write_batch(project, "b.json", [record("CUST003", "Aiko", loyalty_points=55)]))
    assert (first["rows_loaded"], second["rows_loaded"]) == (2, 1)

    add_loyalty_points(project)
    migrated = run_cli(project, "migrate", "customers")
    assert (migrated.exit_code, migrated.output) == (0, "customers: applied V2 to the local warehouse\n")
    assert rows(project, "SELECT customer_id, loyalty_points FROM sales.customers ORDER BY 1") == [
        ("CUST001", None), ("CUST002", None), ("CUST003", None)]
    again = run_cli(project, "migrate")
    assert again.output == "customers: nothing to apply (the local warehouse is at the lock's version)\n"
    assert run_cli(project, "run", "customers", "--input", str(project.root / "a.json")).output.startswith(
        "skipped customers: this input was already processed")

    result = run_cli(project, "run", "customers", "--reprocess", "--json")
    assert result.exit_code == 0, result.output
    done = [json.loads(line) for line in result.output.splitlines()]
    assert [(d["reprocess_of"], d["status"], d["rows_loaded"]) for d in done] == [
        (first["batch_id"], "succeeded", 2), (second["batch_id"], "succeeded", 1)]
    assert all(d["batch_id"] not in (first["batch_id"], second["batch_id"]) for d in done)
    assert rows(project, "SELECT customer_id, loyalty_points FROM sales.customers ORDER BY 1") == [
        ("CUST001", 120), ("CUST002", 7), ("CUST003", 55)]
    assert rows(project, "SELECT count(*) FROM sales.customers") == [(3,)]

    status = [json.loads(line) for line in run_cli(project, "status", "customers", "--json").output.splitlines()]
    assert sorted((r["batch_id"], r.get("reprocess_of")) for r in status) == sorted([
        (first["batch_id"], None), (second["batch_id"], None),
        (done[0]["batch_id"], first["batch_id"]), (done[1]["batch_id"], second["batch_id"])])
    text = run_cli(project, "status", "customers").output
    assert f"{done[0]['batch_id']}  customers  succeeded  2 in, 2 loaded, 0 quarantined, 0 duplicate  " \
           f"(reprocess of {first['batch_id']})" in text.splitlines()

    one = run_cli(project, "run", "customers", "--reprocess", "--batch", second["batch_id"], "--json")
    assert [json.loads(line)["reprocess_of"] for line in one.output.splitlines()] == [second["batch_id"]]
    assert rows(project, "SELECT count(*) FROM sales.customers") == [(3,)]


def test_a_lock_that_restarted_is_refused_until_the_source_is_reset(customers_project):  # noqa: F811
    project = customers_project
    load(project, write_batch(project, "a.json", [record("CUST001", "John", loyalty_points=120)]))
    add_loyalty_points(project)
    assert run_cli(project, "migrate").exit_code == 0
    shutil.rmtree(project.generated_dir / "customers")  # deleted, then generated again: the lock is at version 1
    assert run_cli(project, "generate").exit_code == 0

    refused = run_cli(project, "run", "customers", "--input", write_batch(project, "b.json", [record("CUST002", "J")]))
    assert refused.exit_code == 1
    expected = ("customers: the warehouse table sales.customers is at schema version 2, but "
                "generated/customers/schema.lock.json is at version 1 (was generated/customers/ deleted and generated "
                "again?); nothing was loaded. Restore the folder from version control (e.g. `git checkout -- "
                "generated/customers`), or start over: locally `onboard reset customers --drop-table`, deployed drop "
                "the table and delete the source's rows of onboard_meta.schema_migrations; `onboard plan customers` "
                "shows both versions")
    assert refused.output == expected + "\n"
    planned = run_cli(project, "plan", "customers")
    assert planned.exit_code == 1 and expected in planned.output
    assert run_cli(project, "migrate").output == expected + "\n"
    assert rows(project, "SELECT count(*) FROM sales.customers") == [(1,)]
    assert not any((project.lake_dir / "raw/customers").rglob("*b*.json"))  # nothing landed

    reset = run_cli(project, "reset", "customers", "--drop-table")
    assert reset.exit_code == 0, reset.output
    lines = reset.output.splitlines()
    assert lines[0] == "customers: forgot 1 run(s), 1 object claim(s) and 2 migration record(s)"
    assert lines[-1] == "  dropped table sales.customers"
    summary = load(project, str(project.root / "b.json"))
    assert summary["rows_loaded"] == 1
    assert rows(project, "SELECT customer_id FROM sales.customers") == [("CUST002",)]
    assert rows(project, "SELECT version, name FROM onboard_meta.schema_migrations WHERE source = 'customers'") == [
        (1, "baseline")]
