"""The example sources run end to end through the CLI: connector, Glue job on Spark, DuckDB load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO

pytestmark = pytest.mark.slow

DEMO_QUERY = """
SELECT c.customer_tier, p.category, COUNT(*) AS orders, SUM(t.total_amount) AS revenue
FROM sales.transactions t
JOIN sales.customers c ON c.customer_id = t.customer_id
JOIN sales.products p ON p.product_id = t.product_id
GROUP BY c.customer_tier, p.category ORDER BY revenue DESC, c.customer_tier, p.category
"""

# Worked out by hand from sources/samples/: revenue per (tier, category).
EXPECTED_REVENUE = [
    ("gold", "Electronics", 2, Decimal("959.97")),
    ("platinum", "Electronics", 1, Decimal("899.99")),
    ("gold", "Furniture", 1, Decimal("499.00")),
    ("silver", "Electronics", 2, Decimal("179.98")),
    ("silver", "Furniture", 1, Decimal("162.00")),
    ("gold", "Sports", 1, Decimal("150.00")),
    ("bronze", "Electronics", 1, Decimal("149.99")),
    ("bronze", "Sports", 1, Decimal("49.00")),
    ("bronze", "Office Supplies", 1, Decimal("45.00")),
    ("silver", "Home & Kitchen", 1, Decimal("39.98")),
    ("bronze", "Home & Kitchen", 1, Decimal("29.97")),
    ("gold", "Office Supplies", 1, Decimal("22.50")),
    ("gold", "Home & Kitchen", 1, Decimal("19.98")),
]


def run_cli(project, *args):
    return CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)


def summaries(output: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {row["source"]: row for row in rows}


def as_utc(rows: list[tuple]) -> list[tuple]:
    """Rows sorted, timestamps as naive UTC: DuckDB reads the Parquet's UTC-adjusted timestamps as TIMESTAMPTZ
    where the table (and the Glue catalog, `timestamp`) holds them as plain UTC timestamps."""
    def plain(value):
        return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) and value.tzinfo \
            else value
    return sorted((tuple(plain(v) for v in row) for row in rows), key=repr)


def test_run_all_lands_every_example_and_the_demo_query_answers(repo_project, monkeypatch):
    monkeypatch.setenv("ONBOARD_SECRET_REVIEWS_API_KEY", "demo-key")  # the recording's key, as `make demo` sets it
    result = run_cli(repo_project, "run", "--all", "--json")
    assert result.exit_code == 0, result.output
    got = {name: {k: row[k] for k in ("status", "rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate",
                                      "files_landed")}
           for name, row in summaries(result.output).items() if name != "sensor_readings_stream"}
    # the stream replays its 13 lines as event batches of 5 (one truncated record is quarantined by the
    # connector): three micro-batches wait in the run ledger and one flush loads them as one batch
    stream = [json.loads(line) for line in result.output.splitlines() if '"sensor_readings_stream"' in line]
    assert [(r["status"], r["rows_in"], r["rows_loaded"], r["rows_quarantined"], r["files_landed"],
             r["quarantine_reasons"]) for r in stream] == [("succeeded", 13, 12, 1, 3, {"malformed": 1})]
    assert got == {
        "customers": {"status": "succeeded", "rows_in": 10, "rows_loaded": 10, "rows_quarantined": 0,
                      "rows_duplicate": 0, "files_landed": 1},
        "products": {"status": "succeeded", "rows_in": 10, "rows_loaded": 10, "rows_quarantined": 0,
                     "rows_duplicate": 0, "files_landed": 1},
        "product_reviews": {"status": "succeeded", "rows_in": 7, "rows_loaded": 6, "rows_quarantined": 1,
                            "rows_duplicate": 0, "files_landed": 3},
        "sales_transactions": {"status": "succeeded", "rows_in": 15, "rows_loaded": 15, "rows_quarantined": 0,
                               "rows_duplicate": 0, "files_landed": 1},
        "sensor_readings_push": {"status": "succeeded", "rows_in": 8, "rows_loaded": 8, "rows_quarantined": 0,
                                 "rows_duplicate": 0, "files_landed": 1},
        "supplier_invoices": {"status": "succeeded", "rows_in": 6, "rows_loaded": 5, "rows_quarantined": 1,
                              "rows_duplicate": 0, "files_landed": 2},
    }
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query(DEMO_QUERY)[1] == EXPECTED_REVENUE
        # the seed 002 dataset (datasets/revenue_by_tier.yaml), rebuilt by the load that completed its inputs
        assert warehouse.query("SELECT * FROM curated.revenue_by_tier "
                               "ORDER BY revenue DESC, customer_tier, category")[1] == EXPECTED_REVENUE
    refreshed = [name for row in summaries(result.output).values() for name in row.get("datasets_refreshed", [])]
    assert refreshed == ["revenue_by_tier"]
    assert (repo_project.lake_dir / "curated/revenue_by_tier/data.parquet").is_file()
    lake = run_cli(repo_project, "query", "SELECT (SELECT COUNT(*) FROM lake.sales_transactions) AS lake, "
                   "(SELECT COUNT(*) FROM sales.transactions) AS redshift", "--format", "csv")
    assert lake.output == "lake,redshift\n15,15\n"
    # Each source's generated Athena view (generated/<source>/athena/view.sql, transpiled to DuckDB) over the
    # Parquet the Glue job wrote holds exactly the rows of the source's Redshift table.
    from tests.warehouse.test_lake_view import create_athena_view

    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        for source in sorted(got):
            manifest = json.loads((repo_project.generated_dir / source / "manifest.json").read_text())
            table = f"{manifest['redshift']['schema']}.{manifest['redshift']['table']}"
            create_athena_view(warehouse, (repo_project.generated_dir / source / "athena/view.sql").read_text(), source)
            columns, rows = warehouse.query(f"SELECT * FROM {table}")  # noqa: S608
            in_athena = warehouse.query(f"SELECT * FROM athena.{source}")  # noqa: S608
            assert (in_athena[0], as_utc(in_athena[1])) == (columns, as_utc(rows)), source
            assert len(rows) == got[source]["rows_loaded"], source
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT location, COUNT(*), COUNT(DISTINCT device_id) FROM iot.sensor_readings_stream "
                               "GROUP BY location ORDER BY location")[1] == [
            ("cold-store-1", 3, 2), ("dock-2", 2, 1), ("roof-east", 2, 1), ("warehouse-a", 5, 2)]
        assert warehouse.query("SELECT COUNT(*) FROM iot.sensor_readings_push")[1] == [(8,)]
        columns, rows = warehouse.query(
            "SELECT product_id, product_name, price, supplier_name, supplier_country, in_stock, stock_quantity "
            "FROM sales.products WHERE product_id IN ('PROD104', 'PROD108') ORDER BY product_id")
        assert rows == [("PROD104", "Standing Desk", Decimal("499.00"), "ErgoWorks", "Sweden", False, 0),
                        ("PROD108", "4K Monitor", Decimal("899.99"), "TechCorp", "USA", True, 12)]
        [(signup,)] = warehouse.query("SELECT signup_date::varchar FROM sales.customers WHERE customer_id = 'CUST008'")[1]
        assert signup == "2020-07-19"
        assert warehouse.query(
            "SELECT invoice_id, COUNT(*), SUM(amount), MIN(supplier) FROM procurement.supplier_invoices "
            "GROUP BY invoice_id ORDER BY invoice_id")[1] == [
            ("INV-1001", 3, Decimal("183.49"), "Acme Supplies"), ("INV-1002", 1, Decimal("50.00"), "Acme Supplies"),
            ("INV-1003", 1, Decimal("30.00"), "Acme Supplies Société")]


def test_query_command_prints_csv_and_json(repo_project):
    assert run_cli(repo_project, "run", "customers").exit_code == 0
    csv_out = run_cli(repo_project, "query", "SELECT customer_tier, COUNT(*) AS n FROM sales.customers "
                                             "GROUP BY 1 ORDER BY 1", "--format", "csv")
    assert csv_out.output == "customer_tier,n\nbronze,3\ngold,3\nplatinum,1\nsilver,3\n"
    json_out = run_cli(repo_project, "query", "SELECT NVL(NULL, 'x') AS v", "--format", "json")
    assert json.loads(json_out.output) == [{"v": "x"}]
    bad = run_cli(repo_project, "query", "SELECT * FROM sales.nope")
    assert bad.exit_code == 1


def test_merge_loaded_twice_gives_the_same_table(repo_project, tmp_path):
    """The same rows in a new object (other bytes, other ETag) are loaded again and merged on the key."""
    table = "SELECT transaction_id, transaction_date, customer_id, product_id, quantity, unit_price, total_amount, region, payment_method FROM sales.transactions ORDER BY transaction_id"
    assert run_cli(repo_project, "run", "sales_transactions").exit_code == 0
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        first = warehouse.query(table)[1]
    sample = repo_project.root / "sources/samples/sales_data.csv"
    resent = tmp_path / "sales_transactions.csv"
    resent.write_bytes(sample.read_bytes() + b"\n")
    second = run_cli(repo_project, "run", "sales_transactions", "--input", str(resent), "--json")
    assert summaries(second.output)["sales_transactions"]["status"] == "succeeded"
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query(table)[1] == first
        assert len(first) == 15
        batches = warehouse.query("SELECT COUNT(DISTINCT _batch_id) FROM sales.transactions")[1]
    assert batches == [(1,)]  # every row now carries the second batch's id


def test_email_runs_from_an_eml_lands_a_message_once_and_reports_a_malformed_one(repo_project):
    crlf = REPO / "tests/fixtures/email/crlf_quoted_printable_rfc2231.eml"
    first = run_cli(repo_project, "run", "supplier_invoices", "--input", str(crlf), "--json")
    assert first.exit_code == 0, first.output
    row = summaries(first.output)["supplier_invoices"]
    assert (row["status"], row["rows_in"], row["rows_loaded"], row["files_landed"]) == ("succeeded", 2, 2, 2)
    again = run_cli(repo_project, "run", "supplier_invoices", "--input", str(crlf), "--json")
    assert again.exit_code == 0 and summaries(again.output)["supplier_invoices"]["status"] == "duplicate"
    broken = run_cli(repo_project, "run", "supplier_invoices", "--input",
                     str(REPO / "tests/fixtures/email/broken_boundary.eml"), "--json")
    assert broken.exit_code == 1
    row = summaries(broken.output)["supplier_invoices"]
    assert (row["status"], row["error"], row["files_landed"]) == (
        "quarantined", "malformed MIME: StartBoundaryNotFoundDefect in a multipart/mixed part", 0)
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT invoice_id, supplier, amount FROM procurement.supplier_invoices "
                               "ORDER BY invoice_id")[1] == [("INV-2001", "Globex München", Decimal("75.00")),
                                                             ("INV-2002", "Globex", Decimal("10.00"))]


def test_onboard_serve_answers_real_http_requests(repo_project, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, ONBOARD_HOME=str(tmp_path / "serve-state"))
    server = subprocess.Popen([sys.executable, "-m", "framework.cli", "--project", str(REPO), "serve",
                               "sensor_readings_push", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.strip() == f"serving sensor_readings_push at http://127.0.0.1:{port}/ingest/sensor-readings " \
                               "(Ctrl-C stops)"
        url = f"http://127.0.0.1:{port}/ingest/sensor-readings"
        body = (REPO / "sources/samples/sensor_readings.jsonl").read_bytes()
        for _ in range(50):
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=5) as r:
                    status, answer = r.status, json.loads(r.read())
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 202 and answer["records"] == 8
        landed = list((tmp_path / "serve-state").rglob(f"{answer['batch_id']}.jsonl"))
        assert len(landed) == 1 and landed[0].read_bytes().count(b"\n") == 8
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_generated_athena_views_count_what_redshift_holds_after_a_replace_and_a_merge_ran_twice(repo_project,
                                                                                                     tmp_path):
    """generated/<source>/athena/view.sql as written (transpiled to DuckDB, over the Parquet `onboard run` wrote):
    a replace source loaded twice (the second time with fewer rows) and a merge source whose second batch
    updates a key and adds one hold what the Redshift tables hold, while `<source>_batches` holds every batch."""
    from tests.warehouse.test_lake_view import create_athena_view

    products = json.loads((REPO / "sources/samples/products_data.json").read_text(encoding="utf-8"))
    assert run_cli(repo_project, "run", "products").exit_code == 0
    fewer = tmp_path / "products.json"
    fewer.write_text(json.dumps(products[:3]), encoding="utf-8")
    assert run_cli(repo_project, "run", "products", "--input", str(fewer)).exit_code == 0
    assert run_cli(repo_project, "run", "sales_transactions").exit_code == 0
    sample = (REPO / "sources/samples/sales_data.csv").read_text(encoding="utf-8").splitlines()
    header, first = sample[0], sample[1].split(",")
    updated = [*first[:7], "EU-WEST", first[8]]  # the first transaction, now in another region
    added = ["TXN999", *first[1:]]
    later = tmp_path / "sales.csv"
    later.write_text("\n".join([header, ",".join(updated), ",".join(added)]) + "\n", encoding="utf-8")
    assert run_cli(repo_project, "run", "sales_transactions", "--input", str(later)).exit_code == 0
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        for source, table, rows, every in (("products", "sales.products", 3, len(products) + 3),
                                           ("sales_transactions", "sales.transactions", 16, 15 + 2)):
            create_athena_view(warehouse, (REPO / "generated" / source / "athena/view.sql").read_text(), source)
            columns, in_redshift = warehouse.query(f"SELECT * FROM {table}")  # noqa: S608
            in_athena = warehouse.query(f"SELECT * FROM athena.{source}")  # noqa: S608
            assert (in_athena[0], as_utc(in_athena[1])) == (columns, as_utc(in_redshift)), source
            assert len(in_redshift) == rows, source
            assert warehouse.query(f"SELECT COUNT(*) FROM athena.{source}_batches")[1] == [(every,)], source  # noqa: S608
        assert warehouse.query("SELECT region FROM athena.sales_transactions WHERE transaction_id = 'TXN001'")[1] \
            == [("EU-WEST",)]
