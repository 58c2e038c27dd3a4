"""The generated Redshift SQL, run for real on the embedded DuckDB warehouse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from framework.warehouse import (
    DuckDBWarehouse,
    TableSpec,
    WarehouseError,
    as_script,
    ddl_statements,
    load_statements,
)

CONTENTS = "SELECT order_id, amount, payload::VARCHAR, placed_at, _batch_id FROM sales.orders ORDER BY order_id"


def order_rows(batch: str, *rows: tuple[str, str, str | None, str]) -> str:
    """DuckDB SQL for ``(order_id, amount, payload, placed_at)`` rows plus the lineage columns."""
    values = ", ".join(
        f"('{order_id}', CAST({amount} AS DECIMAL(12,2)), {'NULL' if payload is None else repr(payload)}, "
        f"TIMESTAMP '{placed_at}', '{batch}', TIMESTAMP '2024-11-16 10:00:00')"
        for order_id, amount, payload, placed_at in rows
    )
    columns = "order_id, amount, payload, placed_at, _batch_id, _ingested_at"
    return f"SELECT * FROM (VALUES {values}) AS v({columns})"  # noqa: S608 - test data from literals


def rows_of(rows_sql: str, where: str = "", *, star: str = "", extra_columns: str = "") -> str:
    """A query over ``rows_sql``: filtered, with columns replaced (``star``) or appended."""
    return f"SELECT *{star}{extra_columns} FROM ({rows_sql}) {where}"  # noqa: S608 - test data from literals


BATCH_1 = order_rows(
    "b1",
    ("a", "10.50", '{"items": 1}', "2024-11-15 08:00:00"),
    ("b", "20.00", None, "2024-11-15 09:00:00"),
)
BATCH_2 = order_rows(
    "b2",
    ("b", "21.00", '{"items": 2}', "2024-11-16 09:30:00"),
    ("c", "5.25", None, "2024-11-16 09:45:00"),
)
ROW_A1 = ("a", Decimal("10.50"), '{"items": 1}', datetime(2024, 11, 15, 8), "b1")
ROW_B1 = ("b", Decimal("20.00"), None, datetime(2024, 11, 15, 9), "b1")
ROW_B2 = ("b", Decimal("21.00"), '{"items": 2}', datetime(2024, 11, 16, 9, 30), "b2")
ROW_C2 = ("c", Decimal("5.25"), None, datetime(2024, 11, 16, 9, 45), "b2")


@pytest.fixture
def batches(write_parquet: Callable[[str, str], Path], write_manifest: Callable[..., Path]) -> dict[str, Path]:
    """Manifests of two batches; batch 2 is split over two files."""
    b1 = write_parquet("orders/b1/part-0.parquet", BATCH_1)
    b2 = [
        write_parquet(f"orders/b2/part-{n}.parquet", rows_of(BATCH_2, f"WHERE order_id = '{key}'"))
        for n, key in enumerate("bc")
    ]
    return {"b1": write_manifest("b1.manifest", [b1]), "b2": write_manifest("b2.manifest", b2)}


def load(warehouse: DuckDBWarehouse, table: TableSpec, manifest: Path) -> None:
    warehouse.execute_script(as_script(load_statements(table)), {"manifest_uri": str(manifest), "iam_role_arn": ""})


def contents(warehouse: DuckDBWarehouse) -> list[tuple]:
    return warehouse.query(CONTENTS)[1]


@pytest.fixture
def orders(warehouse: DuckDBWarehouse, orders_table: TableSpec) -> TableSpec:
    warehouse.execute_script(as_script(ddl_statements(orders_table)))
    return orders_table


def test_ddl_creates_the_table_with_lineage_columns_and_comments(warehouse: DuckDBWarehouse, orders: TableSpec) -> None:
    assert warehouse.table_columns("sales", "orders") == [
        ("order_id", "VARCHAR"),
        ("amount", "DECIMAL(12,2)"),
        ("payload", "JSON"),
        ("placed_at", "TIMESTAMP"),
        ("_batch_id", "VARCHAR"),
        ("_ingested_at", "TIMESTAMP"),
    ]
    assert warehouse.query(
        "SELECT column_name, is_nullable, comment FROM duckdb_columns() WHERE table_name = 'orders' "
        "ORDER BY column_index"
    )[1] == [
        ("order_id", False, "Order id from the shop's API"),
        ("amount", True, None),
        ("payload", True, "Raw order document"),
        ("placed_at", False, None),
        ("_batch_id", True, "Onboard batch that loaded this row"),
        ("_ingested_at", True, "When Onboard ingested the batch (UTC)"),
    ]
    assert warehouse.query("SELECT comment FROM duckdb_tables() WHERE table_name = 'orders'")[1] == [
        ("Orders, one row per order",)
    ]
    warehouse.execute_script(as_script(ddl_statements(orders)))  # idempotent
    assert len(warehouse.table_columns("sales", "orders")) == 6


def test_interleaved_and_diststyle_all_ddl_execute(warehouse: DuckDBWarehouse, airports_table: TableSpec) -> None:
    table = dataclasses.replace(airports_table, sortkey=("iata", "name"), sortstyle="interleaved")
    warehouse.execute_script(as_script(ddl_statements(table)))
    assert warehouse.table_columns("reference", "airports") == [
        ("iata", "VARCHAR"),
        ("name", "VARCHAR"),
        ("latitude", "DOUBLE"),
        ("_batch_id", "VARCHAR"),
        ("_ingested_at", "TIMESTAMP"),
    ]


def test_append_adds_every_batch(warehouse: DuckDBWarehouse, orders: TableSpec, batches: dict[str, Path]) -> None:
    append = dataclasses.replace(orders, load_mode="append")
    load(warehouse, append, batches["b1"])
    load(warehouse, append, batches["b2"])
    assert contents(warehouse) == [ROW_A1, ROW_B1, ROW_B2, ROW_C2]


def test_merge_replaces_matching_keys_and_is_idempotent(
    warehouse: DuckDBWarehouse, orders: TableSpec, batches: dict[str, Path]
) -> None:
    load(warehouse, orders, batches["b1"])
    assert contents(warehouse) == [ROW_A1, ROW_B1]
    load(warehouse, orders, batches["b2"])
    assert contents(warehouse) == [ROW_A1, ROW_B2, ROW_C2]
    load(warehouse, orders, batches["b2"])  # at-least-once delivery: the same batch again
    assert contents(warehouse) == [ROW_A1, ROW_B2, ROW_C2]
    assert warehouse.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'stage_orders'")[1] == [(0,)]


def test_replace_removes_old_rows(warehouse: DuckDBWarehouse, orders: TableSpec, batches: dict[str, Path]) -> None:
    replace = dataclasses.replace(orders, load_mode="replace")
    load(warehouse, replace, batches["b1"])
    assert contents(warehouse) == [ROW_A1, ROW_B1]
    load(warehouse, replace, batches["b2"])
    assert contents(warehouse) == [ROW_B2, ROW_C2]


@pytest.mark.parametrize(
    ("mode", "copy_target", "statement"), [("append", "sales.orders", 2), ("merge", "stage_orders", 3)]
)
def test_one_column_too_many_fails_like_redshift_and_changes_nothing(
    warehouse: DuckDBWarehouse,
    orders: TableSpec,
    batches: dict[str, Path],
    write_parquet: Callable[[str, str], Path],
    write_manifest: Callable[..., Path],
    mode: str,
    copy_target: str,
    statement: int,
) -> None:
    table = dataclasses.replace(orders, load_mode=mode)
    load(warehouse, table, batches["b1"])
    good = write_parquet("orders/b3/part-0.parquet", order_rows("b3", ("d", "1.00", None, "2024-11-17 00:00:00")))
    wide = write_parquet("orders/b3/part-1.parquet", rows_of(BATCH_2, extra_columns=", 'surplus' AS extra"))
    manifest = write_manifest("b3.manifest", [good, wide])

    with pytest.raises(WarehouseError) as raised:
        load(warehouse, table, manifest)

    assert raised.value.statement_number == statement
    assert raised.value.statement.startswith(f"COPY {copy_target} FROM '")
    assert raised.value.message == (
        f"COPY into {copy_target} failed: Unmatched number of columns between table and file. "
        f"Table columns: 6, Data columns: 7, File name: {wide}"
    )
    assert str(raised.value) == f"statement {statement} ({raised.value.statement}): {raised.value.message}"
    assert contents(warehouse) == [ROW_A1, ROW_B1]
    load(warehouse, table, batches["b2"])  # the connection is usable again, no transaction left open
    assert len(contents(warehouse)) == (4 if mode == "append" else 3)


def test_content_length_mismatch_fails(
    warehouse: DuckDBWarehouse,
    orders: TableSpec,
    write_parquet: Callable[[str, str], Path],
    write_manifest: Callable[..., Path],
) -> None:
    file = write_parquet("orders/b1/part-0.parquet", BATCH_1)
    manifest = write_manifest("b1.manifest", [file], content_length_delta=1)
    with pytest.raises(WarehouseError) as raised:
        load(warehouse, orders, manifest)
    size = file.stat().st_size
    assert raised.value.message == (
        f"COPY into stage_orders failed: file {file} has {size} bytes but the manifest says content_length {size + 1}"
    )
    assert contents(warehouse) == []


def test_not_null_violation_in_the_batch_rolls_back_the_merge(
    warehouse: DuckDBWarehouse,
    orders: TableSpec,
    batches: dict[str, Path],
    write_parquet: Callable[[str, str], Path],
    write_manifest: Callable[..., Path],
) -> None:
    load(warehouse, orders, batches["b1"])
    bad = write_parquet("orders/b4/part-0.parquet", rows_of(BATCH_2, star=" REPLACE (NULL::VARCHAR AS order_id)"))
    with pytest.raises(WarehouseError) as raised:
        load(warehouse, orders, write_manifest("b4.manifest", [bad]))
    assert raised.value.statement_number == 3
    assert "NOT NULL constraint failed" in raised.value.message
    assert contents(warehouse) == [ROW_A1, ROW_B1]


def test_a_syntax_error_anywhere_runs_nothing(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as raised:
        warehouse.execute_script("CREATE SCHEMA s;\nCREATE TABLE s.t (a INTEGER);\nSELEC 1;")
    assert raised.value.statement_number == 3
    assert raised.value.statement == "SELEC 1"
    assert warehouse.query("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 's'")[1] == [(0,)]


def test_a_script_without_commit_is_rolled_back(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError, match="ended inside a transaction without COMMIT"):
        warehouse.execute_script("BEGIN; CREATE SCHEMA s; CREATE TABLE s.t (a INTEGER)")
    assert warehouse.table_columns("s", "t") == []


def test_unsubstituted_placeholders_fail_clearly(warehouse: DuckDBWarehouse, orders: TableSpec) -> None:
    with pytest.raises(WarehouseError) as raised:
        warehouse.execute_script(as_script(load_statements(orders)))
    assert raised.value.message == (
        "COPY into stage_orders: the manifest location is still a placeholder; pass params "
        "(manifest_uri, iam_role_arn) to execute_script"
    )


def test_bad_params_are_refused_before_anything_runs(warehouse: DuckDBWarehouse, orders: TableSpec) -> None:
    with pytest.raises(ValueError, match="^manifest_uri is not valid"):
        warehouse.execute_script(as_script(load_statements(orders)), {"manifest_uri": "x'", "iam_role_arn": ""})
    with pytest.raises(ValueError, match="^unknown placeholder password; valid: manifest_uri, iam_role_arn$"):
        warehouse.execute_script("SELECT 1", {"password": "hunter2"})


def test_missing_mandatory_file_and_empty_manifest_fail(
    warehouse: DuckDBWarehouse, orders: TableSpec, tmp_path: Path, write_manifest: Callable[..., Path]
) -> None:
    append = dataclasses.replace(orders, load_mode="append")
    with pytest.raises(WarehouseError, match="no files found from the manifest"):
        load(warehouse, append, write_manifest("empty.manifest", []))
    manifest = tmp_path / "missing.manifest"
    manifest.write_text('{"entries": [{"url": "/nowhere/part-0.parquet", "mandatory": true}]}')
    with pytest.raises(WarehouseError, match="mandatory file /nowhere/part-0.parquet not found"):
        load(warehouse, append, manifest)


@pytest.mark.parametrize(
    ("sql", "columns", "rows"),
    [
        ("SELECT NVL(NULL, 'fallback') AS v", ["v"], [("fallback",)]),
        (
            "SELECT DATEADD(day, 1, '2024-02-28'::date) AS next_day, DATEADD(month, 1, '2024-01-31'::timestamp) AS m",
            ["next_day", "m"],
            [(datetime(2024, 2, 29), datetime(2024, 2, 29))],
        ),
        ("SELECT DATEDIFF(day, '2024-01-01'::date, '2024-03-01'::date) AS d", ["d"], [(60,)]),
        (
            "SELECT '12.345'::DECIMAL(10, 2) AS n, '42'::INTEGER + 1 AS i, 3::VARCHAR AS s",
            ["n", "i", "s"],
            [(Decimal("12.35"), 43, "3")],
        ),
        (
            "SELECT GETDATE() > '2024-01-01'::TIMESTAMP AS after, GETDATE() < '2200-01-01' AS before",
            ["after", "before"],
            [(True, True)],
        ),
        ("SELECT TYPEOF(GETDATE()) AS t", ["t"], [("TIMESTAMP",)]),
        (
            "SELECT LISTAGG(x, ',') WITHIN GROUP (ORDER BY x) AS l FROM (SELECT 'b' AS x UNION ALL SELECT 'a')",
            ["l"],
            [("a,b",)],
        ),
        ("SELECT NVL2(NULL, 1, 2) AS n, DECODE(2, 1, 'one', 2, 'two', 'many') AS d", ["n", "d"], [(2, "two")]),
    ],
)
def test_analyst_redshift_sql(warehouse: DuckDBWarehouse, sql: str, columns: list[str], rows: list[tuple]) -> None:
    assert warehouse.query(sql) == (columns, rows)


def test_analyst_queries_over_loaded_rows(
    warehouse: DuckDBWarehouse, orders: TableSpec, batches: dict[str, Path]
) -> None:
    load(warehouse, orders, batches["b1"])
    assert warehouse.query(
        "SELECT order_id, NVL(payload::VARCHAR, 'none') AS doc, DATEADD(hour, 2, placed_at) AS due "
        "FROM sales.orders WHERE placed_at < GETDATE() ORDER BY 1"
    ) == (
        ["order_id", "doc", "due"],
        [("a", '{"items": 1}', datetime(2024, 11, 15, 10)), ("b", "none", datetime(2024, 11, 15, 11))],
    )


def test_query_takes_one_plain_statement(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(ValueError, match="exactly one statement, got 2"):
        warehouse.query("SELECT 1; SELECT 2")
    with pytest.raises(ValueError, match="use execute_script"):
        warehouse.query("BEGIN")
    with pytest.raises(WarehouseError, match=r"^statement 1 \(SELECT \* FROM nowhere\.missing\): Catalog Error"):
        warehouse.query("SELECT * FROM nowhere.missing")


def test_the_database_file_persists(tmp_path: Path, orders_table: TableSpec) -> None:
    path = tmp_path / "wh" / "warehouse.duckdb"
    with DuckDBWarehouse(path) as first:
        first.execute_script(as_script(ddl_statements(orders_table)))
    with DuckDBWarehouse(path) as second:
        assert len(second.table_columns("sales", "orders")) == 6


def test_migration_statements_run_and_redshift_transaction_rules_hold(
    warehouse: DuckDBWarehouse, orders: TableSpec
) -> None:
    warehouse.execute_script(
        "ALTER TABLE sales.orders ADD COLUMN notes SUPER ENCODE ZSTD;\n"
        "ALTER TABLE sales.orders ALTER COLUMN order_id TYPE VARCHAR(64);"
    )
    assert warehouse.table_columns("sales", "orders")[-1] == ("notes", "JSON")
    with pytest.raises(WarehouseError) as raised:
        warehouse.execute_script(
            "BEGIN;\nALTER TABLE sales.orders ADD COLUMN more INTEGER ENCODE AZ64;\n"
            "ALTER TABLE sales.orders ALTER COLUMN order_id TYPE VARCHAR(128);\nCOMMIT;"
        )
    assert (raised.value.statement_number, raised.value.message) == (
        3,
        "ALTER TABLE ALTER COLUMN cannot run inside a transaction block",
    )
    assert [name for name, _ in warehouse.table_columns("sales", "orders")][-1] == "notes"


def test_copy_ignores_partition_folders_in_the_file_path(
    warehouse: DuckDBWarehouse,
    orders: TableSpec,
    write_parquet: Callable[[str, str], Path],
    write_manifest: Callable[..., Path],
) -> None:
    """Spark writes partition values as folders (onboard_year=2024/...), not columns; COPY counts only file columns."""
    file = write_parquet("orders/onboard_year=2024/onboard_month=11/onboard_day=15/part-0.parquet", BATCH_1)
    load(warehouse, orders, write_manifest("b1.manifest", [file]))
    assert contents(warehouse) == [ROW_A1, ROW_B1]


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        ("SELECT count(*), count(order_id), sum(amount), max(amount), min(placed_at) FROM sales.orders",
         ["count", "count", "sum", "max", "min"]),
        ("SELECT 1 + 1, 'x', amount * 2 FROM sales.orders", ["?column?", "?column?", "?column?"]),
        ("SELECT Order_Id, o.AMOUNT, \"order_id\", amount::INTEGER FROM sales.orders o",
         ["order_id", "amount", "order_id", "amount"]),
        ("SELECT NVL(amount, 0), GETDATE() > placed_at, DATEADD(day, 1, placed_at), UPPER(order_id) FROM sales.orders",
         ["coalesce", "?column?", "dateadd", "upper"]),
        ("SELECT CASE WHEN amount > 1 THEN 'big' END, count(*) AS Total, 1 AS \"Mixed\" FROM sales.orders GROUP BY amount",
         ["case", "total", "mixed"]),
        ("SELECT row_number() OVER (ORDER BY amount), \"Order_Id\" FROM sales.orders", ["row_number", "order_id"]),
        ("SELECT count FROM (SELECT count(*) FROM sales.orders)", ["count"]),
        ("SELECT * FROM (SELECT max(amount) FROM sales.orders) UNION ALL SELECT 1", ["max"]),
    ],
)
def test_query_labels_columns_as_redshift_does(warehouse: DuckDBWarehouse, orders: TableSpec, sql: str,
                                               columns: list[str]) -> None:
    assert warehouse.query(sql)[0] == columns
