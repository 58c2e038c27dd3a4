"""Fixtures for the onboard_glue tests: one local SparkSession for the whole run."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A small local Spark (2 cores, few shuffle partitions, no UI); shared by every test."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("onboard-glue-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session


@pytest.fixture
def s3_bucket(spark, tmp_path):
    """A bucket ``s3://<name>/`` served by Hadoop itself, for the library's S3 routes (see tests/glue/fake_s3.py)."""
    from tests.glue.fake_s3 import FakeBucket

    return FakeBucket.mount(spark, tmp_path / "bucket")
