"""The example sales_transactions source's `quality:` block, end to end: reject rules quarantine rows with the
ids of the rules they broke, warn rules only count, and below the threshold nothing is loaded."""

from __future__ import annotations

import json

import pytest

from framework.warehouse import DuckDBWarehouse
from tests.e2e.test_examples import run_cli, summaries

pytestmark = pytest.mark.slow

HEADER = "transaction_id,date,customer_id,product_id,quantity,unit_price,total_amount,region,payment_method\n"
BAD = [
    "TXN901,2024-11-16,CUST001,PROD101,1,10.00,10.00,MARS,credit_card\n",         # region_known
    "TXN902,2024-11-16,CUST001,PROD101,2,10.00,25.00,APAC,credit_card\n",         # total_matches
    "BAD903,2024-11-16,CUST001,PROD101,0,10.00,0.00,APAC,credit_card\n",          # id_format, quantity_positive
    "TXN904,2024-11-16,CUST001,PROD101,abc,10.00,10.00,APAC,credit_card\n",       # cast, before any rule
]
WARNED = "TXN905,2024-11-16,CUST001,PROD101,1,10.00,10.00,APAC,a_very_long_payment_method\n"  # payment_short


def good(n: int) -> list[str]:
    return [f"TXN{i:03d},2024-11-16,CUST002,PROD102,2,5.00,10.00,US-EAST,paypal\n" for i in range(n)]


def quarantined(project, batch_id: str) -> list[dict]:
    folder = project.lake_dir / "quarantine/sales_transactions" / batch_id
    rows = [json.loads(line) for f in sorted(folder.glob("*.json")) for line in f.read_text().splitlines()]
    return sorted(rows, key=lambda r: r["transaction_id"])


def test_reject_rules_quarantine_with_rule_ids_and_warn_rules_only_count(repo_project, tmp_path):
    data = tmp_path / "sales.csv"
    data.write_text(HEADER + "".join(good(35) + BAD + [WARNED]), encoding="utf-8")
    result = run_cli(repo_project, "run", "sales_transactions", "--input", str(data), "--json")
    assert result.exit_code == 0, result.output
    summary = summaries(result.output)["sales_transactions"]
    assert {k: summary[k] for k in ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate",
                                    "quality_score", "quarantine_reasons")} == {
        "rows_in": 40, "rows_loaded": 36, "rows_quarantined": 4, "rows_duplicate": 0, "quality_score": 0.9,
        "quarantine_reasons": {"cast": 1, "quality": 3}}
    rows = quarantined(repo_project, summary["batch_id"])
    assert [(r["transaction_id"], r["quantity"], r["region"], r["_reason"], r["_rules"]) for r in rows] == [
        ("BAD903", "0", "APAC", "quality: id_format, quantity_positive", ["id_format", "quantity_positive"]),
        ("TXN901", "1", "MARS", "quality: region_known", ["region_known"]),
        ("TXN902", "2", "APAC", "quality: total_matches", ["total_matches"]),
        ("TXN904", "abc", "APAC", "cast: quantity value 'abc' is not integer", []),
    ]
    job_summary = json.loads((repo_project.lake_dir / "processed/_manifests/sales_transactions"
                              / f"{summary['batch_id']}.summary.json").read_text())
    assert job_summary["quality"] == {"score": 0.9, "threshold": 0.9, "passed": True, "rules": {
        "id_format": {"severity": "reject", "broken": 1}, "customer_known": {"severity": "reject", "broken": 0},
        "quantity_positive": {"severity": "reject", "broken": 1}, "region_known": {"severity": "reject", "broken": 1},
        "payment_short": {"severity": "warn", "broken": 1}, "total_matches": {"severity": "reject", "broken": 1},
        "one_line_per_id": {"severity": "warn", "broken": 0}}}
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT COUNT(*), COUNT(DISTINCT transaction_id) FROM sales.transactions")[1] == [
            (36, 36)]
        assert warehouse.query("SELECT payment_method FROM sales.transactions WHERE transaction_id = 'TXN905'")[1] \
            == [("a_very_long_payment_method",)]
    table = run_cli(repo_project, "query", "SELECT transaction_id, _reason, _batch_id FROM "
                    "quarantine.sales_transactions ORDER BY 1", "--format", "csv")
    assert table.output.splitlines() == ["transaction_id,_reason,_batch_id"] + [
        f"{r['transaction_id']},\"{r['_reason']}\",{summary['batch_id']}" if "," in r["_reason"]
        else f"{r['transaction_id']},{r['_reason']},{summary['batch_id']}" for r in rows]
    [record] = [json.loads(line) for line in run_cli(repo_project, "status", "--json").output.splitlines()]
    assert (record["status"], record["quality_score"], record["warnings"]) == ("succeeded", 0.9, {"payment_short": 1})
    assert summary["warnings"] == {"payment_short": 1}
    assert run_cli(repo_project, "status").output.splitlines() == [
        f"{summary['batch_id']}  sales_transactions  succeeded  40 in, 36 loaded, 4 quarantined, 0 duplicate",
        "    warned: payment_short 1"]


def test_the_text_summary_names_reasons_examples_the_quarantine_and_warnings(repo_project, tmp_path):
    data = tmp_path / "sales.csv"
    data.write_text(HEADER + "".join(good(35) + BAD + [WARNED]), encoding="utf-8")
    result = run_cli(repo_project, "run", "sales_transactions", "--input", str(data))
    assert result.exit_code == 0, result.output
    [record] = [json.loads(line) for line in run_cli(repo_project, "status", "--json").output.splitlines()]
    batch_id = record["batch_id"]
    folder = repo_project.display(repo_project.lake_dir / "quarantine/sales_transactions" / batch_id)
    assert result.output.splitlines() == [
        f"ok sales_transactions batch {batch_id}: 40 in, 36 loaded, 4 quarantined, 0 duplicate",
        "    quarantined 1: cast, e.g. cast: quantity value 'abc' is not integer",
        "    quarantined 3: quality, e.g. quality: id_format, quantity_positive",
        f"    quarantined rows: {folder}/ (query them: SELECT * FROM quarantine.sales_transactions)",  # noqa: S608
        "    warned 1: payment_short (loaded all the same)",
    ]


def test_below_the_threshold_the_run_fails_and_nothing_is_loaded(repo_project, tmp_path):
    assert run_cli(repo_project, "run", "sales_transactions").exit_code == 0
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        before = warehouse.query("SELECT * FROM sales.transactions ORDER BY transaction_id")[1]
    data = tmp_path / "sales.csv"
    data.write_text(HEADER + "".join(good(2) + BAD), encoding="utf-8")
    result = run_cli(repo_project, "run", "sales_transactions", "--input", str(data), "--json")
    assert result.exit_code == 1
    summary = summaries(result.output)["sales_transactions"]
    assert summary["error"] == (
        "transform failed: quality score 0.3333 is below the threshold 0.9: nothing was loaded; quarantined "
        "cast 1, quality 3 (rules id_format 1, quantity_positive 1, region_known 1, total_matches 1). To load such "
        "a batch, change those rules or quality.threshold in the source definition (sources/sales_transactions.yaml)"
        "; run `onboard generate`, then `onboard run sales_transactions --resume "
        f"{summary['batch_id']}` runs the regenerated job on this batch")
    assert (summary["status"], summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"],
            summary["rows_duplicate"], summary["rows_not_loaded"]) == ("failed", 6, 0, 4, 0, 2)
    # A failed run still accounts for every row: the valid ones are counted as not loaded.
    assert summary["rows_in"] == (summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
                                  + summary["rows_not_loaded"])
    assert len(quarantined(repo_project, summary["batch_id"])) == 4
    with DuckDBWarehouse(repo_project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT * FROM sales.transactions ORDER BY transaction_id")[1] == before
    [latest] = [r for r in map(json.loads, run_cli(repo_project, "status", "sales_transactions", "--json")
                               .output.splitlines()) if r["batch_id"] == summary["batch_id"]]
    assert (latest["status"], latest["stage"], latest["quality_score"]) == ("failed", "transform", 0.3333)
    assert latest["rows"] == {"rows_in": 6, "rows_loaded": 0, "rows_quarantined": 4, "rows_duplicate": 0,
                              "rows_not_loaded": 2}
