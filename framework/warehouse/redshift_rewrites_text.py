"""Rewrites of Redshift string, conditional, numeric and JSON constructs that sqlglot transpiles wrongly for DuckDB.

Each rewrite changes a parsed Redshift statement in place so that DuckDB returns what Redshift's SQL reference
documents (checked by the corpus in tests/sql_corpus), or raises NotSupportedLocally where it cannot. They run
after ``redshift_support.refuse_unsupported``; the functions sqlglot does not know that are rewritten here are
listed in REWRITTEN_FUNCTIONS so that the refusal lets them through.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from framework.warehouse.errors import NotSupportedLocally


def _int_literal(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (``-2`` included), else None."""
    if isinstance(node, exp.Neg):
        inner = _int_literal(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.this)
    return None


def _string_literal(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def concat_null_is_null(expression: exp.Expression) -> None:
    """Redshift's CONCAT(a, b) is NULL when either is NULL (like ``||``); DuckDB's concat skips NULLs."""
    for node in list(expression.find_all(exp.Concat)):
        parts = node.expressions
        joined = parts[0].copy()
        for part in parts[1:]:
            joined = exp.DPipe(this=joined, expression=part.copy(), safe=True)
        node.replace(exp.paren(joined, copy=False) if len(parts) > 1 else joined)


def substring_from_before_start(expression: exp.Expression) -> None:
    """Redshift counts a start below 1 as positions before the string (``SUBSTRING('caterpillar', -2, 6)`` is
    ``cat``); DuckDB counts a negative start from the end of the string."""
    for node in list(expression.find_all(exp.Substring)):
        start, length = node.args.get("start"), node.args.get("length")
        if start is None:
            continue
        start_value, length_value = _int_literal(start), _int_literal(length)
        if length_value is not None and length_value < 0:
            raise NotSupportedLocally("SUBSTRING with a negative length")
        if start_value is not None and start_value >= 1:
            continue
        if start_value is not None:  # a literal start before the string: fold it
            node.set("start", exp.Literal.number(1))
            if length_value is not None:
                node.set("length", exp.Literal.number(max(start_value + length_value - 1, 0)))
            elif length is not None:
                end = exp.Sub(this=length.copy(), expression=exp.Literal.number(1 - start_value))
                node.set("length", _at_least_zero(end))
            continue
        before = exp.LT(this=start.copy(), expression=exp.Literal.number(1))
        node.set("start", exp.Case(ifs=[exp.If(this=before, true=exp.Literal.number(1))], default=start.copy()))
        if length is not None:
            end = exp.Sub(this=exp.Add(this=start.copy(), expression=length.copy()), expression=exp.Literal.number(1))
            node.set("length", exp.Case(ifs=[exp.If(this=before.copy(), true=_at_least_zero(end))],
                                        default=length.copy()))


def _at_least_zero(value: exp.Expression) -> exp.Expression:
    """``CASE WHEN value < 0 THEN 0 ELSE value END``: NULL stays NULL (DuckDB's GREATEST would skip it)."""
    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=negative, true=exp.Literal.number(0))], default=value)


_REGEXP_PARAMETERS = {"c": "c", "i": "i"}


def regexp_replace_every_match(expression: exp.Expression) -> None:
    """Redshift's REGEXP_REPLACE replaces every match (sqlglot reads it as PostgreSQL's, which replaces the
    first); a non-literal position and the 'p' (PCRE) parameter are refused."""
    for node in list(expression.find_all(exp.RegexpReplace)):
        node.set("single_replace", False)
        position = node.args.get("position")
        if position is not None and _int_literal(position) is None:
            raise NotSupportedLocally("REGEXP_REPLACE with a non-literal position")
        modifiers = node.args.get("modifiers")
        if modifiers is not None:
            text = _string_literal(modifiers)
            if text is None:
                raise NotSupportedLocally("REGEXP_REPLACE with non-literal parameters")
            unknown = sorted(set(text) - set(_REGEXP_PARAMETERS))
            if unknown:
                raise NotSupportedLocally(f"REGEXP_REPLACE parameter '{unknown[0]}'")


def similar_to_regex(pattern: str) -> str:
    """The regular expression (RE2, matched against the whole string) of a SQL ``SIMILAR TO`` pattern, as
    PostgreSQL and Redshift read it: ``%`` is any text, ``_`` any character, ``.``, ``^`` and ``$`` are literal,
    ``\\`` escapes the next character, bracket expressions are kept as they are."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            out.append(escaped if escaped.isalnum() else "\\" + escaped)
            i += 2
            continue
        if char == "[":
            end = i + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            end = pattern.find("]", end)
            if end == -1:
                raise NotSupportedLocally("SIMILAR TO pattern with an unclosed '['")
            out.append(pattern[i : end + 1])
            i = end + 1
            continue
        out.append({"%": ".*", "_": ".", ".": "\\.", "^": "\\^", "$": "\\$"}.get(char, char))
        i += 1
    return "".join(out)


def similar_to_as_regex(expression: exp.Expression) -> None:
    """DuckDB's SIMILAR TO takes a regular expression; Redshift's takes a SQL pattern (``%``, ``_``)."""
    for node in list(expression.find_all(exp.SimilarTo)):
        if isinstance(node.parent, exp.Escape):
            raise NotSupportedLocally("SIMILAR TO ... ESCAPE")
        pattern = _string_literal(node.expression)
        if pattern is None:
            raise NotSupportedLocally("SIMILAR TO with a non-literal pattern")
        node.set("expression", exp.Literal.string(similar_to_regex(pattern)))


def _quoted(value: exp.Expression, quote: str) -> exp.Expression:
    doubled = exp.Replace(this=value, expression=exp.Literal.string(quote),
                          replacement=exp.Literal.string(quote * 2))
    text = exp.DPipe(this=exp.Literal.string(quote), expression=doubled, safe=True)
    return exp.paren(exp.DPipe(this=text, expression=exp.Literal.string(quote), safe=True), copy=False)


def _text(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DType.VARCHAR)


def _utf8(value: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="ENCODE", expressions=[_text(value)])


# Functions sqlglot does not know, rewritten into DuckDB SQL of the same result: name -> builder of the arguments.
_FUNCTIONS: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    "REPLICATE": lambda args: exp.Repeat(this=args[0], times=args[1]),
    "OCTET_LENGTH": lambda args: exp.Anonymous(this="OCTET_LENGTH", expressions=[_utf8(args[0])]),
    "QUOTE_IDENT": lambda args: _quoted(_text(args[0]), '"'),
    "QUOTE_LITERAL": lambda args: _quoted(_text(args[0]), "'"),
}
_ARITY = {"REPLICATE": 2, "OCTET_LENGTH": 1, "QUOTE_IDENT": 1, "QUOTE_LITERAL": 1}

REWRITTEN_FUNCTIONS: frozenset[str] = frozenset(_FUNCTIONS)


def functions_by_name(expression: exp.Expression) -> None:
    """Functions sqlglot passes through by name (``exp.Anonymous``) that DuckDB spells or computes differently."""
    for node in list(expression.find_all(exp.Anonymous)):
        name = node.name.upper()
        if name in _FUNCTIONS:
            if len(node.expressions) != _ARITY[name]:
                raise NotSupportedLocally(f"{name}() with {len(node.expressions)} arguments")
            node.replace(_FUNCTIONS[name]([arg.copy() for arg in node.expressions]))


REWRITES: tuple[Callable[[exp.Expression], None], ...] = (
    concat_null_is_null,
    substring_from_before_start,
    regexp_replace_every_match,
    similar_to_as_regex,
    functions_by_name,
)
