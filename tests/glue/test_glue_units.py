"""Pure-Python parts of onboard_glue: arguments, configuration, file naming and counting rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboard_glue.args import parse_argv, parse_ingest_time, resolve_args
from onboard_glue.config import load_config
from onboard_glue.write import batch_file_name, file_count, manifest, root_uri

ARGS = ["job.py", "--JOB_NAME", "j", "--batch_id", "b1", "--input", "s3://raw/a.csv, s3://raw/b.csv",
        "--output", "s3://lake/processed/orders/", "--quarantine", "s3://lake/quarantine/orders/b1",
        "--manifest", "s3://lake/m/b1.manifest", "--summary", "s3://lake/m/b1.summary.json",
        "--ingest_time", "2024-11-16T10:00:00Z"]


def test_parse_argv_takes_name_value_pairs_in_both_spellings():
    assert parse_argv(["job.py", "--a", "1", "--b=2", "--flag", "--c", "x y", "stray"]) == {
        "a": "1", "b": "2", "flag": "", "c": "x y"}


def test_resolve_args_splits_inputs_and_parses_the_ingest_time():
    args = resolve_args(ARGS, default_job_name="orders")
    assert (args.job_name, args.batch_id, args.inputs) == ("j", "b1", ("s3://raw/a.csv", "s3://raw/b.csv"))
    assert args.ingest_time == datetime(2024, 11, 16, 10, 0, tzinfo=UTC)
    assert args.raw["output"] == "s3://lake/processed/orders/"


def test_resolve_args_names_every_missing_argument():
    with pytest.raises(ValueError, match=r"^missing job arguments: --output, --quarantine, --manifest, --summary$"):
        resolve_args(["job.py", "--batch_id", "b1", "--input", "x"], default_job_name="orders")


def test_batch_id_must_fit_the_lineage_column():
    with pytest.raises(ValueError, match="at most 64 bytes"):
        resolve_args([*ARGS, "--batch_id", "x" * 65], default_job_name="orders")


def test_ingest_time_offsets_are_converted_to_utc():
    assert parse_ingest_time("2024-11-16T09:30:00-02:00") == datetime(2024, 11, 16, 11, 30, tzinfo=UTC)
    assert parse_ingest_time("2024-11-16 10:00:00") == datetime(2024, 11, 16, 10, 0, tzinfo=UTC)


def test_load_config_reports_every_problem():
    with pytest.raises(ValueError) as error:
        load_config({
            "source": "s",
            "format": {"type": "xml"},
            "columns": [{"name": "a", "type": "text"}, {"name": "a"}, {"name": "onboard_year"},
                        {"name": "d", "type": "decimal", "precision": 40, "scale": 2}],
            "partition_by": ["week"],
            "partition_column": "a",
            "dedupe": {"keys": ["nope"], "order_by": "later"},
        })
    assert str(error.value).splitlines() == [
        "invalid job config:",
        "- format.type: 'xml' is not one of ['csv', 'json', 'jsonl', 'parquet', 'xlsx']",
        "- columns.a: type 'text' is not one of ['bigint', 'boolean', 'date', 'decimal', 'double', 'integer', "
        "'json', 'string', 'timestamp', 'timestamptz']",
        "- columns.a: duplicate column name",
        "- columns.onboard_year: the name is reserved for lineage, quarantine or partition columns",
        "- columns.d: decimal needs precision 1..38 and 0 <= scale <= precision",
        "- partition_by: 'week' is not one of ['year', 'month', 'day', 'hour']",
        "- partition_column: 'a' is not a date or timestamp column",
        "- dedupe.keys: 'nope' is not a column",
        "- dedupe.order_by: 'later' is not a column",
    ]


def test_load_config_applies_the_contract_defaults():
    config = load_config({"source": "s", "format": {"type": "jsonl", "header": None, "delimiter": None},
                          "columns": [{"name": "a", "source": None, "type": None}]})
    assert config.format.header is True and config.format.delimiter == ","
    column = config.columns[0]
    assert (column.source, column.type, column.nullable, column.byte_limit) == ("a", "string", True, 256)
    assert (config.partition_by, config.dedupe, config.files.slices, config.files.rows_per_file) == ((), None, 1,
                                                                                                      1_000_000)


@pytest.mark.parametrize(
    ("rows", "rows_per_file", "slices", "files"),
    [(0, 1000, 4, 0), (1, 1000, 4, 1), (1000, 1000, 4, 1), (1001, 1000, 4, 2), (4001, 1000, 4, 5),
     (5, 1, 4, 5), (10, 3, 2, 4), (7, 3, 1, 3)],
)
def test_file_count_rule(rows, rows_per_file, slices, files):
    # No bytes: files under 1 MB are not spread over the slices, only split by the row cap (see test_glue_s3).
    assert file_count(rows, rows_per_file, slices) == files


def test_batch_files_are_named_after_the_batch():
    uuid = "0f5c1f0e-8d8e-4b4e-9a57-0a4d7e2f3c11"
    # numbered within their directory: Spark's task number only orders them
    assert batch_file_name(f"part-00003-{uuid}.c000.snappy.parquet", "b7", 0) == "part-00000-b7.c000.snappy.parquet"
    assert batch_file_name(f"part-00007-{uuid}-c000.snappy.parquet", "b7", 1) == "part-00001-b7.c000.snappy.parquet"
    assert batch_file_name("odd.parquet", "b7", 0) == "b7-odd.parquet"


def test_manifest_entries_and_root_uris():
    from onboard_glue.write import LakeFile

    assert manifest([LakeFile("s3://b/k/part-0.parquet", 12)]) == {
        "entries": [{"url": "s3://b/k/part-0.parquet", "mandatory": True, "meta": {"content_length": 12}}]}
    assert root_uri("s3://lake/processed/orders/") == "s3://lake/processed/orders"
    assert root_uri("/tmp/lake/") == "/tmp/lake"
