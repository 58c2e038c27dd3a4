"""Local datasets: rebuilt after each load of a table they read, in dependency order, and exported to Parquet."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from framework.local.datasets import affected, refresh_after_load
from framework.spec import load_project
from framework.spec.datasets import load_datasets
from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO
from tests.spec.test_datasets import shop_project, write_dataset

CUSTOMERS = ("INSERT INTO sales.customers (customer_id, name, customer_tier) VALUES "
             "('C1', 'Ann', 'gold'), ('C2', 'Bob', 'silver'), ('C3', 'Cy', 'gold')")


@pytest.fixture
def shop(tmp_path):
    project = shop_project(tmp_path / "project")
    write_dataset(project, "aa_top", """
        dataset:
          name: aa_top
          description: The gold customers.
          materialized: false
          sql: SELECT customer_id FROM curated.zz_base WHERE tier = 'gold'
        """)
    write_dataset(project, "zz_base", """
        dataset:
          name: zz_base
          description: Customers and their tier.
          export: parquet
          sql: SELECT customer_id, customer_tier AS tier FROM sales.customers
        """)
    (project.datasets_dir / "revenue_by_tier.yaml").write_text(
        (REPO / "datasets/revenue_by_tier.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return project


@pytest.fixture
def warehouse():
    with DuckDBWarehouse() as wh:
        for source in ("customers", "products", "sales_transactions"):
            wh.execute_script((REPO / "generated" / source / "redshift/ddl.sql").read_text(encoding="utf-8"))
        yield wh


def test_a_load_rebuilds_the_datasets_reading_its_table_in_dependency_order(shop, warehouse, tmp_path):
    datasets = load_datasets(shop, load_project(shop))
    assert [d.name for d in affected(datasets, "sales.customers")] == ["zz_base", "aa_top", "revenue_by_tier"]
    assert [d.name for d in affected(datasets, "sales.products")] == ["revenue_by_tier"]
    warehouse.execute_script(CUSTOMERS + ";")
    lake = tmp_path / "lake"
    result = refresh_after_load(warehouse, datasets, "sales.customers", lake)
    assert (result.rebuilt, result.waiting, result.failed) == (["zz_base", "aa_top", "revenue_by_tier"], [], {})
    assert warehouse.query("SELECT customer_id FROM curated.aa_top ORDER BY 1")[1] == [("C1",), ("C3",)]
    assert warehouse.query("SELECT COUNT(*) FROM curated.revenue_by_tier")[1] == [(0,)]
    # materialized: a table holding the rows of its last refresh; plain: a view that reads afresh
    warehouse.execute_script("INSERT INTO sales.customers (customer_id, customer_tier) VALUES ('C4', 'gold');")
    assert warehouse.query("SELECT COUNT(*) FROM curated.zz_base")[1] == [(3,)]
    assert warehouse.query("SELECT table_name, table_type FROM information_schema.tables "
                           "WHERE table_schema = 'curated' ORDER BY 1")[1] == [
        ("aa_top", "VIEW"), ("revenue_by_tier", "BASE TABLE"), ("zz_base", "BASE TABLE")]
    refresh_after_load(warehouse, datasets, "sales.customers", lake)
    assert warehouse.query("SELECT customer_id FROM curated.aa_top ORDER BY 1")[1] == [("C1",), ("C3",), ("C4",)]


def test_an_export_writes_the_rows_as_parquet_under_the_curated_zone(shop, warehouse, tmp_path):
    datasets = load_datasets(shop, load_project(shop))
    warehouse.execute_script(CUSTOMERS + ";")
    lake = tmp_path / "lake"
    refresh_after_load(warehouse, datasets, "sales.customers", lake)
    assert sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file()) == [
        "curated/revenue_by_tier/data.parquet", "curated/zz_base/data.parquet"]
    rows = duckdb.execute("SELECT * FROM read_parquet(?) ORDER BY 1", [str(lake / "curated/zz_base/data.parquet")]
                          ).fetchall()
    assert rows == [("C1", "gold"), ("C2", "silver"), ("C3", "gold")]


def test_the_revenue_dataset_sums_the_three_shop_tables(shop, warehouse, tmp_path):
    datasets = load_datasets(shop, load_project(shop))
    warehouse.execute_script(CUSTOMERS + ";")
    warehouse.execute_script(
        "INSERT INTO sales.products (product_id, product_name, category) VALUES ('P1', 'Desk', 'Furniture');"
        "INSERT INTO sales.transactions (transaction_id, transaction_date, customer_id, product_id, total_amount) "
        "VALUES ('T1', '2024-01-02', 'C1', 'P1', 10.50), ('T2', '2024-01-02', 'C3', 'P1', 4.25);")
    result = refresh_after_load(warehouse, datasets, "sales.transactions", tmp_path / "lake")
    assert result.rebuilt == ["revenue_by_tier"]
    assert warehouse.query("SELECT * FROM curated.revenue_by_tier")[1] == [("gold", "Furniture", 2, Decimal("14.75"))]


def test_a_dataset_waits_until_every_table_it_reads_exists(shop, tmp_path):
    datasets = load_datasets(shop, load_project(shop))
    with DuckDBWarehouse() as warehouse:
        warehouse.execute_script((REPO / "generated/customers/redshift/ddl.sql").read_text(encoding="utf-8"))
        result = refresh_after_load(warehouse, datasets, "sales.customers", tmp_path / "lake")
    assert (result.rebuilt, result.waiting) == (["zz_base", "aa_top"], ["revenue_by_tier"])
