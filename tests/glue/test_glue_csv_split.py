"""CSV read line by line (splittable over every core) unless its head shows a quoted line break; a quoted line
break further down is caught (an open quote on a malformed line) and the CSV is read again whole."""

from __future__ import annotations

import pytest

from onboard_glue.config import FormatSpec, load_config
from onboard_glue.lake_fs import LakeFS
from onboard_glue.read import HEADER_PROBE_BYTES, _splittable, read_records
from onboard_glue.session import run_conf
from tests.glue.batch import column, job_config, run_batch, write

pytestmark = pytest.mark.slow

COLUMNS = [column("id", "integer", nullable=False), column("note"), column("n", "integer")]


@pytest.mark.parametrize(("head", "fmt", "width", "expected"), [
    ("id,note\n1,a\n", FormatSpec("csv"), 2, True),
    ('id,note\n1,"a, b"\n2,"say ""hi"""\n', FormatSpec("csv"), 2, True),  # quotes, but no quoted line break
    ('id,note\n1,"a\nb"\n', FormatSpec("csv"), 2, False),
    ('id,note\n1,"a\r\nb"\n', FormatSpec("csv"), 2, False),
    ('id,note\n1,"cut by the head\'s end', FormatSpec("csv"), 2, True),  # no line break inside the head
    ('id,note\n1,"cut by the head\'s\nend', FormatSpec("csv"), 2, False),
    ('id,note\n1,"a\\"\nb"\n', FormatSpec("csv", escape="\\"), 2, False),  # an escaped quote does not close
    ("id\n1\n", FormatSpec("csv"), 1, False),  # one column: a cut record would look whole
    ("id;;note\n1;;a\n", FormatSpec("csv", delimiter=";;"), 2, False),
    ("id,note\n1,a\n", FormatSpec("csv", encoding="UTF-16"), 2, False),
    ("id,note\n1,\xe9\n", FormatSpec("csv", encoding="ISO-8859-1"), 2, True),
])
def test_a_csv_is_read_by_line_when_its_head_allows(head, fmt, width, expected):
    assert _splittable(head, fmt, width) is expected


def plain_rows(count: int) -> str:
    return "".join(f"{i},note {i},{i % 7}\n" for i in range(count))


def test_a_large_csv_is_read_in_splits_with_the_same_records(spark, s3_bucket):
    body = "id,note,n\n" + plain_rows(150_000)  # 3.2 MB
    uri = s3_bucket.put("raw/orders/big.csv", body.encode())
    config = load_config(job_config({"type": "csv"}, COLUMNS))
    lake = LakeFS(spark)
    files = lake.expand_inputs([uri])
    with run_conf(spark, {"spark.sql.files.maxPartitionBytes": str(1 << 20)}):
        by_line = read_records(spark, lake, config.format, config.columns, files)
        whole = read_records(spark, lake, config.format, config.columns, files, csv_by_line=False)
        assert (by_line.rdd.getNumPartitions(), whole.rdd.getNumPartitions()) == (3, 1)  # 3.2 MB in splits of 1 MB, or one task
        columns = ["__v0", "__v1", "__v2", "__record", "__malformed"]
        assert sorted(by_line.select(columns).collect()) == sorted(whole.select(columns).collect())


@pytest.mark.parametrize("rows_per_file", [1_000_000, 1000], ids=["single-pass", "cached"])
def test_a_quoted_line_break_past_the_head_is_read_whole_and_nothing_is_cut(spark, tmp_path, rows_per_file):
    plain = plain_rows(60_000)
    assert len(plain) > HEADER_PROBE_BYTES  # the head shows no quote at all
    body = "id,note,n\n" + plain + '70000,"two\nlines",1\n70001,last,"3\n"\n70002,"a\r\nb, c",2\n'
    source = write(tmp_path / "in" / "late.csv", body)
    config = job_config({"type": "csv"}, COLUMNS, partition_by=[], files={"slices": 1, "rows_per_file": rows_per_file})
    batch = run_batch(tmp_path / "lake", config, [source])

    assert batch.summary["rows_in"] == 60_003
    assert batch.summary["rows_quarantined"] == 0
    assert batch.summary["rows_loaded"] == 60_003
    rows = batch.rows("id")  # as a whole read gives them (a CRLF inside quotes of an LF file stays)
    assert [row[:3] for row in rows[-4:]] == [
        (59_999, "note 59999", 59_999 % 7), (70000, "two\nlines", 1), (70001, "last", 3), (70002, "a\r\nb, c", 2)]
