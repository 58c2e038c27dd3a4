"""The string, numeric and JSON rewrites of Redshift SQL for DuckDB (framework/warehouse/redshift_rewrites_text.py).

Results against Redshift's documented examples are checked by the corpus (tests/sql_corpus); these tests pin the
pieces the corpus cannot show: the SIMILAR TO translation, the exact refusals, errors Redshift raises, the SQL
written for the comparisons of text and that a join on it stays a hash join.
"""

from __future__ import annotations

import pytest

from framework.warehouse import DuckDBWarehouse
from framework.warehouse.duckdb_sql import parse_redshift, to_duckdb
from framework.warehouse.errors import NotSupportedLocally, WarehouseError
from framework.warehouse.redshift_rewrites_text import similar_to_regex


@pytest.fixture
def warehouse():
    warehouse = DuckDBWarehouse(":memory:")
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize(("pattern", "regex"), [
    ("abc", "abc"),
    ("%(b|d)%", ".*(b|d).*"),
    ("a_c", "a.c"),
    ("a.c", "a\\.c"),
    ("^a$", "\\^a\\$"),
    ("[a-c]%", "[a-c].*"),
    ("[]%]x", "[]%]x"),
    ("100\\%", "100\\%"),
    ("a\\_b", "a\\_b"),
    ("\\d", "d"),
])
def test_similar_to_pattern_becomes_the_regular_expression_redshift_means(pattern: str, regex: str) -> None:
    assert similar_to_regex(pattern) == regex


def test_similar_to_with_an_unclosed_bracket_is_refused() -> None:
    with pytest.raises(NotSupportedLocally, match=r"^not supported by the local warehouse: SIMILAR TO pattern "
                                                  r"with an unclosed '\['$"):
        similar_to_regex("[abc")


@pytest.mark.parametrize(("sql", "construct"), [
    ("SELECT REGEXP_REPLACE(s, 'a', 'b', 1, 'p') FROM t", "REGEXP_REPLACE parameter 'p'"),
    ("SELECT REGEXP_REPLACE(s, 'a', 'b', n) FROM t", "REGEXP_REPLACE with a non-literal position"),
    ("SELECT REGEXP_SUBSTR(s, 'a', 1, 1, 'p') FROM t", "REGEXP_SUBSTR parameter 'p'"),
    ("SELECT TO_CHAR(125.8, '999.99')", "TO_CHAR of a number"),
    ("SELECT TO_CHAR(amount, 'FM999,999.00') FROM t", "TO_CHAR of a number"),
    ("SELECT SUBSTRING(s, 2, -1) FROM t", "SUBSTRING with a negative length"),
    ("SELECT s SIMILAR TO p FROM t", "SIMILAR TO with a non-literal pattern"),
    ("SELECT s SIMILAR TO 'a' ESCAPE '#' FROM t", "SIMILAR TO ... ESCAPE"),
    ("SELECT JSON_EXTRACT_PATH_TEXT(j, k, 'b', true) FROM t", "JSON_EXTRACT_PATH_TEXT with a non-literal path element"),
    ("SELECT JSON_ARRAY_LENGTH(j, flag) FROM t", "JSON function with a non-literal null_if_invalid"),
    ("SELECT REPLICATE('a')", "REPLICATE() with 1 arguments"),
    ("SELECT TO_NUMBER('12', '99')", "TO_NUMBER()"),
    ("SELECT CBRT(27)", "CBRT()"),
    ("SELECT SOUNDEX('a')", "SOUNDEX()"),
    ("SELECT SHA2(s, 512) FROM t", "SHA2 with 512 bits"),
    ("SELECT SHA2(s, n) FROM t", "SHA2 with a non-literal bit length"),
    ("SELECT SPLIT_PART(s, ',', 0) FROM t", "SPLIT_PART with a position below 1"),
])
def test_refusals_name_the_construct(sql: str, construct: str) -> None:
    with pytest.raises(NotSupportedLocally) as raised:
        to_duckdb(parse_redshift(sql))
    assert str(raised.value) == f"not supported by the local warehouse: {construct}"


def test_a_date_format_to_char_is_not_refused_here() -> None:
    assert "STRFTIME" in to_duckdb(parse_redshift("SELECT TO_CHAR(d, 'YYYY-MM') FROM t")).upper()


@pytest.mark.parametrize("text", ["[1,2,]", "{\"a\":1,}", "{\"a\":NaN}", "Infinity"])
def test_json_parse_of_text_that_is_not_json_fails_as_in_redshift(warehouse: DuckDBWarehouse, text: str) -> None:
    with pytest.raises(WarehouseError, match="invalid JSON: not parsable by JSON_PARSE"):
        warehouse.query(f"SELECT JSON_PARSE('{text}') AS j")


def test_json_parse_keeps_commas_and_letters_inside_strings(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.query("""SELECT JSON_SERIALIZE(JSON_PARSE('{"a":"x,]","NaN":[true,false,null,-1]}')) AS j""") \
        == (["j"], [('{"a":"x,]","NaN":[true,false,null,-1]}',)])


def test_text_comparisons_disregard_trailing_blanks_only_for_text() -> None:
    sql = to_duckdb(parse_redshift("SELECT * FROM t WHERE n = 1 AND a.k <> b.k"))
    assert sql == (
        "SELECT * FROM t WHERE n = 1 AND (CASE WHEN TYPEOF(a.k) = 'VARCHAR' AND TYPEOF(b.k) = 'VARCHAR' "
        "THEN RTRIM(CAST(a.k AS TEXT), ' ') <> RTRIM(CAST(b.k AS TEXT), ' ') ELSE a.k <> b.k END)"
    )


def test_a_comparison_with_a_string_literal_also_reads_a_super_string() -> None:
    sql = to_duckdb(parse_redshift("SELECT * FROM t WHERE code = 'NY '"))
    assert sql == (
        "SELECT * FROM t WHERE (CASE WHEN TYPEOF(code) = 'VARCHAR' THEN RTRIM(CAST(code AS TEXT), ' ') = 'NY' "
        "WHEN TYPEOF(code) = 'JSON' THEN CASE WHEN JSON_TYPE(CAST(code AS JSON)) = 'VARCHAR' "
        "THEN RTRIM(CAST(JSON_EXTRACT_STRING(CAST(code AS JSON), '$') AS TEXT), ' ') = 'NY' "
        "ELSE ERROR('not supported by the local warehouse: comparison of a SUPER value that is not a string with "
        "text') END ELSE code = 'NY ' END)"
    )


def test_a_super_number_compared_with_text_is_refused_when_it_runs(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError, match="not supported by the local warehouse: comparison of a SUPER value "
                                             "that is not a string with text"):
        warehouse.query("""WITH t AS (SELECT JSON_PARSE('{"n":5}') AS s) SELECT COUNT(*) FROM t WHERE t.s.n = '5'""")


def test_assignments_of_update_and_merge_are_not_comparisons(warehouse: DuckDBWarehouse) -> None:
    assert to_duckdb(parse_redshift("UPDATE t SET a = 'x', b = c WHERE d = e")) == (
        "UPDATE t SET a = 'x', b = c WHERE (CASE WHEN TYPEOF(d) = 'VARCHAR' AND TYPEOF(e) = 'VARCHAR' "
        "THEN RTRIM(CAST(d AS TEXT), ' ') = RTRIM(CAST(e AS TEXT), ' ') ELSE d = e END)"
    )
    warehouse.execute_script(
        "CREATE TABLE t (id VARCHAR(5), name VARCHAR(10)); INSERT INTO t VALUES ('k1  ', 'old');"
        "CREATE TABLE s (id VARCHAR(5), name VARCHAR(10)); INSERT INTO s VALUES ('k1', 'new'), ('k2', 'added');"
        "UPDATE t SET name = 'older' WHERE id = 'k1';"
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name "
        "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name);"
    )
    assert warehouse.query("SELECT id, name FROM t ORDER BY name") == (["id", "name"], [("k2", "added"), ("k1  ", "new")])


def test_a_join_on_text_keys_stays_a_hash_join(warehouse: DuckDBWarehouse) -> None:
    warehouse.execute_script("CREATE TABLE a (k VARCHAR(10), n INTEGER); CREATE TABLE b (k VARCHAR(10), d DATE);"
                             "INSERT INTO a VALUES ('x  ', 1), ('y', 2); INSERT INTO b VALUES ('x', '2020-01-01');")
    sql = "SELECT a.n FROM a JOIN b ON a.k = b.k AND b.d >= '2019-12-31'"
    plan = duckdb_plan(warehouse, to_duckdb(parse_redshift(sql)))
    assert "Hash Join" in plan and "rtrim" in plan
    assert warehouse.query(sql) == (["n"], [(1,)])


def duckdb_plan(warehouse: DuckDBWarehouse, duckdb_sql: str) -> str:
    return "\n".join(row[1] for row in warehouse._connection.execute(f"EXPLAIN {duckdb_sql}").fetchall())


def test_integer_division_truncates_and_double_division_does_not(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.query("SELECT 7 / 2 AS a, -7 / 2 AS b, 7 / 2.0::FLOAT8 AS c, CAST(3 AS DECIMAL(5,2)) / 2e0 AS d") \
        == (["a", "b", "c", "d"], [(3, -3, 3.5, 1.5)])


@pytest.mark.parametrize("sql", ["SELECT 7 / 2.0", "SELECT SUM(a) / COUNT(*) FROM t", "SELECT COUNT(*) / SUM(a) FROM t"])
def test_division_of_a_decimal_fails_when_it_runs(warehouse: DuckDBWarehouse, sql: str) -> None:
    warehouse.execute_script("CREATE TABLE t (a DECIMAL(8,2)); INSERT INTO t VALUES (1.50);")
    with pytest.raises(WarehouseError, match="not supported by the local warehouse: division of a DECIMAL value"):
        warehouse.query(sql)


def test_a_value_made_text_prints_floats_and_super_strings_as_redshift_does() -> None:
    assert to_duckdb(parse_redshift("SELECT b || 'x' FROM t")) == (
        "SELECT CASE WHEN TYPEOF(b) = 'DOUBLE' THEN CASE PRINTF('%.15g', b) WHEN 'inf' THEN 'Infinity' "
        "WHEN '-inf' THEN '-Infinity' WHEN 'nan' THEN 'NaN' WHEN '-nan' THEN 'NaN' ELSE PRINTF('%.15g', b) END "
        "WHEN TYPEOF(b) = 'FLOAT' THEN CASE PRINTF('%.6g', b) WHEN 'inf' THEN 'Infinity' WHEN '-inf' THEN '-Infinity' "
        "WHEN 'nan' THEN 'NaN' WHEN '-nan' THEN 'NaN' ELSE PRINTF('%.6g', b) END "
        "WHEN TYPEOF(b) = 'JSON' THEN CASE WHEN JSON_TYPE(CAST(b AS JSON)) = 'VARCHAR' "
        "THEN JSON_EXTRACT_STRING(CAST(b AS JSON), '$') ELSE CAST(b AS TEXT) END ELSE CAST(b AS TEXT) END || 'x' FROM t"
    )


def test_rewrites_leave_the_sql_other_rewrites_wrote_alone() -> None:
    sql = to_duckdb(parse_redshift("SELECT x FROM t WHERE CAST(n AS VARCHAR(3)) = 'abc'"))
    assert "TYPEOF(TYPEOF" not in sql and "TYPEOF(PRINTF" not in sql
    # the user's cast is printed like Redshift's in each of its six places (type tests and branches of the comparison),
    # and none of those is rewritten again
    assert sql.count("PRINTF('%.15g', n)") == 6 * 2
