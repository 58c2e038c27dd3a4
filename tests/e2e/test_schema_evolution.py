"""The customers example through five schema versions, with data loaded at each, by the real CLI:
`onboard generate` writes the migrations, `onboard run` applies them (DuckDB) before loading the batch."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from framework.project import Project
from framework.warehouse import DuckDBWarehouse, split_script
from tests.conftest import customers_example, edit_source
from tests.e2e.test_examples import run_cli, summaries

pytestmark = pytest.mark.slow

V1_COLUMNS = [("customer_id", "VARCHAR"), ("name", "VARCHAR"), ("email", "VARCHAR"), ("country", "VARCHAR"),
              ("customer_tier", "VARCHAR"), ("signup_date", "DATE"), ("_batch_id", "VARCHAR"),
              ("_ingested_at", "TIMESTAMP")]


@pytest.fixture
def customers_project(tmp_path, monkeypatch) -> Project:
    """A project holding only the customers example, generated at schema version 1."""
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    project = customers_example(tmp_path)
    assert run_cli(project, "generate").exit_code == 0
    return project


def write_batch(project: Project, name: str, records: list[dict]) -> str:
    path = project.root / name
    path.write_text(json.dumps({"customers": records}), encoding="utf-8")
    return str(path)


def load(project: Project, path: str) -> dict:
    result = run_cli(project, "run", "customers", "--input", path, "--json")
    assert result.exit_code == 0, result.output
    return summaries(result.output)["customers"]


def migration(project: Project, filename: str) -> list[str]:
    """The statements of a generated migration, each re-rendered after parsing with the Redshift dialect."""
    text = (project.generated_dir / "customers/redshift/migrations" / filename).read_text(encoding="utf-8")
    return [sqlglot.parse_one(s.text, read="redshift").sql("redshift") for s in split_script(text)]


def columns(project: Project) -> list[tuple[str, str]]:
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        return warehouse.table_columns("sales", "customers")


def rows(project: Project, sql: str) -> list[tuple]:
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        return warehouse.query(sql)[1]


def locked(project: Project) -> dict:
    return json.loads((project.generated_dir / "customers/schema.lock.json").read_text(encoding="utf-8"))


def record(customer_id: str, name: str, **extra: object) -> dict:
    return {"customer_id": customer_id, "name": name, "email": f"{customer_id.lower()}@example.com",
            "country": "USA", "customer_tier": "gold", "signup_date": "2024-01-01", **extra}


def test_five_versions_migrate_in_place_and_by_deep_copy_keeping_every_loaded_row(customers_project):
    project = customers_project
    # -- version 1: the example as checked in -------------------------------------------------------
    assert load(project, str(project.root / "sources/samples/customers_data.json"))["rows_loaded"] == 10
    assert columns(project) == V1_COLUMNS
    assert not (project.generated_dir / "customers/redshift/migrations").exists()

    # -- versions 2 and 3: a new column (in place) and a wider string (in place, no transaction) ----
    edit_source(project, "{name: name, type: string(128)}", "{name: name, type: string(300)}")
    edit_source(project, "      - {name: signup_date, type: date}\n",
                "      - {name: signup_date, type: date}\n      - {name: loyalty_points, type: integer}\n")
    planned = run_cli(project, "plan")
    assert planned.exit_code == 3, planned.output
    assert planned.output.splitlines() == [
        "customers: sales.customers schema version 1 -> 3",
        "  redshift/migrations/V2__add_loyalty_points.sql (one transaction)",
        "    + add column loyalty_points INTEGER: new in the source; added in place (ALTER TABLE ADD COLUMN) after "
        "the existing columns, old rows get null",
        "  redshift/migrations/V3__widen_name.sql (outside a transaction block)",
        "    ~ widen name VARCHAR(128) -> VARCHAR(300): max_length grew; ALTER COLUMN TYPE runs in place, outside "
        "a transaction block",
    ]
    assert not (project.generated_dir / "customers/redshift/migrations").exists()  # plan writes nothing
    assert run_cli(project, "generate").exit_code == 0
    assert migration(project, "V2__add_loyalty_points.sql") == [
        "BEGIN", "ALTER TABLE sales.customers ADD COLUMN loyalty_points INTEGER ENCODE AZ64", "COMMIT"]
    assert migration(project, "V3__widen_name.sql") == ["ALTER TABLE sales.customers ALTER COLUMN name TYPE VARCHAR(300)"]
    assert locked(project)["version"] == 3
    assert [c["name"] for c in locked(project)["table"]["columns"]][-3:] == ["_batch_id", "_ingested_at",
                                                                             "loyalty_points"]
    long_name = "N" * 200  # longer than the old VARCHAR(128)
    summary = load(project, write_batch(project, "v2.json", [
        record("CUST001", "John Doe", loyalty_points=120), record("CUST011", long_name, loyalty_points=7)]))
    assert summary["rows_loaded"] == 2 and summary["rows_quarantined"] == 0
    assert columns(project) == [*V1_COLUMNS, ("loyalty_points", "INTEGER")]
    assert rows(project, "SELECT customer_id, name, loyalty_points, signup_date FROM sales.customers "
                         "WHERE customer_id IN ('CUST001', 'CUST002', 'CUST011') ORDER BY 1") == [
        ("CUST001", "John Doe", 120, date(2024, 1, 1)),
        ("CUST002", "Jane Smith", None, date(2023, 1, 2)),
        ("CUST011", long_name, 7, date(2024, 1, 1))]
    assert rows(project, "SELECT version, name FROM onboard_meta.schema_migrations ORDER BY version") == [
        (1, "baseline"), (2, "add_loyalty_points"), (3, "widen_name")]

    # -- version 4: INTEGER -> BIGINT, which Redshift cannot alter: a deep copy -----------------------
    edit_source(project, "{name: loyalty_points, type: integer}", "{name: loyalty_points, type: bigint}")
    assert run_cli(project, "generate").exit_code == 0
    statements = migration(project, "V4__deep_copy_loyalty_points.sql")
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    create = sqlglot.parse_one(statements[1], read="redshift")
    assert isinstance(create, exp.Create) and create.this.this.sql() == "sales.customers__v4"
    assert [c.name for c in create.this.expressions][-3:] == ["_batch_id", "_ingested_at", "loyalty_points"]
    assert statements[2:6] == [
        "INSERT INTO sales.customers__v4 (customer_id, name, email, country, customer_tier, signup_date, _batch_id, "
        "_ingested_at, loyalty_points) SELECT customer_id, name, email, country, customer_tier, signup_date, "
        "_batch_id, _ingested_at, CAST(loyalty_points AS BIGINT) FROM sales.customers",
        "ALTER TABLE sales.customers RENAME TO customers__v3_old",
        "ALTER TABLE sales.customers__v4 RENAME TO customers",
        "DROP TABLE sales.customers__v3_old"]
    summary = load(project, write_batch(project, "v4.json", [record("CUST012", "Big Spender",
                                                                    loyalty_points=9_000_000_000)]))
    assert summary["rows_loaded"] == 1
    assert columns(project) == [*V1_COLUMNS, ("loyalty_points", "BIGINT")]
    assert rows(project, "SELECT customer_id, loyalty_points FROM sales.customers WHERE loyalty_points IS NOT NULL "
                         "ORDER BY 1") == [("CUST001", 120), ("CUST011", 7), ("CUST012", 9_000_000_000)]
    assert rows(project, "SELECT COUNT(*) FROM sales.customers")[0][0] == 12

    # -- version 5: a new compound sort key, in place -------------------------------------------------
    edit_source(project, "sortkey: customer_id", "sortkey: [country, customer_id]")
    assert run_cli(project, "generate").exit_code == 0
    assert migration(project, "V5__alter_sortkey.sql") == [
        "ALTER TABLE sales.customers ALTER COMPOUND SORTKEY (country, customer_id)"]
    assert locked(project)["table"]["sortkey"] == ["country", "customer_id"]
    summary = load(project, write_batch(project, "v5.json", [record("CUST001", "John Doe", loyalty_points=150)]))
    assert summary["rows_loaded"] == 1
    assert rows(project, "SELECT loyalty_points FROM sales.customers WHERE customer_id = 'CUST001'") == [(150,)]
    assert rows(project, "SELECT COUNT(*) FROM sales.customers")[0][0] == 12
    assert rows(project, "SELECT version FROM onboard_meta.schema_migrations ORDER BY version") == [
        (1,), (2,), (3,), (4,), (5,)]
    migrated = columns(project)

    # -- a fresh install of the latest generate gets the same table without running any migration ----
    assert run_cli(project, "generate", "--check").exit_code == 0
    fresh = Project.at(project.root)
    shutil.rmtree(project.state_dir)
    assert load(fresh, write_batch(project, "fresh.json", [record("CUST013", "New", loyalty_points=1)]))[
        "rows_loaded"] == 1
    assert columns(fresh) == migrated
    assert rows(fresh, "SELECT version, name FROM onboard_meta.schema_migrations ORDER BY version") == [
        (1, "baseline"), (2, "add_loyalty_points"), (3, "widen_name"), (4, "deep_copy_loyalty_points"),
        (5, "alter_sortkey")]
    assert rows(fresh, "SELECT customer_id, loyalty_points FROM sales.customers") == [("CUST013", 1)]
