"""REST sources end to end: connector against a local server, the generated Glue job on Spark, the generated
Redshift SQL on DuckDB. Seed 003's example runs with only its endpoint pointed at the local server."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.local.runner import LocalRunner
from framework.project import Project
from framework.render import render_project, write_generated
from framework.spec import load_project
from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO
from tests.runtime.api_server import ApiServer, Reply

pytestmark = pytest.mark.slow
SEED_003 = REPO / "tests" / "fixtures" / "seed_003_customer_data_api.yaml"
CUSTOMERS = [
    {"id": "C-001", "name": "Ada Lovelace", "email": "ada@example.com", "tier": "gold"},
    {"id": "C-002", "name": "Alan Turing", "email": "alan@example.com", "address": {"city": "Wilmslow"}},
    {"id": "C-003", "name": "Grace Hopper", "email": None},
]


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def test_seed_003_runs_end_to_end_against_a_local_server(tmp_path, state, monkeypatch):
    monkeypatch.setenv("ONBOARD_SECRET_CUSTOMER_API_KEY", "Bearer seed-003-key")
    with ApiServer().running() as api:
        def respond(request):
            if request.header("Authorization") != "Bearer seed-003-key":
                return Reply(401, {"error": "unauthorized"})
            return Reply(body=CUSTOMERS)

        api.responder = respond
        text = SEED_003.read_text(encoding="utf-8")
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "customer_data_api.yaml").write_text(
            text.replace("https://api.example.com/customers", api.url("/customers")), encoding="utf-8")
        project = Project.at(tmp_path)
        [source] = load_project(project)
        write_generated(project, render_project([source]))
        runner = LocalRunner(project)
        [summary] = runner.run(source, None)
        assert api.paths() == ["/customers"]
        assert (summary.status, summary.rows_in, summary.rows_loaded, summary.rows_quarantined, summary.files_landed,
                summary.error) == ("succeeded", 3, 3, 0, 1, None)
        columns, rows = runner.warehouse.query(
            "SELECT customerid, customername, customeremail, _batch_id FROM customers.customer_data ORDER BY 1")
        assert columns == ["customerid", "customername", "customeremail", "_batch_id"]
        assert rows == [("C-001", "Ada Lovelace", "ada@example.com", summary.batch_id),
                        ("C-002", "Alan Turing", "alan@example.com", summary.batch_id),
                        ("C-003", "Grace Hopper", None, summary.batch_id)]
        today = date.today()
        processed = state / "lake" / "processed" / "customers" / f"onboard_year={today:%Y}" / f"onboard_month={today:%m}"
        assert len(list(processed.glob(f"onboard_day={today:%d}/*.parquet"))) == 1
        runner.warehouse.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]  # generated files, lake, warehouse
    assert [p for p in written if b"seed-003-key" in p.read_bytes()] == []
    assert any(b"${SECRET:customer_api_key}" in p.read_bytes() for p in written)


def demo_project(tmp_path: Path) -> Path:
    """A copy of this repository's project: the demo sources, their samples and generated artifacts."""
    for folder in ("sources", "schemas", "generated"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def test_the_demo_review_api_runs_offline_then_finds_nothing_new(tmp_path, state, monkeypatch):
    project = demo_project(tmp_path)
    monkeypatch.setenv("ONBOARD_SECRET_REVIEWS_API_KEY", "demo-key")
    cli = CliRunner()
    first = cli.invoke(main, ["--project", str(project), "run", "product_reviews", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    batch_id = summary.pop("batch_id")
    assert set(summary.pop("seconds")) == {"startup", "check", "land", "transform", "load"}
    assert summary.pop("quarantine_path").endswith(f"/quarantine/product_reviews/{batch_id}/")
    assert summary == {"files_landed": 3, "quarantine_reasons": {"cast": 1}, "rows_duplicate": 0, "rows_in": 7,
                       "rows_loaded": 6, "rows_quarantined": 1, "source": "product_reviews", "status": "succeeded",
                       "quality_score": 0.8571,
                       "quarantine_examples": {"cast": "cast: rating value 'five' is not integer"}}
    second = cli.invoke(main, ["--project", str(project), "run", "product_reviews", "--json"])
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert set(again.pop("seconds")) == {"startup", "check", "land"}
    assert again == {
        "files_landed": 0, "quarantine_reasons": {}, "rows_duplicate": 0, "rows_in": 0, "rows_loaded": 0,
        "rows_quarantined": 0, "source": "product_reviews", "status": "no_data"}
    with DuckDBWarehouse(state / "warehouse.duckdb") as warehouse:
        _, rows = warehouse.query("SELECT review_id, product_id, customer_id, rating, verified_purchase, "
                                  "CAST(updated_at AS VARCHAR), _batch_id FROM sales.product_reviews ORDER BY 1")
    assert rows == [
        ("REV-1001", "PROD101", "CUST001", 5, True, "2024-11-02 09:15:00+00", batch_id),
        ("REV-1002", "PROD102", "CUST002", 4, True, "2024-11-03 18:40:00+00", batch_id),
        ("REV-1003", "PROD103", "CUST003", 2, False, "2024-11-06 10:00:00+00", batch_id),
        ("REV-1005", "PROD104", "CUST005", 3, True, "2024-11-09 16:20:00+00", batch_id),
        ("REV-1006", "PROD102", "CUST001", 5, True, "2024-11-12 08:00:00+00", batch_id),
        ("REV-1007", "PROD105", "CUST002", 1, True, "2024-11-18 09:30:00+00", batch_id),
    ]
    quarantined = list((state / "lake" / "quarantine" / "product_reviews" / batch_id).glob("*.json"))
    [row] = [json.loads(line) for path in quarantined for line in path.read_text().splitlines()]
    assert (row["review_id"], row["rating"], row["_reason"]) == ("REV-1004", "five",
                                                                  "cast: rating value 'five' is not integer")


def test_a_wrong_api_key_fails_the_run_clearly_and_lands_nothing(tmp_path, state, monkeypatch):
    project = demo_project(tmp_path)
    monkeypatch.setenv("ONBOARD_SECRET_REVIEWS_API_KEY", "wrong-key")
    result = CliRunner().invoke(main, ["--project", str(project), "run", "product_reviews", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "failed"
    assert summary["error"].startswith("landing failed: GET http://127.0.0.1:")
    assert summary["error"].endswith("/v1/reviews?limit=3&updated_since=2024-11-01T00%3A00%3A00Z answered HTTP 401 "
                                     'Unauthorized: {"error": "missing or wrong credentials"}')
    assert "wrong-key" not in result.output
    assert not (state / "lake" / "raw" / "product_reviews").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["run", "customers", "--live"], "--live applies to sources that fetch by themselves (rest_api)"),
    (["run", "--all", "--live"], "--live runs one source: give its name"),
    (["run", "product_reviews", "--live", "--input", "sources/samples/reviews_api.json"],
     "give --input or --live, not both"),
])
def test_live_runs_are_refused_where_they_make_no_sense(tmp_path, monkeypatch, args, message):
    project = demo_project(tmp_path)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    assert result.exit_code == 2
    assert f"Error: {message}" in result.output
