"""Column names as real data has them: Redshift reserved words and `year`/`month`/`day`/`hour` validate and render
(quoted where Redshift needs it); only Onboard's own names are refused."""

from __future__ import annotations

from framework.render.redshift import ddl_sql
from framework.spec import load_project
from framework.spec.identifiers import PARTITION_FOLDERS
from onboard_glue.config import PARTITION_FOLDERS as GLUE_PARTITION_FOLDERS
from tests.conftest import errors_for, write_source

SOURCE = """
source:
  name: events
  type: s3_file
  config: {prefix: incoming/events/}
  schema:
    type: csv
    columns:
      - {name: user, nullable: false}
      - {name: Order, type: integer}
      - {name: group}
      - {name: timestamp, type: timestamp}
      - {name: type}
      - {name: year, type: integer}
      - {name: Month, type: integer}
      - {name: day, type: integer}
      - {name: hour, type: integer}
  destination: {partitionBy: [year, month, day, hour], partition_column: timestamp}
  redshift: {schema: app, table: events, distkey: user, sortkey: [timestamp], load: {mode: merge, keys: [order]}}
"""


def test_reserved_words_and_partition_part_names_are_columns(project):
    write_source(project, "events.yaml", SOURCE)
    [source] = load_project(project)
    assert [c.name for c in source.columns] == ["user", "order", "group", "timestamp", "type", "year", "month", "day",
                                                "hour"]
    create = ddl_sql(source).split("CREATE TABLE IF NOT EXISTS app.events (\n", 1)[1].split("\n)")[0]
    assert create.splitlines()[:9] == [
        '  "user" VARCHAR(256) NOT NULL ENCODE ZSTD,', '  "order" INTEGER NOT NULL ENCODE AZ64,',
        '  "group" VARCHAR(256) ENCODE ZSTD,', '  "timestamp" TIMESTAMP ENCODE RAW,', "  type VARCHAR(256) ENCODE ZSTD,",
        "  year INTEGER ENCODE AZ64,", "  month INTEGER ENCODE AZ64,", "  day INTEGER ENCODE AZ64,",
        "  hour INTEGER ENCODE AZ64,"]


def test_the_spec_reserves_the_folders_the_glue_job_writes():
    assert PARTITION_FOLDERS == tuple(GLUE_PARTITION_FOLDERS.values()) == (
        "onboard_year", "onboard_month", "onboard_day", "onboard_hour")


def test_onboards_own_names_and_reserved_table_names_are_refused(project):
    text = SOURCE.replace("{name: type}", "{name: onboard_month}").replace("table: events", "table: user")
    assert errors_for(project, text) == [
        "sources/x.yaml:12:16: source.schema.columns[4].name: 'onboard_month' is reserved by Onboard (_batch_id, "
        "_ingested_at, _record, _reason, onboard_year, onboard_month, onboard_day, onboard_hour); rename it, e.g. "
        "with mapping",
        "sources/x.yaml:18:34: source.redshift.table: 'user' is a Redshift reserved word; pick another name (columns "
        "may use reserved words)",
    ]
