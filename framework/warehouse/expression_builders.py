"""Small builders of sqlglot expressions shared by the Redshift-to-DuckDB rewrites."""

from __future__ import annotations

from sqlglot import exp

# The Redshift string types of a cast (DuckDB has one VARCHAR, without a length).
TEXT_TYPES = (exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.CHAR, exp.DType.NVARCHAR, exp.DType.NCHAR,
              exp.DType.BPCHAR)


def int_literal(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (``-2`` included), else None."""
    if isinstance(node, exp.Neg):
        inner = int_literal(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.this)
    return None


def string_literal(node: exp.Expression | None) -> str | None:
    """The text of a string literal, else None."""
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def call(name: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB function by name (rendered as written)."""
    return exp.Anonymous(this=name, expressions=list(args))


def case(condition: exp.Expression, then: exp.Expression, default: exp.Expression) -> exp.Expression:
    """``CASE WHEN condition THEN then ELSE default END``."""
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=default)


GENERATED = "onboard_generated"


def as_text(value: exp.Expression) -> exp.Expression:
    """``CAST(value AS VARCHAR)``, marked as written by a rewrite (``GENERATED`` in its meta) so that the rewrite of
    the casts an analyst writes leaves it alone."""
    cast = exp.cast(value, exp.DType.VARCHAR)
    cast.meta[GENERATED] = True
    return cast
