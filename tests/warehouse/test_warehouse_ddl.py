"""Exact DDL text for representative tables; every statement re-parses in sqlglot's Redshift dialect."""

from __future__ import annotations

import dataclasses

import pytest
import sqlglot
from sqlglot import exp

from framework.warehouse import ColumnSpec, TableSpec, as_script, ddl_statements

ORDERS_DDL = """\
CREATE SCHEMA IF NOT EXISTS sales;

CREATE TABLE IF NOT EXISTS sales.orders (
  order_id VARCHAR(32) NOT NULL ENCODE RAW,
  amount DECIMAL(12, 2) ENCODE AZ64,
  payload SUPER ENCODE ZSTD,
  placed_at TIMESTAMP NOT NULL ENCODE RAW,
  _batch_id VARCHAR(64) ENCODE ZSTD,
  _ingested_at TIMESTAMP ENCODE AZ64
)
DISTSTYLE KEY
DISTKEY(order_id)
COMPOUND SORTKEY(placed_at, order_id);

COMMENT ON TABLE sales.orders IS 'Orders, one row per order';

COMMENT ON COLUMN sales.orders.order_id IS 'Order id from the shop\\'s API';

COMMENT ON COLUMN sales.orders.payload IS 'Raw order document';

COMMENT ON COLUMN sales.orders._batch_id IS 'Onboard batch that loaded this row';

COMMENT ON COLUMN sales.orders._ingested_at IS 'When Onboard ingested the batch (UTC)';
"""

AIRPORTS_DDL = """\
CREATE SCHEMA IF NOT EXISTS reference;

CREATE TABLE IF NOT EXISTS reference.airports (
  iata VARCHAR(256) NOT NULL ENCODE RAW,
  name VARCHAR(256) ENCODE ZSTD,
  latitude DOUBLE PRECISION ENCODE RAW,
  _batch_id VARCHAR(64) ENCODE ZSTD,
  _ingested_at TIMESTAMP ENCODE AZ64
)
DISTSTYLE ALL
COMPOUND SORTKEY(iata);

COMMENT ON COLUMN reference.airports._batch_id IS 'Onboard batch that loaded this row';

COMMENT ON COLUMN reference.airports._ingested_at IS 'When Onboard ingested the batch (UTC)';
"""

ALL_TYPES = TableSpec(
    schema="types",
    table="every_type",
    columns=(
        ColumnSpec("s", "string"),
        ColumnSpec("i", "integer"),
        ColumnSpec("b", "bigint"),
        ColumnSpec("d", "double"),
        ColumnSpec("n", "decimal", precision=38, scale=38),
        ColumnSpec("f", "boolean"),
        ColumnSpec("day", "date"),
        ColumnSpec("ts", "timestamp"),
        ColumnSpec("tstz", "timestamptz"),
        ColumnSpec("doc", "json"),
    ),
)


def test_orders_ddl_is_exact(orders_table: TableSpec) -> None:
    assert as_script(ddl_statements(orders_table)) == ORDERS_DDL


def test_diststyle_all_ddl_is_exact(airports_table: TableSpec) -> None:
    assert as_script(ddl_statements(airports_table)) == AIRPORTS_DDL


def test_every_type_maps_and_encodes_per_contract() -> None:
    create = ddl_statements(ALL_TYPES)[1]
    assert create == (
        "CREATE TABLE IF NOT EXISTS types.every_type (\n"
        "  s VARCHAR(256) ENCODE ZSTD,\n"
        "  i INTEGER ENCODE AZ64,\n"
        "  b BIGINT ENCODE AZ64,\n"
        "  d DOUBLE PRECISION ENCODE RAW,\n"
        "  n DECIMAL(38, 38) ENCODE AZ64,\n"
        "  f BOOLEAN ENCODE RAW,\n"
        "  day DATE ENCODE AZ64,\n"
        "  ts TIMESTAMP ENCODE AZ64,\n"
        "  tstz TIMESTAMP WITH TIME ZONE ENCODE AZ64,\n"
        "  doc SUPER ENCODE ZSTD,\n"
        "  _batch_id VARCHAR(64) ENCODE ZSTD,\n"
        "  _ingested_at TIMESTAMP ENCODE AZ64\n"
        ")\n"
        "DISTSTYLE AUTO"
    )


@pytest.mark.parametrize(
    ("changes", "tail"),
    [
        ({}, "DISTSTYLE AUTO"),
        ({"diststyle": "even"}, "DISTSTYLE EVEN"),
        ({"distkey": "i"}, "DISTSTYLE KEY\nDISTKEY(i)"),
        ({"diststyle": "key", "distkey": "i"}, "DISTSTYLE KEY\nDISTKEY(i)"),
        ({"sortkey": ("ts", "i")}, "DISTSTYLE AUTO\nCOMPOUND SORTKEY(ts, i)"),
        ({"sortkey": ("ts", "i"), "sortstyle": "interleaved"}, "DISTSTYLE AUTO\nINTERLEAVED SORTKEY(ts, i)"),
        ({"sortkey": ("_ingested_at",)}, "DISTSTYLE AUTO\nCOMPOUND SORTKEY(_ingested_at)"),
    ],
)
def test_distribution_and_sort_clauses(changes: dict, tail: str) -> None:
    create = ddl_statements(dataclasses.replace(ALL_TYPES, **changes))[1]
    assert create.split("\n)\n", 1)[1] == tail


def test_sort_key_columns_are_raw_whatever_their_type() -> None:
    create = ddl_statements(dataclasses.replace(ALL_TYPES, sortkey=("s", "ts", "_ingested_at")))[1]
    assert "  s VARCHAR(256) ENCODE RAW,\n" in create
    assert "  ts TIMESTAMP ENCODE RAW,\n" in create
    assert "  _ingested_at TIMESTAMP ENCODE RAW\n" in create


def test_comments_escape_quotes_and_backslashes_and_round_trip() -> None:
    text = "it's a \\ path; -- not a comment"
    table = TableSpec("s", "t", (ColumnSpec("c", "string", description=text),), comment="O'Hare")
    statements = ddl_statements(table)
    assert statements[2] == "COMMENT ON TABLE s.t IS 'O\\'Hare'"
    assert statements[3] == "COMMENT ON COLUMN s.t.c IS 'it\\'s a \\\\ path; -- not a comment'"
    assert sqlglot.parse_one(statements[3], read="redshift").expression.this == text


@pytest.mark.parametrize("name", ["orders", "airports", "all_types", "interleaved"])
def test_every_statement_parses_as_redshift(name: str, orders_table: TableSpec, airports_table: TableSpec) -> None:
    table = {
        "orders": orders_table,
        "airports": airports_table,
        "all_types": ALL_TYPES,
        "interleaved": dataclasses.replace(airports_table, sortkey=("iata", "name"), sortstyle="interleaved"),
    }[name]
    for statement in ddl_statements(table):
        parsed = sqlglot.parse_one(statement, read="redshift")
        if name == "interleaved" and statement.startswith("CREATE TABLE"):
            # sqlglot 30 has no INTERLEAVED SORTKEY: it keeps the statement as an opaque command.
            assert isinstance(parsed, exp.Command)
            continue
        assert not isinstance(parsed, exp.Command), statement
        assert parsed.sql(dialect="redshift", pretty=statement.count("\n") > 0) == statement


def test_ddl_is_deterministic(orders_table: TableSpec) -> None:
    assert ddl_statements(orders_table) == ddl_statements(dataclasses.replace(orders_table))
