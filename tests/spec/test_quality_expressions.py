"""`expression` quality rules are checked at validate time (sqlglot's Spark dialect, no Spark): one Spark SQL
boolean over the source's own columns, with the error at the expression's position."""

from __future__ import annotations

import pytest

from framework.spec import load_project
from tests.conftest import errors_for, write_source

SOURCE = """
source:
  name: orders
  type: s3_file
  config: {prefix: incoming/orders/}
  schema:
    type: csv
    columns:
      - {name: order_id, type: string, nullable: false}
      - {name: Quantity, type: integer}
      - {name: total, type: double}
      - {name: paid, type: boolean}
  redshift: {schema: shop, table: orders}
  quality:
    rules:
      - {id: other, rule: not_null, column: order_id}
      - id: check
        rule: expression
        expression: EXPR
"""


def with_expression(expression: str) -> str:
    return SOURCE.replace("EXPR", expression)


@pytest.mark.parametrize("expression", [
    "total >= 0 AND quantity > 0",
    "QUANTITY BETWEEN 1 AND 10 OR total IS NULL",
    "paid",
    "\"coalesce(paid, false) and order_id rlike '^O[0-9]+$'\"",
    "\"exists(array(quantity, 1), x -> x > 0)\"",
])
def test_valid_expressions_validate(project, expression):
    write_source(project, "orders.yaml", with_expression(expression))
    [source] = load_project(project)
    assert source.definition.quality.rules[1].expression == expression.strip('"')


CASES = [
    ("unknown column", "total >= 0 AND quantty > 0",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression names 'quantty', which is not a column; "
      "did you mean 'quantity'? choose from: order_id, quantity, total, paid"]),
    ("incomplete", "'total >='",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression is not valid Spark SQL: an operand is "
      "missing at '>=' (line 1, column 8 of the expression)"]),
    ("two statements", "'total > 0; DROP TABLE shop.orders'",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression is not valid Spark SQL: Invalid "
      "expression / Unexpected token at 'DROP' (line 1, column 15 of the expression)"]),
    ("a query", "SELECT 1",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression is not valid Spark SQL: Invalid "
      "expression / Unexpected token at 'SELECT' (line 1, column 6 of the expression)"]),
    ("unclosed quote", "\"order_id = 'x\"",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression is not valid Spark SQL: a "
      "quoted string, name or comment is not closed"]),
    ("not a boolean", "total * 2",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: expression must be a boolean (a comparison, IN, "
      "IS NULL, ...), not 'total * 2'"]),
    ("qualified column", "o.total > 0",
     ["sources/x.yaml:18:21: source.quality.rules[1].expression: 'o.total': name columns without a qualifier"]),
]


@pytest.mark.parametrize(("expression", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_expressions_are_positioned_validation_errors(project, expression, expected):
    assert errors_for(project, with_expression(expression)) == expected
