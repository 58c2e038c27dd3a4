"""Output layout: partitions, file count, manifests of appended batches, re-runs, empty input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import functions as F

from onboard_glue.transform import partition_value
from tests.glue.batch import (
    column,
    job_config,
    parquet_columns,
    parquet_files_on_disk,
    run_batch,
    write,
)

pytestmark = pytest.mark.slow

INGESTED = datetime(2024, 11, 16, 10, 30, tzinfo=UTC)
EVENT_COLUMNS = [column("id", "integer", nullable=False), column("at", "timestamp")]


def relative(batch, paths):
    return [p.relative_to(batch.output).as_posix() for p in paths]


def test_partitions_derived_from_a_timestamp_column(spark, tmp_path):
    source = write(
        tmp_path / "in" / "e.csv",
        "id,at\n1,2024-01-31T23:59:59Z\n2,2024-02-01 00:00:00\n3,2024-02-01T07:15:00+02:00\n",
    )
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=["year", "month", "day", "hour"],
                        partition_column="at")
    batch = run_batch(tmp_path / "lake", config, [source])

    assert relative(batch, parquet_files_on_disk(batch.output)) == [
        "onboard_year=2024/onboard_month=01/onboard_day=31/onboard_hour=23/part-00000-b1.c000.snappy.parquet",
        "onboard_year=2024/onboard_month=02/onboard_day=01/onboard_hour=00/part-00000-b1.c000.snappy.parquet",
        "onboard_year=2024/onboard_month=02/onboard_day=01/onboard_hour=05/part-00000-b1.c000.snappy.parquet",
    ]
    assert relative(batch, batch.files()) == relative(batch, parquet_files_on_disk(batch.output))
    for path in batch.files():
        assert [name for name, _, _ in parquet_columns(path)] == ["id", "at", "_batch_id", "_ingested_at"]
    # Read as a partitioned table, each row sits in the directory of its own timestamp.
    rows = duckdb.sql(
        f"SELECT id, onboard_year, onboard_month, onboard_day, onboard_hour FROM read_parquet('{batch.output}/**/*.parquet', "  # noqa: S608
        "hive_partitioning = true, hive_types_autocast = false) ORDER BY id"
    ).fetchall()
    assert rows == [(1, "2024", "01", "31", "23"), (2, "2024", "02", "01", "00"), (3, "2024", "02", "01", "05")]


@pytest.mark.parametrize("part, pattern", [("year", "yyyy"), ("month", "MM"), ("day", "dd"), ("hour", "HH")])
def test_partition_values_are_the_timestamps_formatted_fields(spark, part, pattern):
    moments = ["0001-01-01 00:00:00", "0999-12-31 23:59:59", "2024-02-09 07:05:00", "9999-12-31 23:00:00",
               "12345-06-07 08:00:00", None]
    frame = spark.createDataFrame([(m,) for m in moments], "m string").select(F.col("m").cast("timestamp").alias("t"))
    rows = frame.select(partition_value(part, F.col("t")).alias("value"), F.date_format("t", pattern).alias("formatted"))
    values = [(row.value, row.formatted) for row in rows.collect()]
    assert [value for value, _ in values] == [formatted for _, formatted in values]
    assert values[2][0] == {"year": "2024", "month": "02", "day": "09", "hour": "07"}[part]


def test_partitions_derived_from_the_ingest_time(spark, tmp_path):
    source = write(tmp_path / "in" / "e.csv", "id,at\n1,2020-05-05T00:00:00Z\n")
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=["year", "month", "day", "hour"])
    batch = run_batch(tmp_path / "lake", config, [source], ingest_time="2024-11-16T09:30:00-02:00")

    assert relative(batch, batch.files()) == ["onboard_year=2024/onboard_month=11/onboard_day=16/onboard_hour=11/part-00000-b1.c000.snappy.parquet"]
    assert batch.rows("id") == [
        (1, datetime(2020, 5, 5, tzinfo=UTC), "b1", datetime(2024, 11, 16, 11, 30, tzinfo=UTC))
    ]


def test_a_second_batch_appends_and_its_manifest_lists_only_its_own_files(spark, tmp_path):
    lake = tmp_path / "lake"
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_column="at")
    first = run_batch(lake, config, [write(tmp_path / "in" / "1.csv", "id,at\n1,2024-11-01\n2,2024-11-02\n")], "b1")
    second = run_batch(lake, config, [write(tmp_path / "in" / "2.csv", "id,at\n3,2024-11-02\n4,2024-11-03\n")], "b2")

    assert relative(first, first.files()) == [
        "onboard_year=2024/onboard_month=11/onboard_day=01/part-00000-b1.c000.snappy.parquet",
        "onboard_year=2024/onboard_month=11/onboard_day=02/part-00000-b1.c000.snappy.parquet",
    ]
    assert relative(second, second.files()) == [
        "onboard_year=2024/onboard_month=11/onboard_day=02/part-00000-b2.c000.snappy.parquet",
        "onboard_year=2024/onboard_month=11/onboard_day=03/part-00000-b2.c000.snappy.parquet",
    ]
    assert relative(first, parquet_files_on_disk(first.output)) == sorted(
        relative(first, first.files() + second.files())
    )
    for entry in second.manifest()["entries"]:
        assert entry["meta"]["content_length"] == Path(entry["url"]).stat().st_size
    assert [r[0] for r in second.rows("id")] == [3, 4]
    assert not (first.output / "_staging").exists()


def test_a_rerun_of_the_same_batch_replaces_its_files(spark, tmp_path):
    lake = tmp_path / "lake"
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[])
    bad_then_fixed = write(tmp_path / "in" / "1.csv", "id,at\n1,2024-11-01\nx,2024-11-02\n")
    first = run_batch(lake, config, [bad_then_fixed])
    assert first.quarantine_dir.exists()
    write(tmp_path / "in" / "1.csv", "id,at\n1,2024-11-01\n2,2024-11-02\n")
    again = run_batch(lake, config, [bad_then_fixed])

    assert relative(again, parquet_files_on_disk(again.output)) == ["part-00000-b1.c000.snappy.parquet"]
    assert [r[0] for r in again.rows("id")] == [1, 2]
    assert not again.quarantine_dir.exists()


def test_file_count_is_rows_over_rows_per_file_rounded_up_to_the_slices(spark, tmp_path):
    source = write(tmp_path / "in" / "e.csv", "id,at\n" + "".join(f"{i},2024-11-01\n" for i in range(10)))
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=["year"],
                        files={"slices": 2, "rows_per_file": 3})
    batch = run_batch(tmp_path / "lake", config, [source])

    # ceil(10 / 3) = 4 files, already a multiple of 2 slices; equal ranges of the input.
    assert batch.summary["files"] == 4
    sizes = [duckdb.sql(f"SELECT count(*) FROM read_parquet('{p}')").fetchall()[0][0] for p in batch.files()]  # noqa: S608
    assert sorted(sizes) == [2, 2, 3, 3]
    assert relative(batch, batch.files()) == [f"onboard_year=2024/part-0000{i}-b1.c000.snappy.parquet" for i in range(4)]
    assert [r[0] for r in batch.rows("id")] == list(range(10))


def test_a_json_line_holding_many_records_still_gets_the_file_count_right(spark, tmp_path):
    # One line but three records: the line-count bound says "one file", the outcome says two.
    source = write(tmp_path / "in" / "e.jsonl", '[{"id": 1}, {"id": 2}, {"id": 3}]\n')
    config = job_config({"type": "jsonl"}, EVENT_COLUMNS, partition_by=[], files={"slices": 1, "rows_per_file": 2})
    batch = run_batch(tmp_path / "lake", config, [source])

    assert (batch.summary["rows_loaded"], batch.summary["files"]) == (3, 2)
    assert len(parquet_files_on_disk(batch.output)) == 2
    assert [r[0] for r in batch.rows("id")] == [1, 2, 3]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_empty_input_file_loads_nothing(spark, tmp_path, fmt):
    source = write(tmp_path / "in" / f"empty.{fmt}", "")
    config = job_config({"type": fmt}, EVENT_COLUMNS, dedupe={"keys": ["id"], "order_by": None})
    batch = run_batch(tmp_path / "lake", config, [source])

    assert batch.summary == {
        "batch_id": "b1", "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "rows_duplicate": 0,
        "files": 0, "quarantine_reasons": {}, "quarantine_examples": {}, "unmapped_fields": [],
    }
    assert batch.manifest() == {"entries": []}
    assert parquet_files_on_disk(batch.lake) == []


def test_columns_of_many_distinct_values_are_written_plain_and_few_keep_a_dictionary(spark, tmp_path):
    # 30,000 rows: 3,000 cities of 20 bytes (a 72 KB dictionary: past the 32 KB limit, though Parquet's 1 MB
    # default would keep it) and 5 categories.
    rows = "\n".join(f"{i},city-{i % 3000:015d},category-{i % 5}" for i in range(30_000))
    source = write(tmp_path / "in" / "e.csv", "id,city,category\n" + rows + "\n")
    columns = [column("id", "integer"), column("city"), column("category")]
    batch = run_batch(tmp_path / "lake", job_config({"type": "csv"}, columns, partition_by=[]), [source])

    [file] = batch.files()
    encodings = dict(duckdb.sql("SELECT path_in_schema, encodings FROM parquet_metadata(?)",
                                params=[str(file)]).fetchall())
    assert "DICTIONARY" not in encodings["city"]
    assert "DICTIONARY" in encodings["category"]
