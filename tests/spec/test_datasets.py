"""Curated datasets: every table and column resolved against the sources, errors at their line and column."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.render.datasets import dataset_files
from framework.spec import SpecErrors, load_project
from framework.spec.datasets import load_datasets
from tests.conftest import REPO

SHOP = ("customers.yaml", "products.yaml", "sales_transactions.yaml")


def shop_project(root: Path) -> Project:
    """The three shop sources (and the shared column list transactions use) with no dataset yet."""
    (root / "sources").mkdir(parents=True)
    (root / "datasets").mkdir()
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "sources/samples", root / "sources/samples")
    for name in SHOP:
        shutil.copy(REPO / "sources" / name, root / "sources" / name)
    return Project.at(root)


@pytest.fixture
def shop(tmp_path) -> Project:
    return shop_project(tmp_path)


def write_dataset(project: Project, name: str, text: str) -> Path:
    path = project.datasets_dir / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors(project: Project) -> list[str]:
    with pytest.raises(SpecErrors) as info:
        load_datasets(project, load_project(project))
    return [str(e) for e in info.value.errors]


def test_the_seed_002_example_resolves_against_the_shop_sources():
    project = Project.at(REPO)
    [dataset] = load_datasets(project, load_project(project))
    assert (dataset.table, dataset.materialized, dataset.export) == ("curated.revenue_by_tier", True, "parquet")
    assert dataset.reads == ("sales.customers", "sales.products", "sales.transactions")
    assert dataset.columns == ("customer_tier", "category", "orders", "revenue")


def test_unknown_table_is_reported_at_its_line_and_column_in_the_sql_block(shop):
    write_dataset(shop, "bad", """
        dataset:
          name: bad
          description: Broken.
          sql: |
            SELECT t.customer_id
            FROM sales.transaction t
        """)
    assert errors(shop) == [
        "datasets/bad.yaml:6:10: dataset.sql: unknown table sales.transaction; did you mean sales.transactions?"]


def test_unknown_columns_qualified_or_not_are_reported_where_they_are_written(shop):
    write_dataset(shop, "bad", """
        dataset:
          name: bad
          description: Broken.
          sql: |
            SELECT t.customer_idd
            FROM sales.transactions t
        """)
    assert errors(shop) == ["datasets/bad.yaml:5:12: dataset.sql: unknown column t.customer_idd"]
    write_dataset(shop, "bad", """
        dataset:
          name: bad
          description: Broken.
          sql: |
            SELECT customer_id,
                   loyalty_points
            FROM sales.customers
        """)
    assert errors(shop) == ["datasets/bad.yaml:6:12: dataset.sql: unknown column loyalty_points"]


def test_a_one_line_sql_value_is_positioned_too(shop):
    write_dataset(shop, "bad", """
        dataset:
          name: bad
          description: Broken.
          sql: "SELECT nope FROM sales.customers"
        """)
    assert errors(shop) == ["datasets/bad.yaml:4:16: dataset.sql: unknown column nope"]


def test_a_statement_other_than_select_is_refused(shop):
    write_dataset(shop, "bad", """
        dataset:
          name: bad
          description: Broken.
          sql: |
            DELETE FROM sales.customers
        """)
    assert errors(shop) == ["datasets/bad.yaml:5:5: dataset.sql: a dataset is one SELECT; found DELETE"]


def test_a_dependency_cycle_is_reported_at_the_reference_that_closes_it(shop):
    write_dataset(shop, "a", """
        dataset:
          name: a
          description: Reads b.
          sql: |
            SELECT customer_id FROM curated.b
        """)
    write_dataset(shop, "b", """
        dataset:
          name: b
          description: Reads a.
          sql: |
            SELECT customer_id
            FROM curated.a
        """)
    assert errors(shop) == ["datasets/b.yaml:6:10: dataset.sql: dependency cycle between datasets: a -> b -> a"]


def test_datasets_come_in_dependency_order_and_read_each_others_columns(shop):
    write_dataset(shop, "aa_top", """
        dataset:
          name: aa_top
          description: The gold customers.
          materialized: false
          sql: |
            SELECT customer_id, tier FROM curated.zz_base WHERE tier = 'gold'
        """)
    write_dataset(shop, "zz_base", """
        dataset:
          name: zz_base
          description: Customers and their tier.
          sql: |
            SELECT customer_id, customer_tier AS tier FROM sales.customers
        """)
    datasets = load_datasets(shop, load_project(shop))
    assert [(d.name, d.reads, d.columns) for d in datasets] == [
        ("zz_base", ("sales.customers",), ("customer_id", "tier")),
        ("aa_top", ("curated.zz_base",), ("customer_id", "tier")),
    ]


def test_field_errors_name_the_field(shop):
    write_dataset(shop, "bad", """
        dataset:
          name: Bad
          description: x
          export: csv
          materialised: true
          sql: SELECT 1
        """)
    assert errors(shop) == [
        "datasets/bad.yaml:2:9: dataset.name: 'Bad' is not snake_case (lower-case letters, digits, '_')",
        "datasets/bad.yaml:2:9: dataset.name: the file must be named Bad.yaml (found bad.yaml)",
        "datasets/bad.yaml:4:11: dataset.export: unknown export format; choose from: parquet",
        "datasets/bad.yaml:5:3: dataset.materialised: unknown field; did you mean 'materialized'?",
    ]


def test_generate_writes_the_view_and_the_unload_deterministically():
    project = Project.at(REPO)
    files = dataset_files(load_datasets(project, load_project(project)))
    assert sorted(files) == ["_datasets/datasets.json", "_datasets/revenue_by_tier/export.sql",
                             "_datasets/revenue_by_tier/view.sql"]
    assert files["_datasets/revenue_by_tier/view.sql"].splitlines()[2:] == [
        "",
        "CREATE SCHEMA IF NOT EXISTS curated;",
        "",
        "DROP MATERIALIZED VIEW IF EXISTS curated.revenue_by_tier CASCADE;",
        "",
        "CREATE MATERIALIZED VIEW curated.revenue_by_tier AS",
        "SELECT c.customer_tier, p.category, COUNT(*) AS orders, SUM(t.total_amount) AS revenue",
        "FROM sales.transactions t",
        "JOIN sales.customers c ON c.customer_id = t.customer_id",
        "JOIN sales.products p ON p.product_id = t.product_id",
        "GROUP BY c.customer_tier, p.category;",
        "",
        "COMMENT ON VIEW curated.revenue_by_tier IS 'Revenue per customer tier and product category.';",
    ]
    assert files["_datasets/revenue_by_tier/export.sql"].splitlines()[-1] == (
        "UNLOAD ('SELECT * FROM curated.revenue_by_tier') TO '${curated_uri}revenue_by_tier/' "
        "IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET CLEANPATH;")
    assert dataset_files(load_datasets(project, load_project(project))) == files


def test_a_plain_view_with_a_reserved_name_is_quoted_by_the_one_helper(shop):
    write_dataset(shop, "order", """
        dataset:
          name: order
          description: It's the customers.
          materialized: false
          sql: SELECT customer_id FROM sales.customers
        """)
    view = dataset_files(load_datasets(shop, load_project(shop)))["_datasets/order/view.sql"]
    assert 'CREATE OR REPLACE VIEW curated."order" AS' in view
    assert "COMMENT ON VIEW curated.\"order\" IS 'It''s the customers.';" in view


def run_cli(project: Project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)


def test_a_source_change_that_breaks_a_dataset_is_flagged_by_plan_and_validate(shop):
    write_dataset(shop, "tiers", """
        dataset:
          name: tiers
          description: Customers per tier.
          sql: |
            SELECT customer_tier, COUNT(*) AS customers
            FROM sales.customers GROUP BY customer_tier
        """)
    assert run_cli(shop, "generate").exit_code == 0
    assert run_cli(shop, "plan").exit_code == 0
    path = shop.sources_dir / "customers.yaml"
    text = path.read_text(encoding="utf-8")
    tier = '      - {name: customer_tier, type: string(16), description: "bronze, silver, gold or platinum"}\n'
    assert tier in text
    text = text.replace("    table: customers\n", "    table: customers\n    allow_drop: [customer_tier]\n")
    path.write_text(text.replace(tier, ""), encoding="utf-8")
    planned = run_cli(shop, "plan")
    assert planned.exit_code == 1
    assert planned.output.splitlines()[-3:] == [
        "datasets/tiers.yaml:5:12: dataset.sql: unknown column customer_tier (a dataset this change would break)",
        "datasets/tiers.yaml:6:35: dataset.sql: unknown column customer_tier (a dataset this change would break)",
        "2 dataset error(s)",
    ]
    assert "customers: sales.customers schema version 1 -> 2" in planned.output
    validated = run_cli(shop, "validate")
    assert validated.exit_code == 1
    assert "datasets/tiers.yaml:5:12: dataset.sql: unknown column customer_tier" in validated.output


def test_generate_check_names_a_stale_dataset_file(shop):
    path = write_dataset(shop, "tiers", """
        dataset:
          name: tiers
          description: Customers per tier.
          sql: SELECT customer_tier FROM sales.customers
        """)
    assert run_cli(shop, "generate").exit_code == 0
    assert run_cli(shop, "generate", "--check").exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace("per tier", "by tier"), encoding="utf-8")
    check = run_cli(shop, "generate", "--check")
    assert check.exit_code == 1
    assert "differs: generated/_datasets/tiers/view.sql" in check.output


def test_a_run_stops_before_landing_when_a_dataset_no_longer_resolves(shop, tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    path = write_dataset(shop, "tiers", """
        dataset:
          name: tiers
          description: Customers per tier.
          sql: SELECT customer_tier FROM sales.customers
        """)
    assert run_cli(shop, "generate").exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace("customer_tier", "tier"), encoding="utf-8")
    result = run_cli(shop, "run", "customers")
    assert result.exit_code == 1
    assert result.output == ("customers: invalid datasets (see `onboard validate`): datasets/tiers.yaml:4:15: "
                             "dataset.sql: unknown column tier\n")
    assert not (tmp_path / "state/lake").exists()
