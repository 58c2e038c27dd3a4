"""The library's S3 routes (Hadoop's FileSystem, never Python's file calls), on a bucket Hadoop serves itself
(tests/glue/fake_s3.py): listing, route choice, sampling, publish, resume and the sweep after a failure."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager

import pytest

from onboard_glue import run_job
from onboard_glue.args import resolve_args
from onboard_glue.config import load_config
from onboard_glue.job import fits_one_file
from onboard_glue.lake_fs import LakeFS
from onboard_glue.read import unmapped_fields
from onboard_glue.write import MIN_FILE_BYTES, TARGET_FILE_BYTES, file_count
from tests.glue.batch import INGEST_TIME, column, job_config

pytestmark = pytest.mark.slow

EVENT_COLUMNS = [column("id", "integer", nullable=False), column("at", "timestamp")]
TABLE = "processed/orders"


def run_on_s3(bucket, config, inputs, batch_id="b1", extra=()):
    argv = ["job.py", "--batch_id", batch_id, "--input", ",".join(inputs),
            "--output", bucket.uri(TABLE), "--quarantine", bucket.uri(f"quarantine/orders/{batch_id}"),
            "--manifest", bucket.uri(f"processed/_manifests/orders/{batch_id}.manifest"),
            "--summary", bucket.uri(f"processed/_manifests/orders/{batch_id}.summary.json"),
            "--ingest_time", INGEST_TIME, *extra]
    return run_job(config, argv)


def manifest_keys(bucket, batch_id="b1"):
    document = json.loads(bucket.path(f"processed/_manifests/orders/{batch_id}.manifest").read_text())
    prefix = bucket.uri("")
    return [entry["url"].removeprefix(prefix) for entry in document["entries"]]


def csv_rows(count, start=0):
    return ("id,at\n" + "".join(f"{i},2024-11-0{1 + i % 2}\n" for i in range(start, start + count))).encode()


@contextmanager
def spark_jobs(spark):
    """Count the Spark jobs run inside the block (``found[0]`` afterwards)."""
    found = [0]
    group = f"count-{time.monotonic_ns()}"
    spark.sparkContext.setJobGroup(group, "counted")
    try:
        yield found
    finally:
        found[0] = len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def bytes_read(spark) -> int:
    """Bytes read through Hadoop's local filesystem so far (the fake bucket's storage), by every thread."""
    stats = spark._jvm.org.apache.hadoop.fs.FileSystem.getAllStatistics()
    return sum(int(s.getBytesRead()) for s in stats if s.getScheme() == "file")


# ------------------------------------------------------------------------------------------------ listing


def test_inputs_on_s3_are_listed_with_their_sizes_and_codecs(spark, s3_bucket):
    bucket = s3_bucket
    bucket.put("raw/orders/b1/part-000001.csv", b"id\n1\n")
    bucket.put("raw/orders/b1/part-000000.csv.gz", b"\x1f\x8b" + b"0" * 20)
    bucket.put("raw/orders/b1/_batch.json", b"{}")
    lake = LakeFS(spark)
    files = lake.expand_inputs([bucket.uri("raw/orders/b1/")])

    assert [(f.read_path, f.key, f.size, f.compressed) for f in files] == [
        (bucket.uri("raw/orders/b1/part-000000.csv.gz"), f"{bucket.name}/raw/orders/b1/part-000000.csv.gz", 22, True),
        (bucket.uri("raw/orders/b1/part-000001.csv"), f"{bucket.name}/raw/orders/b1/part-000001.csv", 5, False),
    ]
    assert not lake.is_local(bucket.uri("raw/orders/b1/"))
    assert lake.file_names(bucket.uri("raw/orders/b1")) == ["_batch.json", "part-000000.csv.gz", "part-000001.csv"]
    assert lake.file_names(bucket.uri("raw/absent")) == []
    with pytest.raises(FileNotFoundError, match="input not found: s3://"):
        lake.expand_inputs([bucket.uri("raw/orders/b2/")])


# ------------------------------------------------------------------------------------------------ publish


def test_a_batch_on_s3_publishes_exactly_its_files_and_no_staging(spark, s3_bucket):
    bucket = s3_bucket
    source = bucket.put("raw/orders/b1.csv", csv_rows(4))
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=["day"], partition_column="at")
    summary = run_on_s3(bucket, config, [source])

    assert summary["rows_loaded"] == 4
    published = [f"{TABLE}/onboard_day=01/part-00000-b1.c000.snappy.parquet", f"{TABLE}/onboard_day=02/part-00000-b1.c000.snappy.parquet"]
    assert manifest_keys(bucket) == published
    assert bucket.keys("processed/") == ["processed/_manifests/orders/b1.manifest",
                                         "processed/_manifests/orders/b1.summary.json", *published]


def test_a_resume_that_writes_fewer_files_leaves_none_of_the_first_attempts(spark, s3_bucket):
    bucket = s3_bucket
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[], files={"slices": 2, "rows_per_file": 3})
    other = run_on_s3(bucket, config, [bucket.put("raw/orders/b1.x.csv", csv_rows(2))], batch_id="b1.x")
    assert other["files"] == 1
    first = run_on_s3(bucket, config, [bucket.put("raw/orders/b1.csv", csv_rows(10))])
    assert first["files"] == 4  # ceil(10 / 3)

    resumed = run_on_s3(bucket, config, [bucket.put("raw/orders/b1.csv", csv_rows(4, start=100))])

    assert resumed["files"] == 2  # ceil(4 / 3): the first attempt's part-00002 and part-00003 must go too
    ours = [f"{TABLE}/part-0000{i}-b1.c000.snappy.parquet" for i in range(2)]
    assert manifest_keys(bucket) == ours
    assert bucket.keys(TABLE) == sorted([*ours, f"{TABLE}/part-00000-b1.x.c000.snappy.parquet"])  # another batch: kept
    ids = sorted(r[0] for r in spark.read.parquet(*[bucket.uri(k) for k in ours]).select("id").collect())
    assert ids == [100, 101, 102, 103]


def test_a_run_failing_mid_publish_sweeps_its_staging_and_published_files(spark, s3_bucket, monkeypatch):
    bucket = s3_bucket
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[], files={"slices": 1, "rows_per_file": 2})
    run_on_s3(bucket, config, [bucket.put("raw/orders/b0.csv", csv_rows(1))], batch_id="b0")
    moves = []
    real_move = LakeFS.move

    def move_then_fail(self, source, target):
        if len(moves) == 2:
            raise OSError("S3 is unavailable")  # the third file of the batch: two are already in the table
        moves.append(target)
        real_move(self, source, target)

    monkeypatch.setattr(LakeFS, "move", move_then_fail)
    with pytest.raises(OSError, match="S3 is unavailable"):
        run_on_s3(bucket, config, [bucket.put("raw/orders/b1.csv", csv_rows(5))])

    assert [m.removeprefix(bucket.uri("")) for m in moves] == [
        f"{TABLE}/part-00000-b1.c000.snappy.parquet", f"{TABLE}/part-00001-b1.c000.snappy.parquet"]
    # Nothing of b1 in the table, no staging left: only the earlier batch b0 and its manifest and summary.
    assert bucket.keys("processed/") == ["processed/_manifests/orders/b0.manifest",
                                         "processed/_manifests/orders/b0.summary.json",
                                         f"{TABLE}/part-00000-b0.c000.snappy.parquet"]


def test_staging_a_killed_run_left_is_swept_and_a_recent_one_kept(spark, s3_bucket):
    bucket = s3_bucket
    dead = bucket.put(f"{TABLE}/_staging/dead/_temporary/0/part-00000.parquet", b"x")
    bucket.put(f"{TABLE}/_staging/live/part-00000.parquet", b"y")
    three_days_ago = time.time() - 3 * 24 * 3600
    os.utime(bucket.path(dead.removeprefix(bucket.uri(""))), (three_days_ago, three_days_ago))
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[])
    run_on_s3(bucket, config, [bucket.put("raw/orders/b1.csv", csv_rows(2))])

    assert bucket.keys(f"{TABLE}/_staging") == [f"{TABLE}/_staging/live/part-00000.parquet"]


# ----------------------------------------------------------------------------------------- route choice


def test_on_s3_the_route_is_decided_from_object_sizes_without_reading_the_input(spark, s3_bucket, tmp_path):
    bucket = s3_bucket
    config = load_config(job_config({"type": "csv"}, EVENT_COLUMNS))
    lake = LakeFS(spark)
    small = csv_rows(200_000)  # 3.4 MB: above the 2 MB a million rows need at least; about 1.2 MB of Parquet
    large = csv_rows(400_000)  # 7.1 MB: about 2.5 MB of Parquet, two files or more
    local = tmp_path / "small.csv"
    local.write_bytes(small)
    cases = {
        "local, lines counted in Python": ([str(local)], True),
        "s3, small: the single pass re-checks": ([bucket.put("raw/orders/small.csv", small)], True),
        "s3, small gzip": ([bucket.put("raw/orders/small.csv.gz", _gzip(small))], True),
        "s3, several files by size": ([bucket.put("raw/orders/large.csv", large)], False),
    }
    for name, (uris, expected) in cases.items():
        files = lake.expand_inputs(uris)
        before = bytes_read(spark)
        with spark_jobs(spark) as jobs:
            assert fits_one_file(spark, lake, config.format, files, 1_000_000, 4) is expected, name
        assert jobs[0] == 0, name  # before: a spark.read.text(...).count() over the input on S3 or gzip
        if name.startswith("s3"):
            assert bytes_read(spark) == before, name


def test_a_wrong_guess_of_the_single_pass_falls_back_to_the_cached_route(spark, s3_bucket):
    # 3,000 records of 4 bytes with a cap of 1,000 rows a file: the sizes suggest one file, the rows say three.
    uri = s3_bucket.put("raw/orders/short.csv", csv_rows(0) + b"".join(b"%d,\n" % (i % 100) for i in range(3000)))
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[], files={"slices": 1, "rows_per_file": 1000})
    summary = run_on_s3(s3_bucket, config, [uri])
    assert (summary["rows_loaded"], summary["files"]) == (3000, 3)
    assert len(manifest_keys(s3_bucket)) == 3


def test_jsonl_fields_on_s3_are_inferred_from_a_bounded_sample(spark, s3_bucket):
    bucket = s3_bucket
    lines = [json.dumps({"id": i, "pad": "x" * 100, **({"rare": 1} if i % 1000 == 7 else {})}) for i in range(60_000)]
    text = ("\n".join(lines) + "\n").encode()  # 7.3 MB
    uri = bucket.put("raw/orders/b1.jsonl", text)
    config = load_config(job_config({"type": "jsonl"}, [column("id", "integer")]))
    lake = LakeFS(spark)
    files = lake.expand_inputs([uri])
    before = bytes_read(spark)
    with spark_jobs(spark) as jobs:
        found = unmapped_fields(spark, lake, config.format, config.columns, files)

    assert found == ["pad", "rare"]
    assert jobs[0] == 0  # before: Spark's samplingRatio, which reads and splits every line (one job)
    assert bytes_read(spark) - before <= 2 * (2 << 20)  # ~2 MB in 64 ranged reads, of 7.3 MB


def test_json_document_fields_on_s3_are_inferred_from_the_start_of_the_documents(spark, s3_bucket):
    bucket = s3_bucket
    records = [{"id": i, "pad": "x" * 100, **({"early": True} if i == 3 else {}), **({"late": 1} if i > 20_000 else {})}
               for i in range(25_000)]
    uri = bucket.put("raw/orders/b1.json", json.dumps(records).encode())  # 3.1 MB: "late" only past the sample
    config = load_config(job_config({"type": "json"}, [column("id", "integer")]))
    lake = LakeFS(spark)
    files = lake.expand_inputs([uri])
    before = bytes_read(spark)
    with spark_jobs(spark) as jobs:
        found = unmapped_fields(spark, lake, config.format, config.columns, files)

    assert found == ["early", "pad"]  # a field only past the first 2 MB is not reported (docs/contracts.md)
    assert jobs[0] == 0  # before: Spark inferred the schema over every document, a full read of the input
    assert bytes_read(spark) - before <= 2 << 20


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


# ----------------------------------------------------------------------------------------- file sizing


@pytest.mark.parametrize(("rows", "rows_per_file", "slices", "output_bytes", "expected"), [
    (0, 1_000_000, 4, 0, 0),
    (10, 1_000_000, 4, 100_000, 1),  # tiny: one file, not four of 25 KB
    (10, 3, 2, 1000, 4),  # the row cap still splits
    (50_000, 1_000_000, 4, 3 * MIN_FILE_BYTES, 3),  # 3 MB: three 1 MB files rather than four under 1 MB
    (500_000, 1_000_000, 4, 10 * MIN_FILE_BYTES, 4),  # 10 MB: one file per slice
    (900_000, 1_000_000, 16, 10 * MIN_FILE_BYTES, 10),
    (5_000_000, 1_000_000, 4, 5 * TARGET_FILE_BYTES, 8),  # 640 MB: five files of 128 MB, rounded up to 8 slices
    (3, 1_000_000, 4, 10 * MIN_FILE_BYTES, 3),  # never more files than rows
])
def test_files_are_sized_by_bytes_and_spread_over_the_slices(rows, rows_per_file, slices, output_bytes, expected):
    assert file_count(rows, rows_per_file, slices, output_bytes) == expected


def test_the_slices_job_argument_overrides_the_config(spark, s3_bucket):
    bucket = s3_bucket
    # 2,000 rows of 5 KB each, of which only id and at are loaded: 10 MB of CSV, an estimated 3.5 MB of Parquet.
    body = "id,at,note\n" + "".join(f"{i},2024-11-01,{'n' * 5000}\n" for i in range(2000))
    uri = bucket.put("raw/orders/wide.csv", body.encode())
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=[], files={"slices": 4, "rows_per_file": 1_000_000})
    assert run_on_s3(bucket, config, [uri], batch_id="four")["files"] == 3  # 3.5 MB: three files of >= 1 MB
    assert run_on_s3(bucket, config, [uri], batch_id="two", extra=["--slices", "2"])["files"] == 2
    with pytest.raises(ValueError, match="--slices '0' must be a whole number from 1 to 1024"):
        resolve_args(["--batch_id", "b", "--input", "i", "--output", "o", "--quarantine", "q", "--manifest", "m",
                      "--summary", "s", "--slices", "0"], default_job_name="x")


def test_folders_from_a_column_keep_the_single_pass_when_they_make_enough_files(spark, s3_bucket):
    bucket = s3_bucket
    # 10 MB of CSV, about 3.5 MB of Parquet by estimate (three files wanted), over five days: the single pass
    # writes one file per day, five files of about 0.1 MB each, which the sizing accepts.
    body = "id,at,note\n" + "".join(f"{i},2024-11-0{1 + i % 5},{'n' * 5000}\n" for i in range(2000))
    uri = bucket.put("raw/orders/days.csv", body.encode())
    config = job_config({"type": "csv"}, EVENT_COLUMNS, partition_by=["day"], partition_column="at")
    with spark_jobs(spark) as jobs:
        summary = run_on_s3(bucket, config, [uri])
    assert summary["files"] == 5
    assert manifest_keys(bucket) == [f"{TABLE}/onboard_day=0{d}/part-00000-b1.c000.snappy.parquet" for d in range(1, 6)]
    assert jobs[0] <= 2  # the write (the cached route would add a count, a range sample and a second write)


# ----------------------------------------------------------------------------------------------- xlsx


def test_an_xlsx_workbook_over_the_limit_fails_naming_its_size_and_the_limit(spark, s3_bucket):
    bucket = s3_bucket
    path = bucket.path("raw/orders/big.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate((64 << 20) + 1)  # sparse: no disk used
    config = job_config({"type": "xlsx"}, EVENT_COLUMNS, partition_by=[])
    with pytest.raises(ValueError) as info:
        run_on_s3(bucket, config, [bucket.uri("raw/orders/big.xlsx")])
    assert str(info.value) == (
        f"xlsx: {bucket.uri('raw/orders/big.xlsx')} is 67108865 bytes (64.0 MB); workbooks are read whole on the "
        "driver, up to 67108864 bytes (64 MB): split the workbook or send it as CSV")
