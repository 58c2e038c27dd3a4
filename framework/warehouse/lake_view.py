"""The processed zone seen the way Redshift sees it: one query per source with its load mode's semantics.

The processed zone keeps every batch, so its raw files hold every version of every row. Over those files
(``<source>_batches``) the source's view keeps what the table in Redshift holds:
- append: every row of every batch;
- replace: the rows of the last batch (batch ids start with their UTC time, so they sort in load order);
- merge: per key, the row of the latest batch (the Glue job already kept one row per key in a batch).
Built as a sqlglot expression, so the same query is written for Athena (Trino) and for the local DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from framework.warehouse.identifiers import sql_identifier
from framework.warehouse.table import ColumnSpec, TableSpec

BATCH_ID = "_batch_id"
RANK = "_onboard_rank"


def batches_name(source: str) -> str:
    """The raw table (every batch) of a source in the lake's catalog."""
    return f"{source}_batches"


def lake_view(table: TableSpec, batches: exp.Table) -> exp.Select:
    """The rows of ``table`` as Redshift holds them, read from ``batches`` (every batch's files)."""
    columns = [exp.column(sql_identifier(c.name)) for c in table.all_columns()]
    batch = exp.column(BATCH_ID)
    if table.load_mode == "append":
        return exp.select(*columns).from_(batches.copy())
    if table.load_mode == "replace":
        last = exp.select(exp.func("MAX", batch.copy())).from_(batches.copy())
        return exp.select(*columns).from_(batches.copy()).where(exp.EQ(this=batch, expression=exp.Subquery(this=last)))
    ranked = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column(sql_identifier(k)) for k in table.keys],
        order=exp.Order(expressions=[exp.Ordered(this=batch, desc=True)]),
    )
    inner = exp.select(*[c.copy() for c in columns], exp.alias_(ranked, RANK)).from_(batches.copy())
    return exp.select(*columns).from_(inner.subquery("latest")).where(exp.column(RANK).eq(1))


# The Parquet the Glue job writes, as the Glue catalog types its columns (Hive type names). json (SUPER in
# Redshift) is written as text; timestamptz as a UTC timestamp.
_HIVE_TYPES = {"string": "string", "integer": "int", "bigint": "bigint", "double": "double", "boolean": "boolean",
               "date": "date", "timestamp": "timestamp", "timestamptz": "timestamp", "json": "string"}
# How Athena (Trino) names the same types in a view's column list.
_ENGINE_TYPES = {"string": "varchar", "int": "integer"}


def hive_type(column: ColumnSpec) -> str:
    """The catalog type of a column of ``<source>_batches`` (what the Parquet holds)."""
    if column.type == "decimal":
        return f"decimal({column.precision},{column.scale})"
    return _HIVE_TYPES[column.type]


def engine_type(hive: str) -> str:
    """A catalog (Hive) type as Athena's engine names it in a view definition: string -> varchar, int -> integer."""
    return _ENGINE_TYPES.get(hive, hive)
