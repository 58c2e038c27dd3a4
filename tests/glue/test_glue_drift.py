"""Raw data drift: fields no column maps are ignored but reported, missing optional fields are null, values
that do not cast are quarantined; after ADD COLUMN the Parquet follows the table's physical order."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from tests.glue.batch import column, job_config, parquet_columns, run_batch, write

pytestmark = pytest.mark.slow

INGESTED = datetime(2024, 11, 16, 10, 30, tzinfo=UTC)


def test_csv_drift_and_output_in_the_tables_physical_order(spark, tmp_path):
    # A new upstream column (coupon, Channel) arrived; the optional note column stopped coming.
    source = write(tmp_path / "in" / "orders.csv",
                   "id,coupon,amount,Channel\n1,SAVE10,12.50,web\n2,,x,shop\n3,SAVE5,7,web\n")
    columns = [column("id", "integer"), column("amount", "decimal", precision=10, scale=2), column("note")]
    config = job_config({"type": "csv", "allow_missing_columns": True}, columns, partition_by=[],
                        output_columns=["id", "amount", "_batch_id", "_ingested_at", "note"])
    batch = run_batch(tmp_path / "lake", config, [source])

    assert batch.summary["unmapped_fields"] == ["channel", "coupon"]
    assert (batch.summary["rows_loaded"], batch.summary["quarantine_reasons"]) == (2, {"cast": 1})
    [file] = batch.files()
    assert [name for name, _, _ in parquet_columns(file)] == ["id", "amount", "_batch_id", "_ingested_at", "note"]
    assert [(r[0], str(r[1]), r[4]) for r in batch.rows("id")] == [(1, "12.50", None), (3, "7.00", None)]
    assert batch.quarantine()[0]["_reason"].startswith("cast: amount")


def test_json_documents_report_unmapped_keys_at_records_path(spark, tmp_path):
    source = write(tmp_path / "in" / "export.json",
                   '{"exported_at": "x", "data": [{"id": 1, "name": "Ann", "vip": true}, {"id": 2, "extra": {"k": 1}}]}')
    config = job_config({"type": "json", "records_path": "data"},
                        [column("id", "integer"), column("name")], partition_by=[])
    batch = run_batch(tmp_path / "lake", config, [source])
    assert batch.summary["unmapped_fields"] == ["extra", "vip"]
    assert [r[:2] for r in batch.rows("id")] == [(1, "Ann"), (2, None)]


@pytest.mark.parametrize("compressed", [False, True], ids=["read-directly", "gzip-spark-samples"])
def test_large_jsonl_input_reports_unmapped_keys_from_a_uniform_sample(spark, tmp_path, monkeypatch, compressed):
    import onboard_glue.read

    # 4,000 records, every 2nd carries `channel`; a sample of ~1/20 of the bytes still sees it.
    lines = [f'{{"id": {i}, "channel": "web"}}' if i % 2 else f'{{"id": {i}}}' for i in range(4000)]
    text = "\n".join(lines) + "\n"
    monkeypatch.setattr(onboard_glue.read, "INFER_SAMPLE_BYTES", len(text) // 20)
    if compressed:
        source = tmp_path / "in" / "events.jsonl.gz"
        source.parent.mkdir()
        source.write_bytes(gzip.compress(text.encode()))
    else:
        source = write(tmp_path / "in" / "events.jsonl", text)
    batch = run_batch(tmp_path / "lake", job_config({"type": "jsonl"}, [column("id", "integer")], partition_by=[]),
                      [source])
    assert batch.summary["unmapped_fields"] == ["channel"]
    assert batch.summary["rows_loaded"] == 4000


def test_jsonl_fields_read_directly_are_the_fields_spark_infers(spark, tmp_path):
    from onboard_glue.config import load_config
    from onboard_glue.lake_fs import LakeFS
    from onboard_glue.read import unmapped_fields

    source = write(tmp_path / "in" / "events.jsonl",
                   '{"id": 1, "user": {"name": "Ann"}}\n\n[{"id": 2, "tags": ["a"]}, {"id": 3, "Score": 1.5}]\r\n'
                   '{"id": 4, "broken": \n"text"\n{"id": 5, "note": null}\n')
    config = load_config(job_config({"type": "jsonl"}, [column("id", "integer")], partition_by=[]))
    found = {}
    for route, lake in {"python": LakeFS(spark), "spark": LakeFS(spark, native_local=False)}.items():
        files = lake.expand_inputs([str(source)])
        found[route] = unmapped_fields(spark, lake, config.format, config.columns, files)
    assert found == {"python": ["Score", "note", "tags", "user"], "spark": ["Score", "note", "tags", "user"]}
