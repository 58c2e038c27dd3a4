"""Outputs of a batch: partitioned Parquet (appended), the COPY manifest, the summary, the quarantine."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from onboard_glue.lake_fs import LakeFS
from onboard_glue.read import FILE_COL, ROW_COL, quoted

QUARANTINE_ROWS_PER_FILE = 1_000_000
_INPUT_ORDER = (FILE_COL, ROW_COL)
_NO_SUCCESS_MARKER = {"mapreduce.fileoutputcommitter.marksuccessfuljobs": "false"}
# Parquet keeps a column's dictionary until it reaches this size, then writes the column plain. The 1 MB
# default has a column of mostly distinct values (ids, timestamps, amounts) hash every value and re-encode
# them all at the end of each file; at 32 KB the 1M-row benchmark's transform took 6.1 s instead of 7.5 s,
# with the same encodings and file sizes (a column of up to about 2,000 distinct short values keeps one).
DICTIONARY_PAGE_BYTES = 32 * 1024
# Spark names files part-<task>-<uuid>.c000.<codec>.parquet (partitioned) or ...-<uuid>-c000... (not).
_SPARK_PART_NAME = re.compile(r"^part-(\d+)-[0-9a-fA-F-]{36}[.-](.*)$")


@dataclass(frozen=True)
class LakeFile:
    url: str
    content_length: int


def file_count(rows: int, rows_per_file: int, slices: int) -> int:
    """``ceil(rows / rows_per_file)``, rounded up to a multiple of ``slices`` when more than one,
    and never more than ``rows`` (no empty files)."""
    if rows <= 0:
        return 0
    count = math.ceil(rows / rows_per_file)
    if count > 1:
        count = math.ceil(count / slices) * slices
    return min(count, rows)


def root_uri(uri: str) -> str:
    """A folder URI without its trailing slash; local paths without a scheme are made absolute."""
    if "://" not in uri and not uri.startswith("file:"):
        uri = os.path.abspath(uri)
    return uri.rstrip("/") or "/"


def staging_uri(output: str, batch_id: str) -> str:
    """Where Spark writes a batch before its files move into the table's partition directories."""
    return f"{root_uri(output)}/_staging/{batch_id}"


def stage_table_files(
    rows: DataFrame, *, staging: str, columns: Sequence[str], partition_by: Sequence[str], files: int
) -> None:
    """Write ``rows`` as ``files`` Parquet files (a range of rows that spans partition directories is
    split at their boundaries) into the staging folder, replacing what a failed attempt left.

    ``files`` <= 1 means one file per partition directory: rows are hashed by directory, so every core
    writes (one writer task would leave the others idle while it encodes the whole batch)."""
    frame = rows.select(*[quoted(c) for c in columns], *[quoted(p) for p in partition_by])
    if files <= 1 and partition_by:
        writers = rows.sparkSession.sparkContext.defaultParallelism
        frame = frame.repartition(writers, *[quoted(p) for p in partition_by])
    elif files <= 1:
        frame = frame.repartition(1)  # not coalesce(1): that would also make the upstream work one task
    else:
        # Contiguous, equal ranges of (partition directory, input position): N balanced files.
        frame = frame.withColumn("__seq", F.monotonically_increasing_id())
        frame = frame.repartitionByRange(files, *[quoted(p) for p in partition_by], F.col("__seq")).drop("__seq")
    (
        frame.write.mode("overwrite")
        .partitionBy(*partition_by)
        .option("maxRecordsPerFile", 0)
        .option("parquet.dictionary.page.size", DICTIONARY_PAGE_BYTES)
        .options(**_NO_SUCCESS_MARKER)
        .parquet(staging)
    )


def publish_table_files(lake: LakeFS, *, staging: str, output: str, batch_id: str) -> list[LakeFile]:
    """Move the staged files into the table as ``<partitions>/part-NNNNN-<batch_id>...parquet`` (NNNNN
    numbers a batch's files within each directory, in Spark's task order) and return exactly them: no
    listing of the whole table is needed, and a re-run of the batch replaces its own files instead of
    adding copies."""
    root = root_uri(output)
    written = []
    numbered: dict[str, int] = {}
    for staged in lake.list_files(staging):
        folder, _, name = staged.relative_path.rpartition("/")
        index = numbered[folder] = numbered.get(folder, -1) + 1
        final = batch_file_name(name, batch_id, index)
        final = f"{folder}/{final}" if folder else final
        lake.move(f"{staging}/{staged.relative_path}", f"{root}/{final}")
        written.append(LakeFile(url=f"{root}/{final}", content_length=staged.length))
    discard_staging(lake, staging)
    return written


def discard_staging(lake: LakeFS, staging: str) -> None:
    lake.delete(staging)
    lake.delete_if_empty(staging.rsplit("/", 1)[0])


def batch_file_name(spark_name: str, batch_id: str, index: int) -> str:
    """``part-00003-<uuid>.c000.snappy.parquet``, 0 -> ``part-00000-<batch_id>.c000.snappy.parquet``."""
    match = _SPARK_PART_NAME.match(spark_name)
    if match is None:
        return f"{batch_id}-{spark_name}"
    return f"part-{index:05d}-{batch_id}.{match.group(2)}"


def write_quarantine(rows: DataFrame, *, folder: str, count: int) -> None:
    """Rejected rows (in input order) as JSON lines in the batch's quarantine folder, replaced on a
    re-run. ``rows`` carries ``__file``/``__row`` for the order; they are not written."""
    (
        rows.repartition(math.ceil(count / QUARANTINE_ROWS_PER_FILE))
        .sortWithinPartitions(*_INPUT_ORDER)
        .drop(*_INPUT_ORDER)
        .write.mode("overwrite")
        .option("ignoreNullFields", False)
        .options(**_NO_SUCCESS_MARKER)
        .json(root_uri(folder))
    )


def clear_quarantine(lake: LakeFS, folder: str) -> None:
    lake.delete(root_uri(folder))


def manifest(files: Sequence[LakeFile]) -> dict[str, Any]:
    """A Redshift COPY manifest; Parquet entries need ``meta.content_length``."""
    return {"entries": [{"url": f.url, "mandatory": True, "meta": {"content_length": f.content_length}} for f in files]}


def write_json(lake: LakeFS, uri: str, document: dict[str, Any]) -> None:
    target = uri if "://" in uri or uri.startswith("file:") else os.path.abspath(uri)
    lake.write_text(target, json.dumps(document, indent=2) + "\n")
