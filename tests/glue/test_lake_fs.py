"""LakeFS: the same answers through Python's calls (local files) and through Hadoop's FileSystem (S3 on Glue)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboard_glue.lake_fs import LakeFS, count_lines, local_path, sample_lines

pytestmark = pytest.mark.slow


def test_local_paths_are_recognised_by_scheme():
    assert local_path("file:///tmp/a%20b/c.parquet") == "/tmp/a b/c.parquet"
    assert local_path("file:/tmp/x") == "/tmp/x"
    assert local_path("s3://bucket/key") is None
    assert local_path("relative/dir") == str(Path("relative/dir").resolve())


@pytest.mark.parametrize("native_local", [True, False], ids=["python", "hadoop"])
def test_list_move_and_delete_agree_on_both_routes(spark, tmp_path, native_local):
    lake = LakeFS(spark, native_local=native_local)
    staging = tmp_path / "_staging" / "b1"
    for relative, body in {"year=2024/part-1.parquet": b"abc", "year=2025/part-0.parquet": b"de",
                           "year=2025/.part-0.parquet.crc": b"x", "_SUCCESS": b""}.items():
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / relative).write_bytes(body)

    listed = [(f.relative_path, f.length) for f in lake.list_files(str(staging))]
    assert listed == [("year=2024/part-1.parquet", 3), ("year=2025/part-0.parquet", 2)]
    assert lake.list_files(str(tmp_path / "absent")) == []

    (tmp_path / "table/year=2025").mkdir(parents=True)
    (tmp_path / "table/year=2025/part-00000-b1.parquet").write_bytes(b"old")  # a re-run replaces its file
    lake.move(f"{staging}/year=2025/part-0.parquet", f"file://{tmp_path}/table/year=2025/part-00000-b1.parquet")
    lake.move(f"{staging}/year=2024/part-1.parquet", f"{tmp_path}/table/year=2024/part-00000-b1.parquet")
    assert (tmp_path / "table/year=2025/part-00000-b1.parquet").read_bytes() == b"de"
    assert (tmp_path / "table/year=2024/part-00000-b1.parquet").read_bytes() == b"abc"

    lake.delete(str(staging))
    assert not staging.exists()
    (tmp_path / "_staging" / "other").mkdir()
    lake.delete_if_empty(str(tmp_path / "_staging"))  # another batch's staging is inside: it stays
    assert (tmp_path / "_staging").is_dir()
    lake.delete(str(tmp_path / "_staging" / "other"))
    lake.delete_if_empty(str(tmp_path / "_staging"))
    assert not (tmp_path / "_staging").exists()
    lake.delete(str(tmp_path / "absent"))  # absent is fine


@pytest.mark.parametrize("text", [b"", b"a\n", b"a\nb", b"a\r\nb\r\n", b"a\rb\rc", b"\n\n\r\n\r", b"x\r\n" * 7],
                         ids=["empty", "lf", "no-final-break", "crlf", "lone-cr", "blank-lines", "crlf-across-chunks"])
def test_local_line_counts_match_sparks_text_source(spark, tmp_path, text):
    path = tmp_path / "in.txt"
    path.write_bytes(text)
    expected = spark.read.text(str(path)).count()
    assert count_lines(str(path)) == expected
    assert count_lines(str(path), chunk_bytes=2) == expected  # every CRLF split between two reads
    lake = LakeFS(spark)
    [file] = lake.expand_inputs([str(path)])
    assert lake.count_local_lines([file]) == expected
    assert LakeFS(spark, native_local=False).count_local_lines([file]) is None  # not local: Spark counts


def test_sampled_lines_are_the_whole_lines_inside_each_window():
    text = b"aaaa\nbb\ncccccc\r\ndd\neeee\nf"

    def windows(count: int, size: int) -> list[bytes]:
        return sample_lines(lambda offset, length: text[offset : offset + length], len(text), count, size)

    # 25 bytes; 3 windows of 8 at 0, 8, 16: "aaaa\nbb" | "cccccc\r\n" | "dd\neeee\n", all whole lines.
    assert windows(3, 8) == [b"aaaa", b"bb", b"cccccc", b"dd", b"eeee"]
    # Of 6 bytes: "aaaa\nb" | "cccccc" | "dd\neee": lines cut by a window's end (or with no break in it) are left out.
    assert windows(3, 6) == [b"aaaa", b"dd"]
    # 5 windows of 4 at 0, 5, 10, 15, 20: "aaaa" (its break is outside) | "bb\nc" | "cccc" | "\ndd\n" (after the
    # CR of a split CRLF: an empty line) | "eee\n" (cut by its start).
    assert windows(5, 4) == [b"bb", b"", b"dd"]
    assert windows(1, 100) == [b"aaaa", b"bb", b"cccccc", b"dd", b"eeee", b"f"]


def test_small_inputs_are_sampled_whole_and_large_ones_in_windows_on_both_routes(spark, tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"id": 1}\n{"id": 2}\n')
    (tmp_path / "b.jsonl").write_bytes(b'{"id": 3}\r\n')
    lake = LakeFS(spark)
    files = lake.expand_inputs([str(tmp_path)])
    hadoop = LakeFS(spark, native_local=False)  # S3's route: ranged reads through Hadoop
    for route in (lake, hadoop):
        assert route.sample_input_lines(files, 1000, 4) == [b'{"id": 1}', b'{"id": 2}', b'{"id": 3}']
        # Over 20 bytes: one window of 10 bytes a file, which holds the first line of each.
        assert route.sample_input_lines(files, 20, 2) == [b'{"id": 1}', b'{"id": 3}']
