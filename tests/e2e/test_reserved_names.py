"""Real column names that are Redshift reserved words (`user`, `order`, `group`, `timestamp`) or that the lake's
partition folders once took (`year`), through the CLI: validate, generate, run (Spark + DuckDB) and query."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlglot

from framework.project import Project
from framework.warehouse import split_script
from tests.conftest import write_source
from tests.e2e.test_examples import run_cli, summaries

pytestmark = pytest.mark.slow

SOURCE = """
source:
  name: events
  type: s3_file
  config:
    prefix: incoming/events/
  schema:
    type: csv
    columns:
      - {name: user, type: string, nullable: false}
      - {name: order, type: integer, nullable: false}
      - {name: group, type: string}
      - {name: timestamp, type: timestamp}
      - {name: type, type: string, description: What happened}
      - {name: year, type: integer}
  destination:
    partitionBy: [year, month]
    partition_column: timestamp
  quality:
    rules:
      - {id: group_known, rule: expression, expression: "`group` IN ('a', 'b')"}
      - {id: user_set, rule: not_null, column: user}
  redshift:
    schema: app
    table: events
    distkey: user
    sortkey: [timestamp, order]
    load: {mode: merge, keys: [order], order_by: timestamp}
"""

CSV = """user,order,group,timestamp,type,year
ann,1,a,2024-11-15 08:00:00,click,2019
bob,2,b,2024-12-01 09:30:00,view,2020
ann,1,a,2024-11-15 09:00:00,buy,2021
cid,3,z,2024-12-02 10:00:00,view,2022
"""


def test_reserved_words_and_year_are_columns_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    (tmp_path / "sources").mkdir()
    project = Project.at(tmp_path)
    write_source(project, "events.yaml", SOURCE)
    (tmp_path / "events.csv").write_text(CSV, encoding="utf-8")

    assert run_cli(project, "validate").exit_code == 0
    generated = run_cli(project, "generate")
    assert generated.exit_code == 0, generated.output
    redshift = project.generated_dir / "events/redshift"
    for name in ("ddl.sql", "load.sql"):
        for statement in split_script((redshift / name).read_text(encoding="utf-8")):
            sqlglot.parse_one(statement.text, read="redshift")
    ddl = (redshift / "ddl.sql").read_text(encoding="utf-8")
    assert ('  "user" VARCHAR(256) NOT NULL ENCODE ZSTD,\n  "order" INTEGER NOT NULL ENCODE RAW,\n'
            '  "group" VARCHAR(256) ENCODE ZSTD,\n  "timestamp" TIMESTAMP ENCODE RAW,\n'
            '  type VARCHAR(256) ENCODE ZSTD,\n  year INTEGER ENCODE AZ64,\n') in ddl
    assert 'DISTKEY("user")\nCOMPOUND SORTKEY("timestamp", "order")' in ddl
    assert "COMMENT ON COLUMN app.events.type IS 'What happened'" in ddl
    assert 'WHERE app.events."order" = stage_events."order"' in (redshift / "load.sql").read_text(encoding="utf-8")

    result = run_cli(project, "run", "events", "--input", str(tmp_path / "events.csv"), "--json")
    assert result.exit_code == 0, result.output
    summary = summaries(result.output)["events"]
    assert {k: summary[k] for k in ("status", "rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")} == {
        "status": "succeeded", "rows_in": 4, "rows_loaded": 2, "rows_quarantined": 1, "rows_duplicate": 1}

    query = run_cli(project, "query", 'SELECT "user", "order", "group", "timestamp", type, year FROM app.events '
                    'ORDER BY "order"', "--format", "json")
    assert query.exit_code == 0, query.output
    assert json.loads(query.output) == [
        {"user": "ann", "order": 1, "group": "a", "timestamp": str(datetime(2024, 11, 15, 9)), "type": "buy",
         "year": 2021},
        {"user": "bob", "order": 2, "group": "b", "timestamp": str(datetime(2024, 12, 1, 9, 30)), "type": "view",
         "year": 2020}]

    # The partition folders are lake layout only, named apart from the `year` column; the crawler agrees.
    processed = tmp_path / "state" / "lake" / "processed" / "events"
    folders = sorted(str(p.parent.relative_to(processed)) for p in processed.rglob("*.parquet"))
    assert folders == ["onboard_year=2024/onboard_month=11", "onboard_year=2024/onboard_month=12"]
    crawler = json.loads((project.generated_dir / "events/glue/crawler.json").read_text(encoding="utf-8"))
    assert crawler["PartitionKeys"] == ["onboard_year", "onboard_month"]
