"""`onboard run` end to end with a European-style CSV (`;`, decimal comma, null and boolean tokens, a dd.MM.yyyy
date), and batches that must not look good: every row quarantined, a declared column missing from the header."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from decimal import Decimal

import pytest

from framework.project import Project
from framework.warehouse import DuckDBWarehouse
from tests.e2e.test_examples import run_cli, summaries

pytestmark = pytest.mark.slow

EU_ORDERS = """
source:
  name: eu_orders
  type: s3_file
  config: {prefix: incoming/eu_orders/}
  schema:
    type: csv
    delimiter: ';'
    decimal_separator: ','
    null_values: ['NA', '-']
    true_values: [ja]
    false_values: [nein]
    columns:
      - {name: order_id, type: integer, nullable: false}
      - {name: ordered, type: date, format: dd.MM.yyyy}
      - {name: amount, type: 'decimal(12,2)'}
      - {name: paid, type: boolean}
      - {name: note, type: string}
  redshift: {schema: eu, table: orders}
"""
US_DATES = """
source:
  name: us_dates
  type: s3_file
  config: {prefix: incoming/us_dates/}
  schema:
    type: csv
    columns:
      - {name: id, type: integer}
      - {name: order_date, type: date}
      - {name: note, type: string}
  redshift: {schema: us, table: orders}
"""


@pytest.fixture(scope="module")
def formats_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    (root / "sources").mkdir()
    for name, text in (("eu_orders", EU_ORDERS), ("us_dates", US_DATES)):
        (root / f"sources/{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    result = run_cli(Project.at(root), "generate")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(formats_root, tmp_path, monkeypatch) -> Project:
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    return Project.at(formats_root)


def batch_id_of(project: Project, source: str) -> str:
    [record] = [json.loads(line) for line in run_cli(project, "status", source, "--json").output.splitlines()]
    return record["batch_id"]


def test_a_european_export_loads_exact_rows_and_the_run_says_where_the_quarantine_is(project, tmp_path):
    data = tmp_path / "export.csv"
    data.write_text("order_id;ordered;amount;paid;note\n"
                    "1;31.12.2024;1.234,56;ja;erste\n"
                    "2;01.02.2025;-7,5;nein;NA\n"
                    "3;-;12;ja;-\n"
                    "4;32.01.2025;1,00;ja;no such day\n"
                    "5;01.01.2025;1.5;ja;ambiguous\n", encoding="utf-8")
    result = run_cli(project, "run", "eu_orders", "--input", str(data))
    assert result.exit_code == 0, result.output
    batch_id = batch_id_of(project, "eu_orders")
    folder = project.display(project.lake_dir / "quarantine" / "eu_orders" / batch_id)
    assert result.output.splitlines() == [
        f"ok eu_orders batch {batch_id}: 5 in, 3 loaded, 2 quarantined, 0 duplicate",
        "    quarantined 2: cast, e.g. cast: amount value '1.5' is not decimal(12,2)",
        f"    quarantined rows: {folder}/ (query them: SELECT * FROM quarantine.eu_orders)",  # noqa: S608
    ]
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT order_id, ordered, amount, paid, note FROM eu.orders ORDER BY 1")[1] == [
            (1, date(2024, 12, 31), Decimal("1234.56"), True, "erste"),
            (2, date(2025, 2, 1), Decimal("-7.50"), False, None),
            (3, None, Decimal("12.00"), True, None),
        ]
    table = run_cli(project, "query", "SELECT order_id, ordered, _reason FROM quarantine.eu_orders ORDER BY 1",
                    "--format", "csv")
    assert table.output.splitlines() == [
        "order_id,ordered,_reason",
        "4,32.01.2025,cast: ordered value '32.01.2025' does not match format 'dd.MM.yyyy'",
        "5,01.01.2025,\"cast: amount value '1.5' is not decimal(12,2)\"",
    ]
    as_json = run_cli(project, "run", "eu_orders", "--input", str(data), "--json")  # already seen: skipped
    assert summaries(as_json.output)["eu_orders"]["status"] == "skipped"


def test_a_batch_in_which_every_row_is_quarantined_fails(project, tmp_path):
    data = tmp_path / "us.csv"
    data.write_text("id,order_date,note\n" + "".join(f"{i},Jan {i} 2000,n{i}\n" for i in range(1, 561)),
                    encoding="utf-8")
    result = run_cli(project, "run", "us_dates", "--input", str(data), "--json")
    assert result.exit_code == 1
    summary = summaries(result.output)["us_dates"]
    batch_id = summary["batch_id"]
    folder = project.display(project.lake_dir / "quarantine" / "us_dates" / batch_id)
    assert {k: summary[k] for k in ("status", "rows_in", "rows_loaded", "rows_quarantined", "rows_not_loaded",
                                    "quarantine_reasons", "quarantine_examples", "quarantine_path", "error")} == {
        "status": "failed", "rows_in": 560, "rows_loaded": 0, "rows_quarantined": 560, "rows_not_loaded": 0,
        "quarantine_reasons": {"cast": 560},
        "quarantine_examples": {"cast": "cast: order_date value 'Jan 1 2000' is not date"},
        "quarantine_path": f"{folder}/",
        "error": "transform failed: every row was quarantined (560 rows: cast 560; e.g. cast: order_date value "
                 "'Jan 1 2000' is not date): nothing was loaded. Fix the column types or formats, or set "
                 "quality.threshold: 0 to accept a batch that loads nothing, in the source definition "
                 "(sources/us_dates.yaml); run `onboard generate`, then `onboard run us_dates --resume "
                 f"{batch_id}` runs the regenerated job on this batch"}
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert not warehouse.table_columns("us", "orders")
    status = run_cli(project, "status", "us_dates").output.splitlines()
    assert status[0] == f"{batch_id}  us_dates  failed at transform  560 in, 0 loaded, 560 quarantined, 0 duplicate"
    again = run_cli(project, "run", "us_dates", "--input", str(data), "--json")
    assert summaries(again.output)["us_dates"]["error"] == (
        f"this input is batch {batch_id}, which failed at transform: {summary['error']}")


def test_a_header_without_a_declared_column_fails_the_batch(project, tmp_path):
    data = tmp_path / "us.csv"
    data.write_text("ID,Order Date,note\n1,2000-01-01,x\n", encoding="utf-8")
    result = run_cli(project, "run", "us_dates", "--input", str(data), "--json")
    assert result.exit_code == 1
    summary = summaries(result.output)["us_dates"]
    landed = f"{summary['batch_id']}.csv"  # the landed object, named after its batch
    assert (summary["status"], summary["error"]) == ("failed", (
        f"transform failed: {landed}: the header has no column order_date; found: id, order date, note. Map the "
        "column to a header name (schema.mapping), or set schema.allow_missing_columns: true to load it as null "
        "(sources/us_dates.yaml); run `onboard generate`, then `onboard run us_dates --resume "
        f"{summary['batch_id']}` runs the regenerated job on this batch"))


def test_resume_after_declaring_the_format_runs_the_regenerated_job(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    definition = root / "sources/us_dates.yaml"
    definition.write_text(textwrap.dedent(US_DATES), encoding="utf-8")
    project = Project.at(root)
    assert run_cli(project, "generate").exit_code == 0
    data = tmp_path / "us.csv"
    data.write_text("id,order_date,note\n1,Jan 1 2000,a\n2,Feb 29 2024,b\n", encoding="utf-8")
    failed = summaries(run_cli(project, "run", "us_dates", "--input", str(data), "--json").output)["us_dates"]
    assert (failed["status"], failed["rows_quarantined"]) == ("failed", 2)

    definition.write_text(textwrap.dedent(US_DATES).replace("{name: order_date, type: date}",
                                                            "{name: order_date, type: date, format: 'MMM d yyyy'}"))
    assert run_cli(project, "generate").exit_code == 0
    resumed = run_cli(project, "run", "us_dates", "--resume", failed["batch_id"], "--json")
    assert resumed.exit_code == 0, resumed.output
    summary = summaries(resumed.output)["us_dates"]
    assert (summary["status"], summary["rows_loaded"], summary["rows_quarantined"]) == ("succeeded", 2, 0)
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT id, order_date FROM us.orders ORDER BY 1")[1] == [
            (1, date(2000, 1, 1)), (2, date(2024, 2, 29))]
