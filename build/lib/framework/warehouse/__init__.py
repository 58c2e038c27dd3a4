"""Redshift DDL and load SQL for Onboard tables, and the embedded DuckDB warehouse that runs them.

Importing this package imports sqlglot (and DuckDB via ``DuckDBWarehouse``); it never imports pyspark.
"""

from framework.warehouse.ddl import ddl_statements
from framework.warehouse.duckdb_adapter import DuckDBWarehouse
from framework.warehouse.errors import WarehouseError
from framework.warehouse.identifiers import check_identifier
from framework.warehouse.load import load_statements, render_load_sql, stage_table_name
from framework.warehouse.script import as_script, split_script
from framework.warehouse.table import (
    COLUMN_TYPES,
    LINEAGE_COLUMNS,
    ColumnSpec,
    TableSpec,
)

__all__ = [
    "COLUMN_TYPES",
    "LINEAGE_COLUMNS",
    "ColumnSpec",
    "DuckDBWarehouse",
    "TableSpec",
    "WarehouseError",
    "as_script",
    "check_identifier",
    "ddl_statements",
    "load_statements",
    "render_load_sql",
    "split_script",
    "stage_table_name",
]
