"""The loader Lambda's migrate action against a fake Redshift Data API that runs the SQL on DuckDB:
one step per call, polled like a load, each migration recorded once, loaded rows kept."""

from __future__ import annotations

import itertools
import shutil

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.runtime.warehouse_loader import MigrationFailed, handler
from framework.warehouse import DuckDBWarehouse, WarehouseError, as_script
from tests.conftest import REPO

LOADER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onboard-warehouse-loader-AbCdEf"
WHERE = {"Database": "analytics", "WorkgroupName": "onboard-warehouse", "SecretArn": LOADER_SECRET}


class FakeDataApi:
    """execute_statement / batch_execute_statement / describe_statement / get_statement_result on DuckDB.

    Statements finish at once; a failing one is FAILED with DuckDB's error, as Redshift reports its own."""

    def __init__(self, warehouse: DuckDBWarehouse):
        self.warehouse = warehouse
        self.calls: list[tuple[str, list[str]]] = []
        self.results: dict[str, dict] = {}
        self.ids = (f"stmt-{n}" for n in itertools.count(1))

    def _run(self, kind: str, sqls: list[str], where: dict) -> dict:
        assert where == WHERE
        self.calls.append((kind, sqls))
        statement_id = next(self.ids)
        result: dict = {"Status": "FINISHED", "Records": []}
        try:
            if kind == "execute" and sqls[0].lstrip().upper().startswith("SELECT"):
                rows = self.warehouse.query(sqls[0])[1]
                result["Records"] = [[{"longValue": v} if isinstance(v, int) else {"stringValue": str(v)}
                                      for v in row] for row in rows]
            else:
                self.warehouse.execute_script(as_script(["BEGIN", *sqls, "COMMIT"] if kind == "batch" else sqls))
        except WarehouseError as error:
            result = {"Status": "FAILED", "Error": str(error)}
        self.results[statement_id] = result
        return {"Id": statement_id}

    def execute_statement(self, Sql: str, **where) -> dict:  # noqa: N803 (boto3's names)
        return self._run("execute", [Sql], where)

    def batch_execute_statement(self, Sqls: list[str], **where) -> dict:  # noqa: N803
        return self._run("batch", list(Sqls), where)

    def describe_statement(self, Id: str) -> dict:  # noqa: N803
        return {"Id": Id, **{k: v for k, v in self.results[Id].items() if k != "Records"}}

    def get_statement_result(self, Id: str) -> dict:  # noqa: N803
        return {"Records": self.results[Id]["Records"]}


def cli(project: Project, *args: str) -> None:
    result = CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def edit(project: Project, old: str, new: str) -> None:
    path = project.sources_dir / "customers.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    (tmp_path / "sources/samples").mkdir(parents=True)
    shutil.copy(REPO / "sources/customers.yaml", tmp_path / "sources/customers.yaml")
    shutil.copy(REPO / "sources/samples/customers_data.json", tmp_path / "sources/samples/customers_data.json")
    project = Project.at(tmp_path)
    cli(project, "generate")
    for key, value in {"ONBOARD_SOURCE": "customers", "ONBOARD_REDSHIFT_DATABASE": "analytics",
                       "ONBOARD_REDSHIFT_WORKGROUP": "onboard-warehouse",
                       "ONBOARD_REDSHIFT_SECRET_ARN": LOADER_SECRET,
                       "ONBOARD_SQL_DIR": str(project.generated_dir / "customers/redshift")}.items():
        monkeypatch.setenv(key, value)
    return project


def deploy_sql(project: Project, lambda_root) -> None:
    """What the loader asset holds: the source's redshift/ folder and its schema.lock.json."""
    shutil.rmtree(lambda_root, ignore_errors=True)
    shutil.copytree(project.generated_dir / "customers/redshift", lambda_root)
    shutil.copy(project.generated_dir / "customers/schema.lock.json", lambda_root / "schema.lock.json")


def run_state_machine(data_api: FakeDataApi) -> list[dict]:
    """Migrate -> (WaitForMigration -> MigrationStatus -> Migrate)* until CURRENT, as the state machine does."""
    results = []
    migration: dict = {"record_version": None}
    while True:
        migration = handler({"action": "migrate", "record_version": migration["record_version"]},
                            data_api=data_api, s3=object())
        results.append(migration)
        if migration["status"] == "CURRENT":
            return results
        status = handler({"action": "status", "statement_id": migration["statement_id"], "step": "migrate"},
                         data_api=data_api, s3=object())
        assert status["status"] == "FINISHED"


def test_migrate_creates_then_evolves_the_table_one_step_per_call(project, tmp_path, monkeypatch):
    lambda_root = tmp_path / "lambda/redshift"
    monkeypatch.setenv("ONBOARD_SQL_DIR", str(lambda_root))
    deploy_sql(project, lambda_root)
    with DuckDBWarehouse() as warehouse:
        data_api = FakeDataApi(warehouse)
        first = run_state_machine(data_api)
        assert [(r["status"], r["version"]) for r in first] == [("SUBMITTED", 1), ("CURRENT", 1)]
        warehouse.execute_script("INSERT INTO sales.customers (customer_id, name) VALUES ('C1', 'Ann');")

        edit(project, "{name: name, type: string(128)}", "{name: name, type: string(200)}")
        edit(project, "      - {name: signup_date, type: date}\n",
             "      - {name: signup_date, type: date}\n      - {name: score, type: integer}\n")
        cli(project, "generate")
        deploy_sql(project, lambda_root)
        data_api.calls.clear()
        second = run_state_machine(data_api)
        assert [(r["status"], r["version"], r["record_version"]) for r in second] == [
            ("SUBMITTED", 2, None), ("SUBMITTED", 3, 3), ("CURRENT", 3, None)]
        submitted = [(kind, sqls) for kind, sqls in data_api.calls if "ALTER TABLE sales.customers" in sqls[0]]
        assert submitted == [
            ("batch", ["ALTER TABLE sales.customers ADD COLUMN score INTEGER ENCODE AZ64",
                       submitted[0][1][1]]),
            ("execute", ["ALTER TABLE sales.customers ALTER COLUMN name TYPE VARCHAR(200)"])]
        assert submitted[0][1][1].startswith("INSERT INTO onboard_meta.schema_migrations (source, version, name, "
                                             "checksum, applied_at) VALUES ('customers', 2, 'add_score', '")
        assert warehouse.table_columns("sales", "customers")[-3:] == [
            ("_batch_id", "VARCHAR"), ("_ingested_at", "TIMESTAMP"), ("score", "INTEGER")]
        assert warehouse.query("SELECT version, name FROM onboard_meta.schema_migrations ORDER BY 1")[1] == [
            (1, "baseline"), (2, "add_score"), (3, "widen_name")]
        assert warehouse.query("SELECT customer_id, name, score FROM sales.customers")[1] == [("C1", "Ann", None)]
        assert run_state_machine(data_api) == [
            {"status": "CURRENT", "statement_id": None, "version": 3, "record_version": None}]


def test_a_failed_migration_statement_fails_the_step(project, tmp_path, monkeypatch):
    lambda_root = tmp_path / "lambda/redshift"
    monkeypatch.setenv("ONBOARD_SQL_DIR", str(lambda_root))
    deploy_sql(project, lambda_root)
    with DuckDBWarehouse() as warehouse:
        data_api = FakeDataApi(warehouse)
        run_state_machine(data_api)
        warehouse.execute_script("ALTER TABLE sales.customers ADD COLUMN score INTEGER;")  # done by hand, unrecorded
        edit(project, "      - {name: signup_date, type: date}\n",
             "      - {name: signup_date, type: date}\n      - {name: score, type: integer}\n")
        cli(project, "generate")
        deploy_sql(project, lambda_root)
        submitted = handler({"action": "migrate", "record_version": None}, data_api=data_api, s3=object())
        with pytest.raises(MigrationFailed, match=r"^migration statement stmt-\d+ failed: .*score"):
            handler({"action": "status", "statement_id": submitted["statement_id"], "step": "migrate"},
                    data_api=data_api, s3=object())
        assert warehouse.query("SELECT version FROM onboard_meta.schema_migrations ORDER BY 1")[1] == [(1,)]
