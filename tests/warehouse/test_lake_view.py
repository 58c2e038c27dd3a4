"""`lake.<source>` over every batch's Parquet counts what the Redshift table holds, for each load mode.

Each batch is written as Parquet in the processed zone's layout and loaded with the load SQL Redshift runs
(COPY of the batch's manifest), so the table and the lake view read the very same files."""

from __future__ import annotations

import json

import pytest

from framework.warehouse import ColumnSpec, DuckDBWarehouse, TableSpec, as_script, render_load_sql
from framework.warehouse.ddl import ddl_statements
from framework.warehouse.load import load_statements

BATCHES = [  # (batch id, [(id, amount)])
    ("20241116T100000Z-aaaaaaaa", [("A", 1), ("B", 2), ("C", 3)]),
    ("20241117T100000Z-bbbbbbbb", [("B", 20), ("D", 40)]),
    ("20241118T100000Z-cccccccc", [("A", 100), ("D", 400)]),
]


def table(mode: str) -> TableSpec:
    return TableSpec(schema="shop", table="orders", load_mode=mode, keys=("id",) if mode == "merge" else (),
                     columns=(ColumnSpec("id", "string", nullable=False, max_length=8), ColumnSpec("amount", "integer")))


def load_batches(warehouse: DuckDBWarehouse, spec: TableSpec, lake) -> None:
    warehouse.execute_script(as_script(ddl_statements(spec)))
    for batch_id, rows in BATCHES:
        folder = lake / "processed/orders" / f"onboard_day={batch_id[6:8]}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-00000-{batch_id}.parquet"
        values = ", ".join(f"('{k}', {v}, '{batch_id}', TIMESTAMP '2024-11-16 10:00:00')" for k, v in rows)
        warehouse._connection.execute(  # the Glue job's output: the table's columns, lineage included
            f"COPY (SELECT * FROM (VALUES {values}) AS t(id, amount, _batch_id, _ingested_at)) "  # noqa: S608
            f"TO '{path}' (FORMAT PARQUET)")
        manifest = lake / f"{batch_id}.manifest"
        manifest.write_text(json.dumps({"entries": [{"url": str(path), "mandatory": True,
                                                     "meta": {"content_length": path.stat().st_size}}]}))
        warehouse.execute_script(render_load_sql(as_script(load_statements(spec)), str(manifest), ""))
    warehouse.lake_views("orders", spec, str(lake / "processed/orders/**/*.parquet"))


@pytest.mark.parametrize(("mode", "expected"), [
    ("append", [("A", 1), ("A", 100), ("B", 2), ("B", 20), ("C", 3), ("D", 40), ("D", 400)]),
    ("replace", [("A", 100), ("D", 400)]),
    ("merge", [("A", 100), ("B", 20), ("C", 3), ("D", 400)]),
])
def test_the_lake_view_holds_what_the_table_holds(tmp_path, mode, expected):
    with DuckDBWarehouse() as warehouse:
        load_batches(warehouse, table(mode), tmp_path)
        in_table = warehouse.query("SELECT id, amount FROM shop.orders ORDER BY 1, 2")[1]
        in_lake = warehouse.query("SELECT id, amount FROM lake.orders ORDER BY 1, 2")[1]
        assert in_table == in_lake == expected
        assert warehouse.query("SELECT COUNT(*) FROM lake.orders_batches")[1] == [(7,)]
        assert warehouse.query("SELECT * FROM lake.orders LIMIT 0")[0] == ["id", "amount", "_batch_id",
                                                                            "_ingested_at"]


def test_the_same_query_is_written_for_athena():
    from sqlglot import exp

    from framework.warehouse.lake_view import batches_name, lake_view

    batches = exp.table_(batches_name("orders"), db="onboard_lake")
    assert lake_view(table("merge"), batches).sql(dialect="athena") == (
        "SELECT id, amount, _batch_id, _ingested_at FROM (SELECT id, amount, _batch_id, _ingested_at, "
        "ROW_NUMBER() OVER (PARTITION BY id ORDER BY _batch_id DESC) AS _onboard_rank "
        "FROM onboard_lake.orders_batches) AS latest WHERE _onboard_rank = 1")
    assert lake_view(table("replace"), batches).sql(dialect="athena") == (
        "SELECT id, amount, _batch_id, _ingested_at FROM onboard_lake.orders_batches "
        "WHERE _batch_id = (SELECT MAX(_batch_id) FROM onboard_lake.orders_batches)")


def create_athena_view(warehouse: DuckDBWarehouse, view_sql_text: str, source: str) -> None:
    """Run an athena/view.sql text in DuckDB (transpiled from Athena SQL by sqlglot) with ``athena`` as the Glue
    database, whose ``<source>_batches`` is every batch's Parquet (the local ``lake.<source>_batches``)."""
    from framework.render.athena import view_query

    connection = warehouse._connection
    connection.execute("CREATE SCHEMA IF NOT EXISTS athena")
    connection.execute(f'CREATE OR REPLACE VIEW athena."{source}_batches" AS '  # noqa: S608 (a source name)
                       f'SELECT * FROM lake."{source}_batches"')
    connection.execute(view_query(view_sql_text, "athena").sql(dialect="duckdb"))


@pytest.mark.parametrize(("mode", "expected"), [
    ("append", [("A", 1), ("A", 100), ("B", 2), ("B", 20), ("C", 3), ("D", 40), ("D", 400)]),
    ("replace", [("A", 100), ("D", 400)]),  # three replace loads: the last one's rows
    ("merge", [("A", 100), ("B", 20), ("C", 3), ("D", 400)]),  # A, B and D updated by later batches
])
def test_the_generated_athena_view_counts_and_holds_what_redshift_holds(tmp_path, mode, expected):
    from framework.render.athena import view_sql

    spec = table(mode)
    text = view_sql("orders", "sources/orders.yaml", spec)
    assert "CREATE OR REPLACE VIEW ${glue_database}.orders AS" in text
    with DuckDBWarehouse() as warehouse:
        load_batches(warehouse, spec, tmp_path)
        create_athena_view(warehouse, text, "orders")
        assert warehouse.query("SELECT COUNT(*) FROM athena.orders")[1] == \
            warehouse.query("SELECT COUNT(*) FROM shop.orders")[1] == [(len(expected),)]
        in_table = warehouse.query("SELECT * FROM shop.orders ORDER BY 1, 2")[1]
        assert warehouse.query("SELECT * FROM athena.orders ORDER BY 1, 2")[1] == in_table
        assert [row[:2] for row in in_table] == expected
        assert warehouse.query("SELECT COUNT(*) FROM athena.orders_batches")[1] == [(7,)]  # every version
