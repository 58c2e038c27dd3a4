"""The bad-input corpus (tests/corpus/): every row ends loaded or quarantined with a reason, every file loads or
fails with a clear error, and the warehouse holds exactly the rows the summary says were loaded."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO

pytestmark = pytest.mark.slow
CORPUS = REPO / "tests/corpus"

CSV_SOURCE = """
source:
  name: corpus_csv
  type: s3_file
  config: {prefix: incoming/corpus_csv/}
  schema: {type: csv, columns_from: sales_transaction}
  redshift:
    schema: corpus
    table: transactions
    load: {mode: merge, keys: [transaction_id]}
"""
JSON_SOURCE = """
source:
  name: corpus_json
  type: s3_file
  config: {prefix: incoming/corpus_json/}
  schema:
    type: json
    records_path: customers
    columns:
      - {name: customer_id, type: string(16), nullable: false}
      - {name: name, type: string(128)}
  redshift: {schema: corpus, table: customers}
"""
HEADER = "transaction_id,date,customer_id,product_id,quantity,unit_price,total_amount,region,payment_method\n"

# file -> (status, rows_in, rows_loaded, rows_quarantined, rows_duplicate, quarantine reasons or error start)
EXPECTED = {
    "bom_crlf.csv": ("succeeded", 2, 2, 0, 0, {}),
    "empty.csv": ("succeeded", 0, 0, 0, 0, {}),
    "latin1_undeclared.csv": ("succeeded", 2, 1, 1, 0, {"encoding": 1}),
    "malformed_rows.csv": ("succeeded", 4, 2, 2, 0, {"malformed": 2}),
    "null_and_duplicate_keys.csv": ("succeeded", 4, 2, 1, 1, {"not_null": 1}),
    "quoted_newlines.csv": ("succeeded", 3, 3, 0, 0, {}),
    "truncated.csv.gz": ("failed", 0, 0, 0, 0, "transform failed: "),
    "wrong_types.csv": ("succeeded", 4, 1, 3, 0, {"cast": 3}),
    # A document with text after it is one record that does not parse (docs/contracts.md): quarantined whole,
    # and a batch that loads nothing fails (no quality.threshold).
    "trailing_garbage.json": ("failed", 1, 0, 1, 0, "transform failed: every row was quarantined (1 row: "
                              "malformed 1; e.g. malformed: invalid JSON document): nothing was loaded. "),
    "long_line.csv": ("failed", 1, 0, 1, 0, "transform failed: every row was quarantined (1 row: max_length 1; "
                      "e.g. max_length: payment_method exceeds 32 bytes): nothing was loaded. "),
}


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "sources").mkdir()
    (root / "sources/corpus_csv.yaml").write_text(textwrap.dedent(CSV_SOURCE), encoding="utf-8")
    (root / "sources/corpus_json.yaml").write_text(textwrap.dedent(JSON_SOURCE), encoding="utf-8")
    (root / "long_line.csv").write_text(
        HEADER + "TXN001,2024-11-16,CUST001,PROD101,2,5.00,10.00,US-EAST," + "x" * 10_000_000 + "\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["--project", str(root), "generate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return Project.at(root)


def corpus_file(project: Project, name: str):
    return project.root / name if name == "long_line.csv" else CORPUS / name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_is_fully_accounted_for(corpus_project, name, tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    source = "corpus_json" if name.endswith(".json") else "corpus_csv"
    result = CliRunner().invoke(main, ["--project", str(corpus_project.root), "run", source, "--input",
                                       str(corpus_file(corpus_project, name)), "--json"], catch_exceptions=False)
    [summary] = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    status, rows_in, loaded, quarantined, duplicate, detail = EXPECTED[name]
    got = (summary["status"], summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"],
           summary["rows_duplicate"])
    assert got == (status, rows_in, loaded, quarantined, duplicate), summary
    assert result.exit_code == (0 if status == "succeeded" else 1)
    if status == "succeeded":
        assert rows_in == loaded + quarantined + duplicate
        assert summary["quarantine_reasons"] == detail
        table = "corpus.customers" if source == "corpus_json" else "corpus.transactions"
        with DuckDBWarehouse(corpus_project.warehouse_path) as warehouse:
            exists = warehouse.table_columns(*table.split("."))
            count = warehouse.query(f"SELECT COUNT(*) FROM {table}")[1][0][0] if exists else 0  # noqa: S608
        assert count == loaded
    else:
        assert summary["error"].startswith(detail), summary["error"]
        assert len(summary["error"]) > len(detail) + 10
