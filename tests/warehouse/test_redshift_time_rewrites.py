"""Redshift date/time format strings, TRUNC, LISTAGG, AVG/MEDIAN and window frames on the local warehouse,
over table columns (the corpus in tests/sql_corpus checks the documented examples over literals)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.warehouse import DuckDBWarehouse
from framework.warehouse.errors import NotSupportedLocally, WarehouseError
from framework.warehouse.redshift_datetime_format import format_elements, redshift_format, strptime_format
from framework.warehouse.script import short_text

SHOP = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (order_id INTEGER, category VARCHAR(64), quantity INTEGER, price DECIMAL(8,2),
                          weight DOUBLE PRECISION, placed_at TIMESTAMP, placed_on VARCHAR(16));
INSERT INTO shop.orders VALUES
  (1, 'Home & Kitchen', 1, 1.50, 1.0, '2024-11-15 08:30:00', 'Nov 15 2024'),
  (2, 'Books', 2, 2.25, 2.0, '2024-11-15 23:59:59', 'Nov 15 2024'),
  (3, 'Home & Kitchen', 2, 2.25, 4.0, '2024-11-16 00:00:00', 'Nov 16 2024'),
  (4, '', 4, NULL, 10.0, '2024-12-31 12:00:00', 'Dec 31 2024');
"""


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    warehouse.execute_script(SHOP)
    return warehouse


# -- format strings -----------------------------------------------------------------------------------------
def test_format_elements_match_longest_first_and_case_insensitively() -> None:
    assert format_elements('HH24:MI "at" Mon yyyy') == [
        ("element", "HH24"), ("text", ":"), ("element", "MI"), ("text", " "), ("text", "at"), ("text", " "),
        ("element", "Mon"), ("text", " "), ("element", "yyyy")]


def test_redshift_format_recovers_what_sqlglot_rewrote() -> None:
    # sqlglot's Redshift reader turns 'MONTH-DY-DD' into '%B-%uY-%d' (D read inside DY)
    assert redshift_format("%B-%uY-%d-%Y %I:%MPM") == "MONTH-DY-DD-YYYY HH12:MIPM"
    assert redshift_format("Mon %d %Y") == "Mon DD YYYY"


def test_strptime_format_translates_or_names_the_element() -> None:
    assert strptime_format("Mon DD YYYY HH12:MI:SS AM", "TO_DATE") == "%b %d %Y %I:%M:%S %p"
    assert strptime_format("YYYY%MM", "TO_DATE") == "%Y%%%m"
    with pytest.raises(NotSupportedLocally) as refused:
        strptime_format("YYYY-Q", "TO_DATE")
    assert str(refused.value) == "not supported by the local warehouse: TO_DATE format element 'Q'"


@pytest.mark.parametrize(("fmt", "element"), [("YYYY TZ", "TZ"), ("FMMonth", "FM"), ("DDTH", "TH"), ("RM", "RM")])
def test_to_char_refuses_an_element_it_does_not_translate(warehouse: DuckDBWarehouse, fmt: str, element: str) -> None:
    with pytest.raises(WarehouseError) as refused:
        warehouse.query(f"SELECT TO_CHAR(GETDATE(), '{fmt}') AS t")
    assert refused.value.message == f"not supported by the local warehouse: TO_CHAR format element '{element}'"


def test_to_char_with_a_column_format_is_refused(shop: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as refused:
        shop.query("SELECT TO_CHAR(placed_at, category) FROM shop.orders")
    assert refused.value.message == ("not supported by the local warehouse: TO_CHAR with a format that is not a "
                                     "string literal")


# -- over table columns -------------------------------------------------------------------------------------
def test_trunc_of_a_timestamp_column_is_its_date_and_of_a_number_truncates(shop: DuckDBWarehouse) -> None:
    assert shop.query("SELECT TRUNC(placed_at), TRUNC(price), TRUNC(weight / 3) FROM shop.orders WHERE order_id = 2") \
        == (["trunc", "trunc", "trunc"], [(datetime.date(2024, 11, 15), Decimal("2"), 0.0)])


def test_a_view_using_trunc_still_answers_after_the_warehouse_is_reopened(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with DuckDBWarehouse(path) as first:
        first.execute_script(SHOP + "CREATE VIEW shop.days AS SELECT TRUNC(placed_at) AS day, COUNT(*) AS n "
                                    "FROM shop.orders GROUP BY 1;")
    with DuckDBWarehouse(path, read_only=True) as again:
        assert again.query("SELECT day, n FROM shop.days ORDER BY day") == (["day", "n"], [
            (datetime.date(2024, 11, 15), 2), (datetime.date(2024, 11, 16), 1), (datetime.date(2024, 12, 31), 1)])


def test_getdate_and_sysdate_are_named_timestamp_and_getdate_has_whole_seconds(warehouse: DuckDBWarehouse) -> None:
    columns, [(getdate, sysdate)] = warehouse.query("SELECT GETDATE(), SYSDATE")
    assert columns == ["timestamp", "timestamp"]  # r_GETDATE.html, r_SYSDATE.html
    assert getdate.microsecond == 0 and isinstance(sysdate, datetime.datetime)


def test_listagg_distinct_lists_each_category_once(shop: DuckDBWarehouse) -> None:
    # the query: it returned "(Home & Kitchen, ', ')" tuples; the empty category is skipped
    assert shop.query("SELECT LISTAGG(DISTINCT category, ', ') WITHIN GROUP (ORDER BY category) AS categories "
                      "FROM shop.orders") == (["categories"], [("Books, Home & Kitchen",)])


def test_to_date_reads_month_names_from_a_column(shop: DuckDBWarehouse) -> None:
    assert shop.query("SELECT DISTINCT TO_DATE(placed_on, 'Mon DD YYYY') AS d FROM shop.orders ORDER BY d") == (
        ["d"], [(datetime.date(2024, 11, 15),), (datetime.date(2024, 11, 16),), (datetime.date(2024, 12, 31),)])


def test_to_char_of_a_timestamp_column(shop: DuckDBWarehouse) -> None:
    assert shop.query("SELECT TO_CHAR(placed_at, 'Dy, DD Mon YYYY HH12:MI AM') FROM shop.orders "
                      "WHERE order_id = 1") == (["to_char"], [("Fri, 15 Nov 2024 08:30 AM",)])


def test_avg_of_a_float_column_is_a_float_and_of_an_integer_column_a_truncated_bigint(shop: DuckDBWarehouse) -> None:
    assert shop.query("SELECT AVG(weight) AS a FROM shop.orders") == (["a"], [(4.25,)])
    # the column's type comes from the warehouse: Redshift's AVG of an INTEGER is a BIGINT, 9 / 4 = 2
    assert shop.query("SELECT AVG(quantity) AS a FROM shop.orders") == (["a"], [(2,)])
    shop.execute_script("CREATE VIEW shop.quantities AS SELECT category, quantity FROM shop.orders")
    assert shop.query("SELECT q.category, AVG(q.quantity) AS a FROM shop.quantities q WHERE q.category <> '' "
                      "GROUP BY 1 ORDER BY 1") == (["category", "a"], [("Books", 2), ("Home & Kitchen", 1)])  # (1 + 2) / 2 = 1
    # a script (a dataset's view) is typed against the tables as they are when it starts
    shop.execute_script("CREATE VIEW shop.average_quantity AS SELECT AVG(quantity) AS a FROM shop.orders")
    assert shop.query("SELECT a FROM shop.average_quantity") == (["a"], [(2,)])


def test_avg_of_a_decimal_column_is_refused(shop: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as refused:
        shop.query("SELECT AVG(price) AS a FROM shop.orders")
    assert "not supported by the local warehouse: AVG of DECIMAL(8,2)" in refused.value.message


def test_datediff_in_weeks_counts_boundaries_or_refuses_when_the_first_weekday_matters(
        warehouse: DuckDBWarehouse) -> None:
    assert warehouse.query("SELECT DATEDIFF(week, DATE '2026-01-03', DATE '2026-01-06') AS saturday_to_tuesday, "
                           "DATEDIFF(wk, DATE '2026-01-12', DATE '2026-01-01') AS back") == (
        ["saturday_to_tuesday", "back"], [(1, -2)])
    with pytest.raises(WarehouseError) as refused:  # Saturday to Sunday: 1 if weeks start on Sunday, else 0
        warehouse.query("SELECT DATEDIFF(week, DATE '2026-01-03', DATE '2026-01-04')")
    assert ("not supported by the local warehouse: DATEDIFF(week) where weeks starting on Sunday and on Monday "
            "count differently") in refused.value.message


def test_median_of_a_decimal_column_is_refused(shop: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as refused:
        shop.query("SELECT MEDIAN(price) FROM shop.orders")
    assert "not supported by the local warehouse: MEDIAN of DECIMAL(8,2)" in refused.value.message


def test_an_ordered_aggregate_window_without_a_frame_fails_as_in_redshift(shop: DuckDBWarehouse,
                                                                         tmp_path: Path) -> None:
    sql = "SELECT SUM(quantity) OVER (ORDER BY order_id) AS running FROM shop.orders"
    with pytest.raises(WarehouseError) as refused:
        shop.query(sql)
    assert refused.value.message == "Aggregate window functions with an ORDER BY clause require a frame clause"
    assert shop.query(sql.replace("order_id)", "order_id ROWS UNBOUNDED PRECEDING)")) == (
        ["running"], [(1,), (3,), (5,), (9,)])


def test_a_range_frame_fails_as_in_redshift(shop: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as refused:
        shop.query("SELECT SUM(quantity) OVER (ORDER BY order_id RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) "
                   "FROM shop.orders")
    assert refused.value.message == "Redshift window frames are ROWS frames: RANGE is not supported"


def test_onboard_query_prints_the_frame_rule_and_exits_1(tmp_path: Path) -> None:
    from framework.project import Project

    with DuckDBWarehouse(Project(tmp_path).warehouse_path) as warehouse:
        warehouse.execute_script(SHOP)
    sql = "SELECT FIRST_VALUE(category) OVER (PARTITION BY quantity ORDER BY order_id) FROM shop.orders"
    invoked = CliRunner().invoke(main, ["--project", str(tmp_path), "query", sql])
    assert invoked.exit_code == 1
    assert " ".join(invoked.stderr.split()) == (
        f"query failed: statement 1 ({short_text(sql)}): Aggregate window functions with an ORDER BY clause require a "
        "frame clause")
