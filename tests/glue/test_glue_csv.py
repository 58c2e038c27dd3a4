"""CSV input: header matching, dialect options, malformed records, casts and checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.glue.batch import column, job_config, parquet_columns, parquet_files_on_disk, run_batch, write

pytestmark = pytest.mark.slow

INGESTED = datetime(2024, 11, 16, 10, 30, tzinfo=UTC)

ORDER_COLUMNS = [
    column("order_id", nullable=False, max_length=8),
    column("amount", "decimal", precision=10, scale=2),
    column("quantity", "integer"),
    column("ordered_on", "date"),
    column("note"),
]


def test_malformed_and_invalid_rows_are_quarantined_and_counts_reconcile(spark, tmp_path):
    source = write(
        tmp_path / "in" / "orders.csv",
        "order_id,amount,quantity,ordered_on,note\n"
        "o1,10.50,2,2024-11-01,first\n"
        "o2,abc,1,2024-11-01,bad amount\n"
        "o3,7,1\n"
        "o4,1.00,1,2024-11-02,x,extra\n"
        ",5.00,1,2024-11-02,no id\n"
        "o123456789,1.00,1,2024-11-02,id too long\n"
        "ééééé,1.00,1,2024-11-02,five chars but ten bytes\n"
        "o5,2.5,,2024-11-03,\n"
        'o6,3.999,4,2024-11-03,"quoted, with comma"\n'
        "o7,1,2.5,2024-11-03,not an integer\n"
        "o8,1,1,2024-13-01,no such month\n",
    )
    config = job_config({"type": "csv"}, ORDER_COLUMNS, partition_column="ordered_on")

    batch = run_batch(tmp_path / "lake", config, [source])

    expected_summary = {
        "batch_id": "b1",
        "rows_in": 11,
        "rows_loaded": 3,
        "rows_quarantined": 8,
        "rows_duplicate": 0,
        "files": 2,
        "quarantine_reasons": {"cast": 3, "malformed": 2, "max_length": 2, "not_null": 1},
        "quarantine_examples": {"cast": "cast: amount value 'abc' is not decimal(10,2)",
                                "malformed": "malformed: CSV record has 3 fields, expected 5",
                                "max_length": "max_length: order_id exceeds 8 bytes", "not_null": "not_null: order_id"},
        "unmapped_fields": [],
    }
    assert batch.summary == expected_summary
    assert batch.written_summary() == expected_summary
    assert batch.rows("order_id") == [
        ("o1", Decimal("10.50"), 2, date(2024, 11, 1), "first", "b1", INGESTED),
        ("o5", Decimal("2.50"), None, date(2024, 11, 3), None, "b1", INGESTED),
        ("o6", Decimal("4.00"), 4, date(2024, 11, 3), "quoted, with comma", "b1", INGESTED),
    ]

    def rejected(values, record, reason):
        names = ["order_id", "amount", "quantity", "ordered_on", "note"]
        return {**dict(zip(names, values, strict=True)), "_record": record, "_reason": reason, "_batch_id": "b1"}

    assert batch.quarantine() == [
        rejected(["o2", "abc", "1", "2024-11-01", "bad amount"], None,
                 "cast: amount value 'abc' is not decimal(10,2)"),
        rejected(["o3", "7", "1", None, None], "o3,7,1", "malformed: CSV record has 3 fields, expected 5"),
        rejected(["o4", "1.00", "1", "2024-11-02", "x"], "o4,1.00,1,2024-11-02,x,extra",
                 "malformed: CSV record has 6 fields, expected 5"),
        rejected([None, "5.00", "1", "2024-11-02", "no id"], None, "not_null: order_id"),
        rejected(["o123456789", "1.00", "1", "2024-11-02", "id too long"], None,
                 "max_length: order_id exceeds 8 bytes"),
        rejected(["ééééé", "1.00", "1", "2024-11-02", "five chars but ten bytes"], None,
                 "max_length: order_id exceeds 8 bytes"),
        rejected(["o7", "1", "2.5", "2024-11-03", "not an integer"], None,
                 "cast: quantity value '2.5' is not integer"),
        rejected(["o8", "1", "1", "2024-13-01", "no such month"], None,
                 "cast: ordered_on value '2024-13-01' is not date"),
    ]
    # The manifest lists exactly the Parquet files on disk, with their sizes.
    on_disk = parquet_files_on_disk(batch.output)
    assert [p.relative_to(batch.output).as_posix() for p in on_disk] == [
        "onboard_year=2024/onboard_month=11/onboard_day=01/part-00000-b1.c000.snappy.parquet",
        "onboard_year=2024/onboard_month=11/onboard_day=03/part-00000-b1.c000.snappy.parquet",
    ]
    assert batch.manifest() == {
        "entries": [
            {"url": str(p), "mandatory": True, "meta": {"content_length": p.stat().st_size}} for p in on_disk
        ]
    }
    # Files hold exactly the table's columns in DDL order; partition columns are directories only.
    for path in on_disk:
        assert parquet_columns(path) == [
            ("order_id", "BYTE_ARRAY", "UTF8"),
            ("amount", "INT64", "DECIMAL"),
            ("quantity", "INT32", None),
            ("ordered_on", "INT32", "DATE"),
            ("note", "BYTE_ARRAY", "UTF8"),
            ("_batch_id", "BYTE_ARRAY", "UTF8"),
            ("_ingested_at", "INT64", "TIMESTAMP_MICROS"),
        ]


def test_bom_crlf_quoted_newlines_and_header_names_in_any_case_and_order(spark, tmp_path):
    source = write(
        tmp_path / "in" / "orders.csv",
        "\ufeffNOTE,Order_Id,Unused,AMOUNT\r\n"
        '"line one\r\nline two",o1,zzz,1.5\r\n'
        '"say ""hi""",o2,,2\r\n'
        "plain,o3,z,3\r\n",
    )
    columns = [
        column("order_id"),
        column("amount", "decimal", precision=10, scale=2),
        column("note"),
        column("coupon"),  # not in this file's header: an optional column left null
    ]
    fmt = {"type": "csv", "allow_missing_columns": True}
    batch = run_batch(tmp_path / "lake", job_config(fmt, columns, partition_by=[]), [source])

    assert batch.summary["rows_in"] == 3
    assert batch.summary["rows_quarantined"] == 0
    # The CRLF inside the quoted value is normalised to LF by the CSV parser; no CR is left anywhere.
    assert batch.rows("order_id") == [
        ("o1", Decimal("1.50"), "line one\nline two", None, "b1", INGESTED),
        ("o2", Decimal("2.00"), 'say "hi"', None, "b1", INGESTED),
        ("o3", Decimal("3.00"), "plain", None, "b1", INGESTED),
    ]
    assert [p.relative_to(batch.output).as_posix() for p in parquet_files_on_disk(batch.output)] == [
        "part-00000-b1.c000.snappy.parquet"
    ]


def test_without_header_fields_are_taken_in_declared_order_with_the_configured_dialect(spark, tmp_path):
    source = write(
        tmp_path / "in" / "people.csv",
        "1;Zoë;2024-11-01T08:00:00+01:00\n"
        "2;Åsa\n"
        '3;"Le \\"Chef\\"";2024-11-02 23:30:00\n'
        '4;"a;b";2024-11-03;extra\n'
        "5;Ève;10:00\n",
        encoding="iso-8859-1",
    )
    columns = [column("id", "integer", nullable=False), column("name"), column("seen_at", "timestamp")]
    fmt = {"type": "csv", "header": False, "delimiter": ";", "escape": "\\", "encoding": "ISO-8859-1"}
    batch = run_batch(tmp_path / "lake", job_config(fmt, columns, partition_by=["year", "month"]), [source])

    assert batch.summary == {
        "batch_id": "b1",
        "rows_in": 5,
        "rows_loaded": 2,
        "rows_quarantined": 3,
        "rows_duplicate": 0,
        "files": 1,
        "quarantine_reasons": {"cast": 1, "malformed": 2},
        "quarantine_examples": {"cast": "cast: seen_at value '10:00' is not timestamp",
                                "malformed": "malformed: CSV record has 2 fields, expected 3"},
        "unmapped_fields": [],
    }
    assert batch.rows("id") == [
        (1, "Zoë", datetime(2024, 11, 1, 7, 0, tzinfo=UTC), "b1", INGESTED),
        (3, 'Le "Chef"', datetime(2024, 11, 2, 23, 30, tzinfo=UTC), "b1", INGESTED),
    ]
    assert [(q["id"], q["_record"], q["_reason"]) for q in batch.quarantine()] == [
        ("2", "2;Åsa", "malformed: CSV record has 2 fields, expected 3"),
        ("4", '4;"a;b";2024-11-03;extra', "malformed: CSV record has 4 fields, expected 3"),
        ("5", None, "cast: seen_at value '10:00' is not timestamp"),
    ]
    # Partitions from the ingest time when no partition column is configured.
    assert [p.relative_to(batch.output).parent.as_posix() for p in parquet_files_on_disk(batch.output)] == [
        "onboard_year=2024/onboard_month=11"
    ]


def test_files_with_different_header_orders_map_by_name(spark, tmp_path):
    first = write(tmp_path / "in" / "a.csv", "order_id,amount\no1,1\no2,2\n")
    second = write(tmp_path / "in" / "b.csv", "amount,extra,order_id\n3,x,o3\n")
    columns = [column("order_id"), column("amount", "integer")]
    batch = run_batch(tmp_path / "lake", job_config({"type": "csv"}, columns, partition_by=[]), [first, second])

    assert batch.rows("order_id") == [("o1", 1, "b1", INGESTED), ("o2", 2, "b1", INGESTED), ("o3", 3, "b1", INGESTED)]
    assert batch.summary["rows_in"] == 3
