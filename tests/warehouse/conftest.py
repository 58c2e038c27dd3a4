"""Fixtures for the warehouse tests: example tables, a DuckDB warehouse, Parquet and manifest writers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from framework.warehouse import ColumnSpec, DuckDBWarehouse, TableSpec


@pytest.fixture
def orders_table() -> TableSpec:
    """distkey + compound sortkey + decimal + SUPER + descriptions; merge on order_id."""
    return TableSpec(
        schema="sales",
        table="orders",
        columns=(
            ColumnSpec("order_id", "string", nullable=False, max_length=32, description="Order id from the shop's API"),
            ColumnSpec("amount", "decimal", precision=12, scale=2),
            ColumnSpec("payload", "json", description="Raw order\n  document"),
            ColumnSpec("placed_at", "timestamp", nullable=False),
        ),
        distkey="order_id",
        sortkey=("placed_at", "order_id"),
        load_mode="merge",
        keys=("order_id",),
        order_by="placed_at",
        comment="Orders, one row per order",
    )


@pytest.fixture
def airports_table() -> TableSpec:
    """DESIGN.md's file-source example: diststyle all, sortkey iata, merge on iata."""
    return TableSpec(
        schema="reference",
        table="airports",
        columns=(
            ColumnSpec("iata", "string", nullable=False),
            ColumnSpec("name", "string"),
            ColumnSpec("latitude", "double"),
        ),
        diststyle="all",
        sortkey=("iata",),
        load_mode="merge",
        keys=("iata",),
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(tmp_path / "local" / "warehouse.duckdb") as db:
        yield db


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_parquet(name, rows_sql)``: the rows of a DuckDB query as a Parquet file under tmp_path."""

    def write(name: str, rows_sql: str) -> Path:
        path = tmp_path / "lake" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as connection:
            connection.execute(f"COPY ({rows_sql}) TO '{path}' (FORMAT PARQUET)")
        return path

    return write


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[..., Path]:
    """``write_manifest(name, files, content_length_delta=0)``: a COPY manifest listing ``files``."""

    def write(name: str, files: list[Path], content_length_delta: int = 0) -> Path:
        entries = [
            {
                "url": f"file://{file}",
                "mandatory": True,
                "meta": {"content_length": file.stat().st_size + content_length_delta},
            }
            for file in files
        ]
        path = tmp_path / "lake" / "_manifests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"entries": entries}), encoding="utf-8")
        return path

    return write
