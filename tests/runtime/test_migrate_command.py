"""`onboard migrate [SOURCE] [--deployed]` applies pending migrations now: locally on DuckDB, deployed through
the Redshift Data API (here a stub that runs the statements on DuckDB, as Redshift would run them)."""

from __future__ import annotations

import itertools

import boto3
import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.local.runner import DuckDBExecutor
from framework.warehouse import DuckDBWarehouse
from tests.conftest import customers_example, edit_source

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
    with DuckDBWarehouse(tmp_path / "redshift.duckdb") as warehouse:
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
            (("Database", "analytics"), ("WorkgroupName", "onboard-warehouse"))}
        assert "ALTER TABLE sales.customers ADD COLUMN loyalty_points INTEGER ENCODE AZ64" in data_api.sqls
        assert cli(project, "migrate", "--deployed").output.endswith("is at the lock's version)\n")
