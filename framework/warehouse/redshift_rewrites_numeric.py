"""Rewrites of Redshift numeric constructs for DuckDB: DECIMAL division, floats made text, TO_CHAR of numbers.

Integer division is DuckDB's ``integer_division`` setting (duckdb_adapter). Checked by tests/sql_corpus/casts.yaml.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from framework.warehouse import redshift_rewrites_json as json
from framework.warehouse.errors import NOT_SUPPORTED, NotSupportedLocally
from framework.warehouse.expression_builders import GENERATED, TEXT_TYPES, as_text, call, case, string_literal

_FLOAT_DIGITS = {"DOUBLE": 15, "FLOAT": 6}  # DOUBLE PRECISION and REAL: significant digits Redshift prints

_FLOAT_WORDS = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN", "-nan": "NaN"}


def _float_text(value: exp.Expression, digits: int) -> exp.Expression:
    printed = call("PRINTF", exp.Literal.string(f"%.{digits}g"), value.copy())
    return exp.Case(this=printed, ifs=[exp.If(this=exp.Literal.string(duck), true=exp.Literal.string(word))
                                       for duck, word in _FLOAT_WORDS.items()], default=printed.copy())


def _as_redshift_text(value: exp.Expression, otherwise: exp.Expression) -> exp.Expression:
    """``value`` as text the way Redshift prints a float (15 or 6 significant digits, like ``%.15g``) or a SUPER
    string (its characters), else ``otherwise``; DuckDB prints the shortest exact digits (0.3333333333333333 where
    Redshift has 0.333333333333333) and a JSON string with its quotes."""
    ifs = [exp.If(this=exp.EQ(this=call("TYPEOF", value.copy()), expression=exp.Literal.string(kind)),
                  true=_float_text(value, digits)) for kind, digits in _FLOAT_DIGITS.items()]
    ifs.append(exp.If(this=json.is_super(value), true=json.super_as_text(value)))
    return exp.Case(ifs=ifs, default=otherwise)


def values_as_redshift_text(expression: exp.Expression) -> None:
    """A DOUBLE PRECISION or REAL made text by a cast, ``||`` or CONCAT has Redshift's digits, a SUPER string its
    characters."""
    for node in list(expression.find_all(exp.Cast)):
        if node.to.this in TEXT_TYPES and not isinstance(node.this, exp.Literal) and not node.meta.get(GENERATED):
            node.replace(_as_redshift_text(node.this, node.copy()))
    for node in list(expression.find_all(exp.DPipe, exp.Concat)):
        operands = ("this", "expression") if isinstance(node, exp.DPipe) else ()
        for key in operands:
            operand = node.args.get(key)
            if operand is not None and not isinstance(operand, (exp.Literal, exp.DPipe)):
                node.set(key, _as_redshift_text(operand, as_text(operand.copy())))
        if isinstance(node, exp.Concat):
            node.set("expressions", [arg if isinstance(arg, exp.Literal) else
                                     _as_redshift_text(arg, as_text(arg.copy())) for arg in node.expressions])


DECIMAL_DIVISION = "division of a DECIMAL value"


def _is_decimal_not_float(value: exp.Expression, other: exp.Expression) -> exp.Expression:
    decimal = exp.Like(this=call("TYPEOF", value.copy()), expression=exp.Literal.string("DECIMAL%"))
    floating = exp.In(this=call("TYPEOF", other.copy()),
                      expressions=[exp.Literal.string("FLOAT"), exp.Literal.string("DOUBLE")])
    return exp.and_(decimal, exp.Not(this=floating))


def decimal_division_refused(expression: exp.Expression) -> None:
    """Redshift divides DECIMALs into a DECIMAL of scale max(4, s1 + p2 - s2 + 1); DuckDB into a DOUBLE. A type the
    query cannot name, so a division with a DECIMAL operand (and no FLOAT one) fails when it runs, with the
    refusal's message; DuckDB folds the test while planning, so other divisions cost nothing."""
    for node in list(expression.find_all(exp.Div)):
        left, right = node.this, node.expression
        refused = exp.or_(_is_decimal_not_float(left, right), _is_decimal_not_float(right, left))
        message = exp.Literal.string(f"{NOT_SUPPORTED}: {DECIMAL_DIVISION}")
        node.replace(exp.paren(case(refused, call("ERROR", message), node.copy()), copy=False))


_NUMERIC_TYPES = (*exp.DataType.INTEGER_TYPES, *exp.DataType.REAL_TYPES)


def _is_number(node: exp.Expression) -> bool:
    if isinstance(node, exp.Neg):
        return _is_number(node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string
    return isinstance(node, exp.Cast) and node.to.this in _NUMERIC_TYPES


def to_char_of_a_number(expression: exp.Expression) -> None:
    """TO_CHAR(number, '999.99') is refused: sqlglot reads every TO_CHAR as a date format (DuckDB's strftime).
    A number is a numeric literal or cast, or a format of digit placeholders (9, 0) without a date element."""
    for node in expression.find_all(exp.TimeToStr):
        fmt = string_literal(node.args.get("format")) or ""
        if _is_number(node.this) or (("9" in fmt or "0" in fmt) and "%" not in fmt):
            raise NotSupportedLocally("TO_CHAR of a number")


# Redshift math functions sqlglot does not know: name -> (accepted argument counts, DuckDB expression).
FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[[list[exp.Expression]], exp.Expression]]] = {
    "DEXP": ((1,), lambda args: exp.Exp(this=args[0])),
    "DLOG1": ((1,), lambda args: exp.Ln(this=args[0])),
    "DLOG10": ((1,), lambda args: call("LOG10", args[0])),
}
