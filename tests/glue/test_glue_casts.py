"""Typed values: the job's casts against Spark's own cast of the same text (compared as text: Python's
datetime has no year 0 or 12024)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from onboard_glue.config import load_config
from onboard_glue.session import run_conf
from onboard_glue.transform import typed_value
from tests.glue.batch import column, job_config

# The UTC fast path's form, its near misses (each must give exactly what Spark's cast gives), and other forms.
TIMESTAMP_TEXTS = [
    "2024-11-16T10:00:00Z", "2024-11-16 10:00:00Z", "2024-11-16T10:00:00.5Z", "2024-11-16T10:00:00.123456Z",
    "2024-11-16T10:00:00.1234567Z", "2024-02-30T10:00:00Z", "2024-11-16T24:00:00Z", "2024-11-16T10:60:00Z",
    "2023-02-29T00:00:00Z", "0001-01-01T00:00:00Z", "2024-11-16T10:00:00z", " 2024-11-16T10:00:00Z",
    "2024-11-16T10:00:00Z ", "2024-11-16T10:00:00+01:00Z", "2024-11-16T10:00:00+01:00", "2024-11-16T10:00:00",
    "2024-11-16T10:00Z", "2024-11-16Z", "2024-11-16", "+2024-11-16T10:00:00Z", "12024-11-16T10:00:00Z",
    "10:00Z", "2024", "Z", "", None,
]


@pytest.mark.parametrize("type_", ["timestamp", "timestamptz"])
def test_timestamps_cast_as_spark_casts_them(spark, type_):
    [spec] = load_config(job_config({"type": "csv"}, [column("at", type_)])).columns
    frame = spark.createDataFrame([(text,) for text in TIMESTAMP_TEXTS], "raw string")
    with run_conf(spark):
        rows = frame.select(
            "raw",
            typed_value(spec, "raw").cast("string").alias("typed"),
            F.when(F.col("raw").rlike(r"^\s*[+-]?[0-9]{4,}-[0-9]{1,2}-[0-9]{1,2}"), F.col("raw").cast("timestamp")).cast("string").alias("spark"),
        ).collect()
    assert [(row.raw, row.typed) for row in rows] == [(row.raw, row.spark) for row in rows]
    typed = {row.raw: row.typed for row in rows}
    assert typed["2024-11-16T10:00:00.123456Z"] == "2024-11-16 10:00:00.123456"
    assert typed["0001-01-01T00:00:00Z"] == "0001-01-01 00:00:00"
    assert typed["2024-11-16T10:00:00+01:00"] == "2024-11-16 09:00:00"
    assert typed["2024-02-30T10:00:00Z"] is None
