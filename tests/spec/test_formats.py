"""Formats in a source definition: a column's datetime format, text tokens, the decimal comma, missing columns,
the jsonl default of stream and push sources; positioned errors, and the job config they become."""

from __future__ import annotations

import pytest

from framework.render.glue_job import job_config
from framework.spec import load_project
from framework.spec.datetime_patterns import pattern_problem
from tests.conftest import errors_for, write_source

EUROPEAN = """
source:
  name: exports
  type: s3_file
  config:
    prefix: incoming/exports/
  schema:
    type: csv
    delimiter: ';'
    decimal_separator: ','
    null_values: ['NA', 'N/A', '-']
    true_values: [J, ja]
    false_values: [N, nein]
    columns:
      - {name: id, type: integer}
      - {name: ordered, type: date, format: 'MMM d yyyy'}
      - {name: shipped_at, type: timestamp, format: 'dd/MM/yyyy HH:mm'}
      - {name: paid_at, type: timestamptz, format: epoch_millis}
      - {name: amount, type: 'decimal(10,2)'}
  redshift:
    schema: sales
    table: exports
"""


def variant(old: str, new: str) -> str:
    assert old in EUROPEAN, old
    return EUROPEAN.replace(old, new, 1)


def test_formats_and_tokens_go_into_the_job_config_unchanged(project):
    write_source(project, "x.yaml", EUROPEAN)
    [source] = load_project(project)
    config = job_config(source)
    assert config["format"] == {
        "type": "csv", "delimiter": ";", "quote": '"', "escape": '"', "header": True, "encoding": "UTF-8",
        "records_path": None, "null_values": ["NA", "N/A", "-"], "true_values": ["J", "ja"],
        "false_values": ["N", "nein"], "decimal_separator": ","}
    assert [(c["name"], c.get("format")) for c in config["columns"]] == [
        ("id", None), ("ordered", "MMM d yyyy"), ("shipped_at", "dd/MM/yyyy HH:mm"), ("paid_at", "epoch_millis"),
        ("amount", None)]


CASES = [
    ("week-based year", variant("format: 'MMM d yyyy'", "format: 'MMM d YYYY'"),
     ["sources/x.yaml:15:45: source.schema.columns[1].format: format 'MMM d YYYY' is not a datetime pattern Spark "
      "can parse: 'YYYY': week-based fields are not supported by Spark 3 (character 7)"]),
    ("unknown letter", variant("format: 'MMM d yyyy'", "format: 'MMM d yyyy at HH'"),
     ["sources/x.yaml:15:45: source.schema.columns[1].format: format 'MMM d yyyy at HH' is not a datetime pattern "
      "Spark can parse: 't' is not a pattern letter; quote literal text, e.g. 't' (character 13)"]),
    ("unclosed quote", variant("format: 'dd/MM/yyyy HH:mm'", "format: \"dd/MM/yyyy'T'HH:mm'\""),
     ["sources/x.yaml:16:53: source.schema.columns[2].format: format 'dd/MM/yyyy'T'HH:mm'' is not a datetime "
      "pattern Spark can parse: the quoted text at character 19 is not closed with '"]),
    ("format on a number", variant("{name: id, type: integer}", "{name: id, type: integer, format: epoch_millis}"),
     ["sources/x.yaml:14:9: source.schema.columns[0]: format applies only to types date, timestamp and "
      "timestamptz"]),
    ("decimal comma with comma delimiter", variant("delimiter: ';'", "delimiter: ','"),
     ["sources/x.yaml:9:24: source.schema.decimal_separator: decimal_separator ',' needs another delimiter, e.g. delimiter: ';'"]),
    ("true without false", variant("    false_values: [N, nein]\n", ""),
     ["sources/x.yaml:11:5: source.schema.true_values: give true_values and false_values together"]),
    ("token both true and false", variant("false_values: [N, nein]", "false_values: [N, JA]"),
     ["sources/x.yaml:12:19: source.schema.false_values: ja is in both true_values and false_values"]),
    ("missing columns with a required column",
     variant("    null_values:", "    allow_missing_columns: true\n    null_values:")
     .replace("{name: id, type: integer}", "{name: id, type: integer, nullable: false}"),
     ["sources/x.yaml:10:28: source.schema.allow_missing_columns: allow_missing_columns needs nullable columns; "
      "not nullable (or a load key): id"]),
]


@pytest.mark.parametrize(("case", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_invalid_formats_are_positioned_errors(project, case, text, expected):
    assert errors_for(project, text) == expected


def test_allow_missing_columns_with_nullable_columns_goes_into_the_job_config(project):
    write_source(project, "x.yaml", variant("    null_values:", "    allow_missing_columns: true\n    null_values:"))
    [source] = load_project(project)
    assert job_config(source)["format"]["allow_missing_columns"] is True


@pytest.mark.parametrize("kind,config", [("stream", "    kind: kinesis\n    stream_name: readings"),
                                         ("http_push", "    path: /ingest/readings")])
def test_stream_and_push_sources_default_to_jsonl(project, kind, config):
    write_source(project, "x.yaml", f"""
source:
  name: readings
  type: {kind}
  config:
{config}
  schema:
    columns:
      - {{name: device_id, type: string}}
  redshift:
    schema: iot
    table: readings
""")
    [source] = load_project(project)
    assert source.definition.schema_.type == "jsonl"
    assert job_config(source)["format"]["type"] == "jsonl"


@pytest.mark.parametrize(("pattern", "problem"), [
    ("MMM d yyyy", None), ("dd/MM/yyyy HH:mm", None), ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", None),
    ("'it''s' d", None), ("yyyy-MM-dd [HH:mm]", None), ("yyyyMMddHHmmss", None),
    ("", "the pattern is empty"),
    ("yyyy-MM-dd EEE", "'EEE': Spark uses E only to format dates, not to parse them (character 12)"),
    ("hh:mm aa", "'aa': a is written exactly 1 time, not 2 (character 7)"),
    ("ddd", "'ddd': d is written 1 or 2 times, not 3 (character 1)"),
    ("yyyy-MM-dd ]", "']' without an opening '[' (character 12)"),
    ("yyyy#MM", "'#' is reserved (character 5); quote literal text, e.g. '#'"),
    ("MMMMM", "'MMMMM': M is written 1 to 4 times, not 5 (character 1)"),
])
def test_pattern_problems_name_the_letter_and_position(pattern, problem):
    assert pattern_problem(pattern) == problem
