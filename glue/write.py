"""Outputs of a batch: partitioned Parquet (appended), the COPY manifest, the summary, the quarantine."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from onboard_glue.lake_fs import InputFile, LakeFS
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


# Redshift's advice for COPY: files of 1 MB to 1 GB after compression, as many as a multiple of the slices.
MIN_FILE_BYTES = 1 << 20
TARGET_FILE_BYTES = 128 << 20  # well inside the range even when the estimate below is off by a few times
# Snappy Parquet bytes per stored input byte, measured on the benchmark's transactions (200,000 rows, with the
# lineage columns): JSONL 47.9 MB -> 6.0 MB (0.125), CSV 19.4 MB -> 6.0 MB (0.31); gzip-compressed, 5.3 MB of
# JSONL and 4.7 MB of CSV -> 6.0 MB (1.13, 1.28). Rounded up: a file a little smaller than aimed is harmless.
OUTPUT_RATIO = {"csv": 0.35, "json": 0.15, "jsonl": 0.15, "parquet": 1.0, "xlsx": 1.0}
COMPRESSED_OUTPUT_RATIO = 1.3


@dataclass(frozen=True)
class LakeFile:
    url: str
    content_length: int


def file_count(rows: int, rows_per_file: int, slices: int, output_bytes: int = 0) -> int:
    """How many Parquet files a batch of ``rows`` (about ``output_bytes`` once written) is split into.

    Redshift loads one file per slice at a time and advises files of 1 MB to 1 GB after compression, their
    count a multiple of the slices. So: files of at most ``TARGET_FILE_BYTES`` and ``rows_per_file`` rows,
    their count rounded up to a multiple of ``slices`` (every slice loads a share), unless that would make
    files under ``MIN_FILE_BYTES``: then as many 1 MB files as the bytes make (at least the row cap's
    count, at least one). Never more files than rows (no empty files)."""
    if rows <= 0:
        return 0
    wanted = max(math.ceil(rows / rows_per_file), math.ceil(output_bytes / TARGET_FILE_BYTES), 1)
    spread = math.ceil(wanted / slices) * slices
    floor = max(1, output_bytes // MIN_FILE_BYTES)
    count = spread if spread <= floor else max(wanted, floor)
    return min(count, rows)


def estimated_output_bytes(fmt_type: str, inputs: Sequence[InputFile], share: float = 1.0) -> int:
    """The Parquet bytes ``share`` of the input's records make, estimated from the stored sizes."""
    total = sum(f.size * (COMPRESSED_OUTPUT_RATIO if f.compressed else OUTPUT_RATIO[fmt_type]) for f in inputs)
    return int(total * share)


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


def publish_table_files(
    lake: LakeFS, *, staging: str, output: str, batch_id: str, published: list[LakeFile] | None = None
) -> list[LakeFile]:
    """Move the staged files into the table as ``<partitions>/part-NNNNN-<batch_id>...parquet`` (NNNNN
    numbers a batch's files within each directory, in Spark's task order) and return exactly them: no
    listing of the whole table is needed.

    First every file an earlier attempt of this batch left in the target directories is removed (a resume
    that writes fewer files must not leave the extra ones to a crawler or a later manifest). Each moved file
    is appended to ``published`` as soon as it is in place, so a failure part-way can sweep it
    (`sweep_batch`): on S3 a move is a copy and a delete per file, and the batch's files appear one by one."""
    root = root_uri(output)
    published = [] if published is None else published
    plan = []
    numbered: dict[str, int] = {}
    for staged in lake.list_files(staging):
        folder, _, name = staged.relative_path.rpartition("/")
        index = numbered[folder] = numbered.get(folder, -1) + 1
        final = batch_file_name(name, batch_id, index)
        plan.append((staged, f"{folder}/{final}" if folder else final))
    ours = batch_file_pattern(batch_id)
    for folder in sorted(numbered):
        target = f"{root}/{folder}" if folder else root
        for name in lake.file_names(target):
            if ours.match(name):
                lake.delete(f"{target}/{name}", recursive=False)
    for staged, final in plan:
        lake.move(f"{staging}/{staged.relative_path}", f"{root}/{final}")
        published.append(LakeFile(url=f"{root}/{final}", content_length=staged.length))
    discard_staging(lake, staging)
    return published


def discard_staging(lake: LakeFS, staging: str) -> None:
    lake.delete(staging)
    lake.delete_if_empty(staging.rsplit("/", 1)[0])


def sweep_batch(lake: LakeFS, *, staging: str, published: Sequence[LakeFile]) -> None:
    """After a failed run: remove what it staged and the table files it had already published, so the table
    holds none of an unloaded batch's files (a redelivery under a new batch id would otherwise leave them)."""
    for file in published:
        lake.delete(file.url, recursive=False)
    discard_staging(lake, staging)


def sweep_stale_staging(lake: LakeFS, output: str, *, older_than_seconds: float, now: float | None = None) -> list[str]:
    """Remove the staging folders of other batches whose newest file is older than ``older_than_seconds``
    (a run killed before it could sweep, e.g. at its timeout); return their batch ids. A run still writing
    its staging folder has files newer than any run's timeout, so it is left alone."""
    root = f"{root_uri(output)}/_staging"
    newest: dict[str, float] = {}
    for stored in lake.list_files(root, hidden=True):
        batch = stored.relative_path.split("/", 1)[0]
        newest[batch] = max(newest.get(batch, 0.0), stored.modified)
    now = time.time() if now is None else now
    stale = sorted(batch for batch, modified in newest.items() if now - modified > older_than_seconds)
    for batch in stale:
        lake.delete(f"{root}/{batch}")
    if stale:
        lake.delete_if_empty(root)
    return stale


def batch_file_pattern(batch_id: str) -> re.Pattern[str]:
    """The names `batch_file_name` gives this batch's files (and no other batch's, even one whose id starts
    with this one's followed by a dot)."""
    return re.compile(rf"^part-\d{{5}}-{re.escape(batch_id)}\.c\d{{3}}(\.(?!c\d{{3}}\.)[A-Za-z0-9]+)?\.parquet$")


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
