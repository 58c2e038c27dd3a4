"""Source formats on real Spark: a column's datetime `format` (pattern, epoch seconds, epoch millis), null and
boolean tokens, the decimal comma; a header without a declared column; and a batch that loads nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from onboard_glue.header import MissingColumnsError
from onboard_glue.job import QualityThresholdError
from tests.glue.batch import Batch, column, job_config, run_batch, write

pytestmark = pytest.mark.slow

INGESTED = datetime(2024, 11, 16, 10, 30, tzinfo=UTC)
FORMATTED = [
    column("id", "integer", nullable=False),
    column("ordered", "date", format="MMM d yyyy"),
    column("shipped_at", "timestamp", format="dd/MM/yyyy HH:mm"),
    column("paid_at", "timestamptz", format="epoch_seconds"),
    column("paid_on", "date", format="epoch_seconds"),
    column("updated_ms", "timestamp", format="epoch_millis"),
]


def test_datetime_formats_read_patterns_and_epochs_and_quarantine_what_does_not_match(spark, tmp_path):
    source = write(tmp_path / "in" / "orders.csv",
                   "id,ordered,shipped_at,paid_at,paid_on,updated_ms\n"
                   "1,Jan 1 2000,01/02/2000 13:45,946684800,946684800,946684800123\n"
                   "2,Feb 29 2024, 31/12/2024 23:59 ,1700000000.5,-86400,1700000000000\n"
                   "3,Jan 32 2000,01/02/2000 13:45,946684800,946684800,946684800123\n"
                   "4,Jan 1 2000,2000-02-01 13:45,946684800,946684800,946684800123\n"
                   "5,Jan 1 2000,01/02/2000 13:45,1e9,946684800,946684800123\n"
                   "6,Jan 1 2000,01/02/2000 13:45,946684800,946684800,12.5\n"
                   "7,2000-01-01,01/02/2000 13:45,946684800,946684800,946684800123\n"
                   "8,,,,,\n")
    batch = run_batch(tmp_path / "lake", job_config({"type": "csv"}, FORMATTED, partition_by=[]), [source])

    assert batch.rows("id") == [
        (1, date(2000, 1, 1), datetime(2000, 2, 1, 13, 45, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC),
         date(2000, 1, 1), datetime(2000, 1, 1, 0, 0, 0, 123000, tzinfo=UTC), "b1", INGESTED),
        (2, date(2024, 2, 29), datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
         datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC), date(1969, 12, 31),
         datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), "b1", INGESTED),
        (8, None, None, None, None, None, "b1", INGESTED),
    ]
    assert [(r["id"], r["_reason"]) for r in sorted(batch.quarantine(), key=lambda r: r["id"])] == [
        ("3", "cast: ordered value 'Jan 32 2000' does not match format 'MMM d yyyy'"),
        ("4", "cast: shipped_at value '2000-02-01 13:45' does not match format 'dd/MM/yyyy HH:mm'"),
        ("5", "cast: paid_at value '1e9' does not match format 'epoch_seconds'"),
        ("6", "cast: updated_ms value '12.5' does not match format 'epoch_millis'"),
        ("7", "cast: ordered value '2000-01-01' does not match format 'MMM d yyyy'"),
    ]
    assert batch.summary["quarantine_reasons"] == {"cast": 5}
    assert batch.summary["quarantine_examples"] == {
        "cast": "cast: ordered value '2000-01-01' does not match format 'MMM d yyyy'"}


EUROPEAN = [
    column("id", "integer", nullable=False),
    column("name"),
    column("active", "boolean"),
    column("amount", "decimal", precision=10, scale=2),
    column("ratio", "double"),
    column("qty", "integer"),
]
EUROPEAN_FORMAT = {"type": "csv", "delimiter": ";", "decimal_separator": ",", "null_values": ["NA", "N/A", "-"],
                   "true_values": ["J", "ja"], "false_values": ["N", "nein"]}


def test_null_tokens_boolean_tokens_and_the_decimal_comma(spark, tmp_path):
    source = write(tmp_path / "in" / "export.csv",
                   "id;name;active;amount;ratio;qty\n"
                   "1;Zoë;J;1.234,56;0,5;1.000\n"
                   "2;NA;nein;-7,5;,25;12\n"
                   "3; - ;JA;12;3;N/A\n"
                   "4;NA;vielleicht;1,5;1;2\n"
                   "5;y;N;12,345.67;1;2\n"
                   "6;z;N;1.5;1;2\n"
                   "7;z;true;1;1;2\n"
                   "10;z;yes;1;1;2\n"
                   "8;-;N;1;1e3;2\n"
                   "9;w;N;1.23;1;2\n")
    batch = run_batch(tmp_path / "lake", job_config(EUROPEAN_FORMAT, EUROPEAN, partition_by=[]), [source])

    assert batch.rows("id") == [
        (1, "Zoë", True, Decimal("1234.56"), 0.5, 1000, "b1", INGESTED),
        (2, None, False, Decimal("-7.50"), 0.25, 12, "b1", INGESTED),
        (3, None, True, Decimal("12.00"), 3.0, None, "b1", INGESTED),
        (7, "z", True, Decimal("1.00"), 1.0, 2, "b1", INGESTED),  # true and false always read
    ]
    # The quarantine keeps the text as it came ("NA", not null).
    assert [(r["id"], r["name"], r["_reason"]) for r in sorted(batch.quarantine(), key=lambda r: int(r["id"]))] == [
        ("4", "NA", "cast: active value 'vielleicht' is not boolean"),
        ("5", "y", "cast: amount value '12,345.67' is not decimal(10,2)"),
        ("6", "z", "cast: amount value '1.5' is not decimal(10,2)"),
        ("8", "-", "cast: ratio value '1e3' is not double"),
        ("9", "w", "cast: amount value '1.23' is not decimal(10,2)"),
        ("10", "z", "cast: active value 'yes' is not boolean"),  # Spark's other words are replaced
    ]


def test_a_null_token_in_a_required_column_is_a_missing_value(spark, tmp_path):
    source = write(tmp_path / "in" / "export.csv", "id;name;active;amount;ratio;qty\nNA;a;J;1;1;1\n2;b;J;1;1;1\n")
    batch = run_batch(tmp_path / "lake", job_config(EUROPEAN_FORMAT, EUROPEAN, partition_by=[]), [source])
    assert [(r["id"], r["_reason"]) for r in batch.quarantine()] == [("NA", "not_null: id")]
    assert [row[0] for row in batch.rows("id")] == [2]


def test_a_header_without_a_declared_column_fails_the_batch_naming_it(spark, tmp_path):
    source = write(tmp_path / "in" / "orders.csv", "ID,Amount,OrderDate\n1,2.5,2024-01-01\n")
    columns = [column("id", "integer"), column("amount", "double"), column("order_date", "date"),
               column("placed", "date", source="Placed On")]
    with pytest.raises(MissingColumnsError) as raised:
        run_batch(tmp_path / "lake", job_config({"type": "csv"}, columns, partition_by=[]), [source])
    assert str(raised.value) == (
        "orders.csv: the header has no column order_date, placed (source 'Placed On'); found: id, amount, "
        "orderdate. Map the column to a header name (schema.mapping), or set schema.allow_missing_columns: true "
        "to load it as null")

    allowed = job_config({"type": "csv", "allow_missing_columns": True}, columns, partition_by=[])
    batch = run_batch(tmp_path / "lake2", allowed, [source])
    assert batch.rows("id") == [(1, 2.5, None, None, "b1", INGESTED)]
    assert batch.summary["unmapped_fields"] == ["orderdate"]


def test_allow_missing_columns_needs_nullable_columns(spark, tmp_path):
    source = write(tmp_path / "in" / "orders.csv", "id\n1\n")
    config = job_config({"type": "csv", "allow_missing_columns": True}, [column("id", "integer", nullable=False)])
    with pytest.raises(ValueError, match="columns.id: allow_missing_columns needs nullable columns"):
        run_batch(tmp_path / "lake", config, [source])


def test_without_a_threshold_a_batch_that_loads_nothing_fails(spark, tmp_path):
    source = write(tmp_path / "in" / "orders.csv", "id,ordered\n1,01/01/2000\n2,Jan 1 2000\n3,\n")
    columns = [column("id", "integer"), column("ordered", "date", nullable=False)]
    lake = tmp_path / "lake"
    with pytest.raises(QualityThresholdError) as raised:
        run_batch(lake, job_config({"type": "csv"}, columns, partition_by=[]), [source])
    assert str(raised.value) == (
        "every row was quarantined (3 rows: cast 2, not_null 1; e.g. cast: ordered value '01/01/2000' is not date): "
        "nothing was loaded. Fix the column types or formats, or set quality.threshold: 0 to accept a batch that "
        "loads nothing, in the source definition")
    written = Batch(lake=lake, batch_id="b1", summary={})
    assert written.written_summary() == {
        "batch_id": "b1", "rows_in": 3, "rows_loaded": 0, "rows_quarantined": 3, "rows_duplicate": 0,
        "rows_not_loaded": 0, "files": 0, "quarantine_reasons": {"cast": 2, "not_null": 1},
        "quarantine_examples": {"cast": "cast: ordered value '01/01/2000' is not date",
                                "not_null": "not_null: ordered"}}
    assert written.manifest() == {"entries": []}
    assert len(written.quarantine()) == 3
    assert not written.output.exists() or not list(written.output.rglob("*.parquet"))


def test_a_threshold_of_zero_accepts_a_batch_that_loads_nothing(spark, tmp_path):
    source = write(tmp_path / "in" / "orders.csv", "id,ordered\n1,Jan 1 2000\n2,x\n")
    columns = [column("id", "integer"), column("ordered", "date")]
    config = job_config({"type": "csv"}, columns, partition_by=[], quality={"threshold": 0, "rules": []})
    batch = run_batch(tmp_path / "lake", config, [source])
    assert (batch.summary["rows_in"], batch.summary["rows_loaded"], batch.summary["rows_quarantined"]) == (2, 0, 2)
    assert batch.summary["quarantine_examples"] == {"cast": "cast: ordered value 'Jan 1 2000' is not date"}
    assert batch.summary["quality"] == {"score": 0.0, "threshold": 0.0, "passed": True, "rules": {}}
    assert batch.manifest() == {"entries": []}


def test_json_text_values_take_the_same_tokens(spark, tmp_path):
    source = write(tmp_path / "in" / "export.jsonl",
                   '{"id": 1, "name": "N/A", "active": "ja", "amount": 5}\n'
                   '{"id": 2, "name": "Bo", "active": false, "amount": "NA"}\n'
                   '{"id": 3, "name": "Cy", "active": "nope", "amount": 1}\n')
    fmt = {"type": "jsonl", "null_values": ["NA", "N/A"], "true_values": ["ja"], "false_values": ["nein"]}
    columns = [column("id", "integer"), column("name"), column("active", "boolean"), column("amount", "double")]
    batch = run_batch(tmp_path / "lake", job_config(fmt, columns, partition_by=[]), [source])
    assert batch.rows("id") == [(1, None, True, 5.0, "b1", INGESTED), (2, "Bo", False, None, "b1", INGESTED)]
    assert [(r["id"], r["_reason"]) for r in batch.quarantine()] == [("3", "cast: active value 'nope' is not boolean")]


def test_quality_rules_without_a_threshold_fail_only_a_batch_that_loads_nothing(spark, tmp_path):
    columns = [column("id", "integer"), column("region")]
    rules = [{"id": "region_known", "rule": "accepted_values", "column": "region", "values": ["EU"]},
             {"id": "region_short", "rule": "max_length", "column": "region", "length": 2, "severity": "warn"}]
    config = job_config({"type": "csv"}, columns, partition_by=[], quality={"threshold": None, "rules": rules})
    some = write(tmp_path / "in" / "some.csv", "id,region\n1,EU\n2,MARS\n")
    batch = run_batch(tmp_path / "lake", config, [some])
    assert (batch.summary["rows_loaded"], batch.summary["quality"]["passed"]) == (1, True)
    assert batch.summary["warnings"] == {"region_short": 1}  # MARS, rejected by region_known as well

    none = write(tmp_path / "in" / "none.csv", "id,region\n1,MARS\n2,USA\n")
    with pytest.raises(QualityThresholdError) as raised:
        run_batch(tmp_path / "lake", config, [none], batch_id="b2")
    assert str(raised.value) == (
        "every row was quarantined (2 rows: quality 2; e.g. quality: region_known): nothing was loaded. Fix the "
        "column types or formats, or set quality.threshold: 0 to accept a batch that loads nothing, in the source "
        "definition")
    written = Batch(lake=tmp_path / "lake", batch_id="b2", summary={}).written_summary()
    assert written["quality"] == {"score": 0.0, "threshold": None, "passed": False, "rules": {
        "region_known": {"severity": "reject", "broken": 2}, "region_short": {"severity": "warn", "broken": 2}}}
    assert written["warnings"] == {"region_short": 2}
