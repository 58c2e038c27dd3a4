"""The Glue job reads a column's source and records_path as the framework parsed them (framework/runtime/paths.py;
tests/glue/batch.py builds the config with the renderer's own `parsed_path`): a key named literally (dots and
all) wins, a quoted segment holds dots, nested keys, and a missing key is null. JSON lines, a JSON document and
Parquet agree."""

from __future__ import annotations

import pytest

from onboard_glue.job import QualityThresholdError
from tests.glue.batch import column, job_config, run_batch, write

pytestmark = pytest.mark.slow

COLUMNS = [
    column("id", "integer"),
    column("etag", source="@odata.etag"),  # the literal key, not @odata -> etag
    column("ref", source='manager."@odata.id"'),  # a quoted segment
    column("manager_id", source="manager.id"),  # nested
    column("deep", source="a.b.c"),  # absent in every record: null
]
RECORDS = [
    '{"id": 1, "@odata.etag": "W/1", "@odata": {"etag": "decoy"}, "manager": {"@odata.id": "m/1", "id": "m1"}}',
    '{"id": 2, "@odata": {"etag": "nested"}, "manager": null}',
    '{"id": 3, "@odata.etag": "W/3", "manager": {"@odata": {"id": "decoy"}, "id": "m3"}}',
]
EXPECTED = [(1, "W/1", "m/1", "m1", None), (2, "nested", None, None, None), (3, "W/3", None, "m3", None)]


def values(batch) -> list[tuple]:
    return [row[:5] for row in batch.rows("id")]


def test_jsonl_and_a_json_document_read_every_path_form(spark, tmp_path):
    lines = write(tmp_path / "in" / "users.jsonl", "\n".join(RECORDS) + "\n")
    batch = run_batch(tmp_path / "lake1", job_config({"type": "jsonl"}, COLUMNS, partition_by=[]), [lines])
    assert (batch.summary["rows_loaded"], values(batch)) == (3, EXPECTED)
    assert batch.summary["unmapped_fields"] == []  # `@odata` is the nested reading of `@odata.etag`

    document = write(tmp_path / "in" / "page.json",
                     '{"@odata.context": "x", "odata.value": {"decoy": []}, "odata": {"value": [' + ",".join(RECORDS)
                     + "]}}")
    config = job_config({"type": "json", "records_path": "odata.value"}, COLUMNS, partition_by=[])
    with pytest.raises(QualityThresholdError, match=r"^every row was quarantined \(3 rows: malformed 3; "):
        run_batch(tmp_path / "lake2", config, [document])  # the literal key is there: it wins (not a list of records)
    nested = write(tmp_path / "in" / "nested.json", '{"odata": {"value": [' + ",".join(RECORDS) + "]}}")
    batch = run_batch(tmp_path / "lake3", config, [nested])
    assert (batch.summary["rows_loaded"], values(batch)) == (3, EXPECTED)


def test_parquet_reads_every_path_form(spark, tmp_path):
    source = tmp_path / "in" / "users.parquet"
    source.parent.mkdir(parents=True)
    spark.read.json(spark.sparkContext.parallelize(RECORDS)).coalesce(1).write.parquet(str(tmp_path / "pq"))
    [part] = (tmp_path / "pq").glob("part-*.parquet")
    part.rename(source)
    batch = run_batch(tmp_path / "lake", job_config({"type": "parquet"}, COLUMNS, partition_by=[]), [source])
    # Parquet's schema holds both `@odata.etag` and `@odata`: the literal key wins for every row (row 2 has none)
    assert values(batch) == [(1, "W/1", "m/1", "m1", None), (2, None, None, None, None), (3, "W/3", None, "m3", None)]
