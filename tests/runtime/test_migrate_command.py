"""`onboard migrate [SOURCE] [--deployed]` applies pending migrations now: locally on DuckDB, deployed through
the Redshift Data API (here a stub that runs the statements on DuckDB, as Redshift would run them)."""

from __future__ import annotations

import itertools

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework.cli import main
from framework.local.runner import DuckDBExecutor
from framework.warehouse import DuckDBWarehouse
from tests.conftest import customers_example, edit_source

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:onboard-warehouse-loader-AbCdEf"
LOYALTY = "      - {name: signup_date, type: date}\n      - {name: loyalty_points, type: integer}\n"


class DuckDBDataApi:
    """The Data API calls DataApiExecutor makes, run on a DuckDB warehouse; remembers where they were sent."""

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.executor = DuckDBExecutor(warehouse)
        self.ids = itertools.count(1)
        self.results: dict[str, list[tuple]] = {}
        self.targets: list[dict] = []
        self.sqls: list[str] = []

    def _id(self, rows: list[tuple]) -> dict:
        statement_id = f"s{next(self.ids)}"
        self.results[statement_id] = rows
        return {"Id": statement_id}

    def execute_statement(self, Sql: str, **target: str) -> dict:  # noqa: N803 (the Data API's names)
        self.targets.append(target)
        self.sqls.append(Sql)
        if Sql.lstrip().upper().startswith("SELECT"):
            return self._id(self.executor.query(Sql))
        self.executor.single(Sql)
        return self._id([])

    def batch_execute_statement(self, Sqls: list[str], **target: str) -> dict:  # noqa: N803
        self.targets.append(target)
        self.sqls += Sqls
        self.executor.transaction(Sqls)
        return self._id([])

    def describe_statement(self, Id: str) -> dict:  # noqa: N803
        return {"Id": Id, "Status": "FINISHED"}

    def get_statement_result(self, Id: str) -> dict:  # noqa: N803
        return {"Records": [[{"stringValue": str(v)} if isinstance(v, str) else {"longValue": v} for v in row]
                            for row in self.results[Id]]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    found = customers_example(tmp_path)
    assert cli(found, "generate").exit_code == 0
    return found


def cli(project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)


def test_migrate_locally_creates_then_applies_a_new_column(project):
    assert cli(project, "migrate").output == "customers: nothing to apply (the local warehouse is at the lock's " \
                                             "version)\n"
    edit_source(project, "      - {name: signup_date, type: date}\n", LOYALTY)
    assert cli(project, "migrate", "customers").output.startswith("customers: generated/customers is out of date")
    assert cli(project, "generate").exit_code == 0
    result = cli(project, "migrate", "customers")
    assert (result.exit_code, result.output) == (0, "customers: applied V2 to the local warehouse\n")
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.table_columns("sales", "customers")[-1] == ("loyalty_points", "INTEGER")
    unknown = cli(project, "migrate", "nope")
    assert unknown.exit_code == 2 and "unknown source 'nope'; choose from: customers" in unknown.output


def test_migrate_deployed_runs_the_same_steps_through_the_data_api(project, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws(), DuckDBWarehouse(tmp_path / "redshift.duckdb") as warehouse:
        no_secret = cli(project, "migrate", "--deployed")
        assert no_secret.exit_code == 1
        assert "the loader secret onboard-warehouse-loader cannot be read" in no_secret.output
        secret_arn = boto3.client("secretsmanager").create_secret(
            Name="onboard-warehouse-loader", SecretString='{"username": "onboard_loader", "password": "x"}')["ARN"]
        data_api = DuckDBDataApi(warehouse)
        real_client = boto3.client
        monkeypatch.setattr(boto3, "client", lambda name, *a, **k: data_api if name == "redshift-data"
                            else real_client(name, *a, **k))
        first = cli(project, "migrate", "--deployed")
        assert (first.exit_code, first.output) == (0, "customers: nothing to apply (the deployed warehouse is at "
                                                      "the lock's version)\n")
        edit_source(project, "      - {name: signup_date, type: date}\n", LOYALTY)
        assert cli(project, "generate").exit_code == 0
        result = cli(project, "migrate", "customers", "--deployed")
        assert (result.exit_code, result.output) == (0, "customers: applied V2 to the deployed warehouse\n")
        assert warehouse.table_columns("sales", "customers")[-1] == ("loyalty_points", "INTEGER")
        assert warehouse.query("SELECT version, name FROM onboard_meta.schema_migrations ORDER BY 1")[1] == [
            (1, "baseline"), (2, "add_loyalty_points")]
        assert {tuple(sorted(t.items())) for t in data_api.targets} == {
            (("Database", "analytics"), ("SecretArn", secret_arn), ("WorkgroupName", "onboard-warehouse"))}
        assert "ALTER TABLE sales.customers ADD COLUMN loyalty_points INTEGER ENCODE AZ64" in data_api.sqls
        assert cli(project, "migrate", "--deployed").output.endswith("is at the lock's version)\n")


def test_the_deployed_loader_refuses_a_lock_behind_the_warehouse(project, tmp_path, monkeypatch):
    import shutil

    from framework.runtime import warehouse_loader
    from framework.runtime.migrations import MigrationError

    with DuckDBWarehouse(tmp_path / "redshift.duckdb") as warehouse:
        data_api = DuckDBDataApi(warehouse)
        edit_source(project, "      - {name: signup_date, type: date}\n", LOYALTY)
        assert cli(project, "generate").exit_code == 0
        environ = {"ONBOARD_SOURCE": "customers", "ONBOARD_REDSHIFT_DATABASE": "analytics",
                   "ONBOARD_REDSHIFT_WORKGROUP": "onboard-warehouse", "ONBOARD_REDSHIFT_SECRET_ARN": SECRET_ARN,
                   "ONBOARD_SQL_DIR": str(tmp_path / "asset")}

        def deploy_asset() -> None:  # the loader's asset: redshift/ plus the lock
            shutil.rmtree(tmp_path / "asset", ignore_errors=True)
            shutil.copytree(project.generated_dir / "customers/redshift", tmp_path / "asset")
            shutil.copy(project.generated_dir / "customers/schema.lock.json", tmp_path / "asset")

        deploy_asset()
        first = warehouse_loader.migrate({"action": "migrate"}, environ, data_api)
        assert (first["status"], first["version"]) == ("SUBMITTED", 2)
        data_api.sqls.clear()
        assert warehouse_loader.migrate({"action": "migrate"}, environ, data_api)["status"] == "CURRENT"

        shutil.rmtree(project.generated_dir / "customers")  # deleted and generated again: back at version 1
        assert cli(project, "generate").exit_code == 0
        deploy_asset()
        with pytest.raises(MigrationError, match=r"^customers: the warehouse table sales.customers is at schema "
                           r"version 2, but generated/customers/schema.lock.json is at version 1 "):
            warehouse_loader.migrate({"action": "migrate"}, environ, data_api)
        assert not [s for s in data_api.sqls if not s.startswith(("SELECT", "CREATE SCHEMA IF NOT EXISTS",
                                                                    "CREATE TABLE IF NOT EXISTS onboard_meta"))]


def test_reset_forgets_the_source_locally_and_keeps_the_table_without_drop_table(project):
    from framework.local.runner import LocalRunner
    from framework.runtime.ledger import LocalLedger, RunRecord, SqliteRunLedger
    from framework.spec import load_project

    [customers] = load_project(project)
    runner = LocalRunner(project)
    runner.migrate(customers, project.generated_dir / "customers")
    runner.warehouse.execute_script("INSERT INTO sales.customers (customer_id) VALUES ('CUST001');")
    runner.warehouse.close()
    ledger = SqliteRunLedger(project.ledger_path)
    for source in ("customers", "other"):
        ledger.put(RunRecord(source, "20241116T100000Z-1a2b3c4d", "succeeded", "done"))
        ledger.claim_object(source, "landing/x.json", "e1", "20241116T100000Z-1a2b3c4d")
    ledger.close()
    LocalLedger(project.ledger_path).put_record("customers", "#state", {"cursor": "2024-11-16"})
    for folder in ("raw/customers/ingest_date=2024-11-16", "processed/customers/year=2024",
                   "processed/_manifests/customers", "quarantine/customers/b1", "raw/other"):
        (project.lake_dir / folder).mkdir(parents=True)
        (project.lake_dir / folder / "f.json").write_text("{}", encoding="utf-8")

    result = cli(project, "reset", "customers")
    assert (result.exit_code, result.output.splitlines()) == (0, [
        "customers: forgot 1 run(s), 1 object claim(s) and 1 migration record(s)",
        "  removed state/lake/raw/customers/",
        "  removed state/lake/processed/customers/",
        "  removed state/lake/processed/_manifests/customers/",
        "  removed state/lake/quarantine/customers/",
        "  the table and its rows stay; the next run takes them for version 1 of the current schema lock "
        "(--drop-table starts the table over too)"])
    ledger = SqliteRunLedger(project.ledger_path)
    assert [r.source for r in ledger.recent()] == ["other"]
    assert ledger.claim_object("customers", "landing/x.json", "e1", "new") is None
    assert ledger.claim_object("other", "landing/x.json", "e1", "new") == "20241116T100000Z-1a2b3c4d"
    assert LocalLedger(project.ledger_path).get_record("customers", "#state") is None
    assert (project.lake_dir / "raw/other/f.json").is_file()
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT customer_id FROM sales.customers")[1] == [("CUST001",)]
        assert warehouse.query("SELECT count(*) FROM onboard_meta.schema_migrations")[1] == [(0,)]
