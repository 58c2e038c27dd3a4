"""Every way a user can get a source definition wrong ends in exact, positioned errors, never a traceback."""

from __future__ import annotations

import pytest

from framework.spec import load_project
from tests.conftest import errors_for, write_source

VALID = """
source:
  name: airports
  type: s3_file
  config:
    prefix: incoming/airports/
  schema:
    type: csv
    columns:
      - {name: iata, type: string, nullable: false}
      - {name: name, type: string}
      - {name: latitude, type: double}
      - {name: opened, type: date}
  redshift:
    schema: reference
    table: airports
    sortkey: iata
    load: {mode: merge, keys: [iata]}
"""


def variant(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


CASES = [
    ("unknown key with suggestion", variant("    prefix: incoming/airports/", "    prefix: incoming/airports/\n    sufix: .csv"),
     ["sources/x.yaml:6:5: source.config.sufix: unknown key 'sufix'; did you mean 'suffix'? "
      "valid keys: bucket, prefix, suffix"]),
    ("unknown source type", variant("type: s3_file", "type: ftp"),
     ["sources/x.yaml:3:9: source.type: unknown source type 'ftp'; choose from: email, http_push, rest_api, s3_file, stream"]),
    ("missing type", variant("  type: s3_file\n", ""),
     ["sources/x.yaml:1:1: source: missing required key 'type'; choose from: email, http_push, rest_api, s3_file, stream"]),
    ("missing prefix", variant("    prefix: incoming/airports/", "    suffix: .csv"),
     ["sources/x.yaml:4:3: source.config: missing required key 'prefix'"]),
    ("prefix shape", variant("prefix: incoming/airports/", "prefix: incoming/airports"),
     ["sources/x.yaml:5:13: source.config.prefix: prefix must end with '/' and not start with '/', "
      "e.g. 'incoming/airports/'"]),
    ("unknown schema type", variant("    type: csv", "    type: xml"),
     ["sources/x.yaml:7:11: source.schema.type: 'xml' is not valid; choose from: csv, json, jsonl, parquet, xlsx"]),
    ("csv option on json", variant("    type: csv", "    type: json\n    delimiter: ';'"),
     ["sources/x.yaml:8:5: source.schema.delimiter: unknown key 'delimiter' valid keys: mapping, columns, "
      "columns_from, null_values, true_values, false_values, pii_secret, type, records_path"]),
    ("unknown column type", variant("{name: latitude, type: double}", "{name: latitude, type: float}"),
     ["sources/x.yaml:11:32: source.schema.columns[2].type: unknown column type 'float'; did you mean 'double'? "
      "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json"]),
    ("type name from SQL", variant("{name: latitude, type: double}", "{name: latitude, type: int}"),
     ["sources/x.yaml:11:32: source.schema.columns[2].type: unknown column type 'int'; did you mean 'integer'? "
      "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json"]),
    ("type name misspelt", variant("{name: opened, type: date}", "{name: opened, type: timestamp_tz}"),
     ["sources/x.yaml:12:30: source.schema.columns[3].type: unknown column type 'timestamp_tz'; did you mean "
      "'timestamptz'? choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, "
      "timestamptz, json"]),
    ("decimal cut at a comma", variant("{name: latitude, type: double}", "{name: latitude, type: decimal(9,6)}"),
     ["sources/x.yaml:11:32: source.schema.columns[2].type: type 'decimal(9' was cut at a comma: inside { } "
      "quote it, e.g. type: 'decimal(10,2)'",
      "sources/x.yaml:11:42: source.schema.columns[2].6): unknown key '6)' valid keys: name, type, nullable, "
      "max_length, precision, scale, description, source, format, pii"]),
    ("precision too large", variant("{name: latitude, type: double}", "{name: latitude, type: 'decimal(40,6)'}"),
     ["sources/x.yaml:11:9: source.schema.columns[2].precision: 40 is out of range; at most 38"]),
    ("scale above precision", variant("{name: latitude, type: double}", "{name: latitude, type: 'decimal(4,6)'}"),
     ["sources/x.yaml:11:9: source.schema.columns[2]: scale 6 is greater than precision 4"]),
    ("varchar too long", variant("{name: name, type: string}", "{name: name, type: string(70000)}"),
     ["sources/x.yaml:10:9: source.schema.columns[1].max_length: 70000 is out of range; at most 65535"]),
    ("max_length on a number", variant("{name: latitude, type: double}", "{name: latitude, type: double, max_length: 3}"),
     ["sources/x.yaml:11:9: source.schema.columns[2]: max_length applies only to type string"]),
    ("wrong value type", variant("nullable: false", "nullable: maybe"),
     ["sources/x.yaml:9:46: source.schema.columns[0].nullable: input should be a valid boolean, "
      "unable to interpret input"]),
    ("bad source name", variant("name: airports", "name: Airport-Data"),
     ["sources/x.yaml:2:9: source.name: 'Airport-Data' must be lower-case snake_case: a letter, then letters, "
      "digits or '_'"]),
    ("reserved word table", variant("table: airports", "table: order"),
     ["sources/x.yaml:15:12: source.redshift.table: 'order' is a Redshift reserved word; pick another name "
      "(columns may use reserved words)"]),
    ("bad identifier characters", variant("table: airports", "table: air-ports"),
     ["sources/x.yaml:15:12: source.redshift.table: 'air-ports' is not a valid Redshift identifier: start with "
      "a letter or '_', then use only letters, digits, '_' or '$'"]),
    ("identifier too long", variant("schema: reference", "schema: " + "s" * 128),
     ["sources/x.yaml:14:13: source.redshift.schema: 'ssssssssssssssssssss...' is 128 bytes; "
      "Redshift allows at most 127"]),
    ("case folding collision", variant("{name: name, type: string}", "{name: IATA, type: string}"),
     ["sources/x.yaml:10:16: source.schema.columns[1].name: 'IATA' and 'iata' are the same column in Redshift, "
      "which folds names to lower case"]),
    ("lineage column clash", variant("{name: name, type: string}", "{name: _batch_id, type: string}"),
     ["sources/x.yaml:10:16: source.schema.columns[1].name: '_batch_id' is reserved by Onboard (_batch_id, "
      "_ingested_at, _record, _reason, onboard_year, onboard_month, onboard_day, onboard_hour); rename it, e.g. with mapping"]),
    ("partition folder as a column", variant("{name: name, type: string}", "{name: Onboard_Year, type: integer}"),
     ["sources/x.yaml:10:16: source.schema.columns[1].name: 'Onboard_Year' is reserved by Onboard (_batch_id, "
      "_ingested_at, _record, _reason, onboard_year, onboard_month, onboard_day, onboard_hour); rename it, e.g. with mapping"]),
    ("distkey not a column", variant("    sortkey: iata", "    distkey: code\n    sortkey: iata"),
     ["sources/x.yaml:16:14: source.redshift.distkey: 'code' is not a column; choose from: iata, name, "
      "latitude, opened"]),
    ("super sortkey", variant("{name: opened, type: date}", "{name: opened, type: json}").replace(
        "sortkey: iata", "sortkey: opened"),
     ["sources/x.yaml:16:14: source.redshift.sortkey: 'opened' is json (SUPER), which cannot be a sort key"]),
    ("super distkey", variant("{name: opened, type: date}", "{name: opened, type: json}").replace(
        "    sortkey: iata", "    distkey: opened\n    sortkey: iata"),
     ["sources/x.yaml:16:14: source.redshift.distkey: 'opened' is json (SUPER), which cannot be a distribution key"]),
    ("allow_drop a declared column", variant("    sortkey: iata", "    sortkey: iata\n    allow_drop: [legacy, Name]"),
     ["sources/x.yaml:17:26: source.redshift.allow_drop[1]: 'Name' is still a column; allow_drop lists columns "
      "removed from the source whose table column may be dropped"]),
    ("sortkey listed twice", variant("sortkey: iata", "sortkey: [iata, name, IATA]"),
     ["sources/x.yaml:16:27: source.redshift.sortkey[2]: 'IATA' is listed twice"]),
    ("diststyle all with distkey", variant("    sortkey: iata", "    diststyle: all\n    distkey: iata\n    sortkey: iata"),
     ["sources/x.yaml:16:16: source.redshift.diststyle: diststyle all cannot have a distkey; use key or remove "
      "distkey"]),
    ("diststyle key without distkey", variant("    sortkey: iata", "    diststyle: key\n    sortkey: iata"),
     ["sources/x.yaml:16:16: source.redshift.diststyle: diststyle key needs a distkey"]),
    ("merge without keys", variant("load: {mode: merge, keys: [iata]}", "load: {mode: merge}"),
     ["sources/x.yaml:17:11: source.redshift.load: mode merge needs keys: the columns that identify a row"]),
    ("unknown load mode", variant("mode: merge", "mode: upsert"),
     ["sources/x.yaml:17:18: source.redshift.load.mode: 'upsert' is not valid; choose from: append, merge, replace"]),
    ("key not a column", variant("keys: [iata]", "keys: [iata, code]"),
     ["sources/x.yaml:17:38: source.redshift.load.keys[1]: 'code' is not a column; choose from: iata, name, "
      "latitude, opened"]),
    ("unknown partition", variant("  redshift:", "  destination:\n    partitionBy: [year, week]\n  redshift:"),
     ["sources/x.yaml:14:25: source.destination.partitionBy[1]: 'week' is not valid; choose from: year, month, "
      "day, hour"]),
    ("partition column not a date", variant(
        "  redshift:", "  destination:\n    partitionBy: [year]\n    partition_column: name\n  redshift:"),
     ["sources/x.yaml:15:23: source.destination.partition_column: 'name' is not a date or timestamp column; "
      "choose from: opened"]),
    ("unknown bucket zone", variant("    prefix: incoming/airports/", "    bucket: ${BUCKET:landing}\n    prefix: in/"),
     ["sources/x.yaml:5:13: source.config.bucket: unknown bucket zone 'landing'; choose from: raw, processed, "
      "curated, quarantine"]),
    ("unknown reference kind", variant("    prefix: incoming/airports/", "    bucket: ${VAULT:x}\n    prefix: in/"),
     ["sources/x.yaml:5:13: source.config.bucket: unknown reference kind 'VAULT' in ${VAULT:x}; choose from: "
      "SECRET, BUCKET, ENV"]),
    ("duplicate key", variant("  type: s3_file", "  type: s3_file\n  name: other"),
     ["sources/x.yaml:4:3: source.name: duplicate key 'name' (first given on line 2)"]),
    ("syntax error", variant("    sortkey: iata", "    sortkey: [iata"),
     ["sources/x.yaml:17:9: YAML syntax error: expected ',' or ']', but got ':'"]),
    ("bad indentation", variant("    table: airports", "   table: airports"),
     ["sources/x.yaml:15:4: YAML syntax error: expected <block end>, but found '<block mapping start>'"]),
    ("empty file", "", ["sources/x.yaml:1:1: the file is empty; expected a 'source:' mapping"]),
    ("not a mapping", "- just\n- a list\n", ["sources/x.yaml:1:1: expected a mapping with a top-level 'source:' key"]),
    ("unknown top-level key", VALID + "extra: 1\n",
     ["sources/x.yaml:18:1: extra: unknown top-level key 'extra'; valid keys: source"]),
    ("columns missing", variant("    columns:\n", "    other:\n"),
     ["sources/x.yaml:7:5: source.schema: give the table's columns: `columns`, `columns_from` or `mapping`",
      "sources/x.yaml:8:5: source.schema.other: unknown key 'other'; did you mean 'quote'? valid keys: mapping, "
      "columns, columns_from, null_values, true_values, false_values, pii_secret, type, delimiter, quote, escape, header, "
      "encoding, decimal_separator, allow_missing_columns"]),
    ("mapping target not a column", variant("    columns:\n", "    mapping: {code: iata_code}\n    columns:\n"),
     ["sources/x.yaml:8:15: source.schema.mapping.code: mapping target 'code' is not a declared column; "
      "choose from: iata, name, latitude, opened"]),
    ("missing example file", variant("  type: s3_file", "  type: s3_file\n  example_input: nowhere.csv"),
     ["sources/x.yaml:4:18: source.example_input: file 'nowhere.csv' does not exist (paths are relative to the "
      "project folder)"]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_invalid_source_reports_exact_errors(project, text, expected):
    assert errors_for(project, text) == expected


def test_valid_source_has_no_errors(project):
    write_source(project, "x.yaml", VALID)
    [source] = load_project(project)
    assert [c.name for c in source.columns] == ["iata", "name", "latitude", "opened"]


def test_every_error_in_every_file_is_reported_at_once(project):
    write_source(project, "a.yaml", variant("mode: merge", "mode: upsert"))
    write_source(project, "b.yaml", variant("name: airports", "name: Bad").replace("table: airports", "table: t2"))
    errors = errors_for(project, variant("type: s3_file", "type: ftp"))
    assert [e.split(":")[0] for e in errors] == ["sources/a.yaml", "sources/b.yaml", "sources/x.yaml"]


def test_two_sources_cannot_load_one_table(project):
    write_source(project, "a.yaml", VALID)
    errors = errors_for(project, variant("name: airports", "name: airports_copy"))
    assert errors == ["sources/x.yaml:1:1: source.redshift.table: table reference.airports is also loaded by "
                      "sources/a.yaml"]


def test_secret_value_is_never_echoed(project):
    text = variant("    prefix: incoming/airports/", "    prefix: incoming/airports/\n    token: s3cr3t-VALUE")
    errors = errors_for(project, text)
    assert errors == ["sources/x.yaml:6:5: source.config.token: unknown key 'token' valid keys: bucket, prefix, "
                      "suffix"]
    assert "s3cr3t" not in "".join(errors)
