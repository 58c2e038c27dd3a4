"""`onboard validate` checks a column's datetime `format` without a JVM (framework.spec.datetime_patterns):
here that checker is compared with what Spark itself accepts for parsing, letter by letter and count by count."""

from __future__ import annotations

import string

import pytest

from framework.spec.datetime_patterns import pattern_problem
from onboard_glue.session import run_conf

pytestmark = pytest.mark.slow

# Every letter Java's formatter knows, repeated 1 to 7 times (and the longest runs some take); other letters once.
KNOWN = "GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZpg"
PATTERNS = [letter * count for letter in KNOWN for count in range(1, 8)] + [
    letter for letter in string.ascii_letters if letter not in KNOWN] + [
    "S" * 9, "S" * 10, "g" * 19, "g" * 20, "y" * 9, "Z" * 8] + [
    "'unclosed", "yyyy-MM-dd ]", "[HH:mm", "[[a]]", "d#", "d{", "d}", "''", "'it''s' d", "a [b]", "d!", "d%",
    "d\\", 'd"', "dé", "dd/MM/yyyy HH:mm", "MMM d yyyy", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "EEE, d MMM yyyy",
    "yyyy-MM-dd HH:mm:ss z", "yyyyMMdd", "d.M.yy H:m", "'at' HH", "MMM d yyyy at HH",
]


def spark_accepts(spark, pattern: str) -> bool:
    literal = pattern.replace("\\", "\\\\").replace("'", "\\'")
    try:
        spark.sql(f"SELECT to_timestamp('x', '{literal}')").collect()
    except Exception:  # noqa: BLE001 - IllegalArgumentException or SparkUpgradeException: Spark refused the pattern
        return False
    return True


def test_the_pattern_checker_accepts_exactly_what_spark_parses_with(spark):
    with run_conf(spark):
        spark_says = {pattern: spark_accepts(spark, pattern) for pattern in PATTERNS}
    checker_says = {pattern: pattern_problem(pattern) is None for pattern in PATTERNS}
    assert {p: ok for p, ok in checker_says.items() if ok != spark_says[p]} == {}
    assert sum(spark_says.values()) > 60  # the table holds valid patterns too, not only refusals
