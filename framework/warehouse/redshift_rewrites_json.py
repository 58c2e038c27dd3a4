"""Rewrites of Redshift's SUPER and JSON functions for DuckDB (SUPER is DuckDB JSON locally).

DuckDB's JSON reader is lenient (trailing commas, NaN), Redshift's is not: validity is tested strictly. Checked by
tests/sql_corpus/super_json.yaml.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from framework.warehouse.errors import NOT_SUPPORTED, NotSupportedLocally
from framework.warehouse.expression_builders import as_text, call, case, int_literal, string_literal

# DuckDB's JSON reader also takes trailing commas ([1,]) and NaN/Infinity, which are not JSON and which Redshift
# refuses: outside strings, valid JSON has no letters but those of true/false/null and exponents, and no comma
# before a closing bracket.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'

_NOT_STRICT_JSON = r"[A-DF-Za-df-z]|,\s*[\]}]"


def _strict_json_valid(value: exp.Expression) -> exp.Expression:
    """TRUE when ``value`` is JSON as Redshift reads it (RFC 8259), FALSE for other text, NULL for NULL."""
    without_strings = call("REGEXP_REPLACE", value.copy(), exp.Literal.string(_JSON_STRING), exp.Literal.string("0"),
                           exp.Literal.string("g"))
    stripped = call("REGEXP_REPLACE", without_strings, exp.Literal.string("true|false|null"), exp.Literal.string("0"),
                    exp.Literal.string("g"))
    lenient = call("REGEXP_MATCHES", stripped, exp.Literal.string(_NOT_STRICT_JSON))
    return exp.and_(call("JSON_VALID", value.copy()), exp.Not(this=exp.paren(lenient, copy=False)))


def _strict_json(value: exp.Expression) -> exp.Expression:
    """JSON_PARSE: the JSON value, or an error for text that is not JSON (as Redshift raises)."""
    message = exp.Literal.string("invalid JSON: not parsable by JSON_PARSE")
    return case(_strict_json_valid(value), call("JSON", value.copy()), call("ERROR", message))


def _json_kind(value: exp.Expression, kind: str) -> exp.Expression:
    """TRUE when ``value`` is valid JSON of DuckDB's ``kind`` (OBJECT, ARRAY), FALSE for other text, NULL for NULL;
    json_type runs only on valid JSON (it raises on other text)."""
    of_kind = exp.EQ(this=call("JSON_TYPE", value.copy()), expression=exp.Literal.string(kind))
    return case(_strict_json_valid(value), of_kind,
                case(exp.Is(this=value.copy(), expression=exp.Null()), exp.Null(), exp.false()))


def _null_if_invalid(document: exp.Expression, flag: exp.Expression | None, result: exp.Expression) -> exp.Expression:
    """The null_if_invalid argument of Redshift's JSON functions: NULL for invalid JSON instead of an error."""
    if flag is None or (isinstance(flag, exp.Boolean) and not flag.this):
        return result
    if not isinstance(flag, exp.Boolean):
        raise NotSupportedLocally("JSON function with a non-literal null_if_invalid")
    return case(_strict_json_valid(document), result, exp.Null())


def _array_element_text(args: list[exp.Expression]) -> exp.Expression:
    """JSON_EXTRACT_ARRAY_ELEMENT_TEXT(json, pos [, null_if_invalid]): zero-based; NULL when pos is negative or
    beyond the array (DuckDB's '$[-1]' would count from the end)."""
    document, position = args[0], args[1]
    value = int_literal(position)
    if value is not None:
        element = exp.Null() if value < 0 else call("JSON_EXTRACT_STRING", document.copy(),
                                                    exp.Literal.string(f"$[{value}]"))
    else:
        path = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("$["), expression=as_text(position.copy()), safe=True),
                         expression=exp.Literal.string("]"), safe=True)
        element = case(exp.LT(this=position.copy(), expression=exp.Literal.number(0)), exp.Null(),
                       call("JSON_EXTRACT_STRING", document.copy(), path))
    return _null_if_invalid(document, args[2] if len(args) > 2 else None, element)


_JSON_TYPE_NAMES = {"OBJECT": "object", "ARRAY": "array", "VARCHAR": "string", "BOOLEAN": "boolean", "NULL": "null",
                    "BIGINT": "number", "UBIGINT": "number", "DOUBLE": "number"}


def _json_type_is(value: exp.Expression, kind: str) -> exp.Expression:
    return exp.EQ(this=call("JSON_TYPE", value), expression=exp.Literal.string(kind))


def _json_typeof(value: exp.Expression) -> exp.Expression:
    kind = call("JSON_TYPE", value)
    return exp.Case(this=kind, ifs=[exp.If(this=exp.Literal.string(duck), true=exp.Literal.string(name))
                                    for duck, name in _JSON_TYPE_NAMES.items()])


def is_super(value: exp.Expression) -> exp.Expression:
    """``typeof(value) = 'JSON'``: a SUPER value locally (folded by DuckDB while planning)."""
    return exp.EQ(this=call("TYPEOF", value.copy()), expression=exp.Literal.string("JSON"))


def _super_string(value: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """(is a SUPER string, its text): the cast to JSON lets DuckDB bind the branch for a value of another type."""
    as_json = exp.cast(value.copy(), exp.DType.JSON)
    is_string = exp.EQ(this=call("JSON_TYPE", as_json), expression=exp.Literal.string("VARCHAR"))
    return is_string, call("JSON_EXTRACT_STRING", as_json.copy(), exp.Literal.string("$"))


def super_as_text(value: exp.Expression) -> exp.Expression:
    """A SUPER made text: a string is its characters (``"abc"`` becomes ``abc``), anything else its JSON text."""
    is_string, text = _super_string(value)
    return case(is_string, text, as_text(value.copy()))


SUPER_COMPARED_WITH_TEXT = "comparison of a SUPER value that is not a string with text"


def super_compared_with_text(value: exp.Expression,
                             compare: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """A SUPER compared with a string literal: a SUPER string by its characters; another SUPER value fails when it
    runs (Redshift's dynamic typing of such comparisons is not reproduced)."""
    is_string, text = _super_string(value)
    refused = call("ERROR", exp.Literal.string(f"{NOT_SUPPORTED}: {SUPER_COMPARED_WITH_TEXT}"))
    return case(is_string, compare(text), refused)


def json_extract_path_with_flag(expression: exp.Expression) -> None:
    """sqlglot reads JSON_EXTRACT_PATH_TEXT(json, 'a', 'b', true) as ``json ->> 'a'``, dropping every path element
    after the first when null_if_invalid is given; rebuild the whole path."""
    for node in list(expression.find_all(exp.JSONExtractScalar)):
        rest = node.args.get("expressions")
        if not rest:
            continue
        elements = [node.expression, *rest]
        flag = elements.pop() if isinstance(elements[-1], exp.Boolean) else None
        keys = [string_literal(element) for element in elements]
        if any(key is None for key in keys):
            raise NotSupportedLocally("JSON_EXTRACT_PATH_TEXT with a non-literal path element")
        path = "$" + "".join('."' + key.replace('"', '\\"') + '"' for key in keys if key is not None)
        extracted = exp.JSONExtractScalar(this=node.this.copy(), expression=exp.Literal.string(path))
        node.replace(_null_if_invalid(node.this, flag, extracted))


def json_parse_strictly(expression: exp.Expression) -> None:
    """JSON_PARSE of text that is not JSON (a trailing comma, NaN) fails, as in Redshift."""
    for node in list(expression.find_all(exp.ParseJSON)):
        node.replace(_strict_json(node.this))


def super_subscripts_from_zero(expression: exp.Expression) -> None:
    """A Redshift subscript ``s.items[0]`` navigates a SUPER (JSON locally), whose arrays count from 0 in DuckDB
    too; sqlglot would add 1 as for a DuckDB LIST (every Redshift array is a SUPER)."""
    for node in expression.find_all(exp.Bracket):
        node.set("offset", 1)


# Redshift JSON functions sqlglot does not know: name -> (accepted argument counts, DuckDB expression of the arguments).
FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[[list[exp.Expression]], exp.Expression]]] = {
    "JSON_EXTRACT_ARRAY_ELEMENT_TEXT": ((2, 3), _array_element_text),
    "JSON_ARRAY_LENGTH": ((1, 2), lambda args: _null_if_invalid(args[0], args[1] if len(args) > 1 else None,
                                                                call("JSON_ARRAY_LENGTH", args[0].copy()))),
    "GET_ARRAY_LENGTH": ((1,), lambda args: call("JSON_ARRAY_LENGTH", args[0])),
    "IS_VALID_JSON": ((1,), lambda args: _json_kind(args[0], "OBJECT")),
    "IS_VALID_JSON_ARRAY": ((1,), lambda args: _json_kind(args[0], "ARRAY")),
    "CAN_JSON_PARSE": ((1,), lambda args: _strict_json_valid(args[0])),
    "JSON_SERIALIZE": ((1,), lambda args: as_text(args[0])),
    "IS_OBJECT": ((1,), lambda args: _json_type_is(args[0], "OBJECT")),
    "IS_SCALAR": ((1,), lambda args: exp.Not(this=exp.In(this=call("JSON_TYPE", args[0]), expressions=[
        exp.Literal.string(kind) for kind in ("OBJECT", "ARRAY")]))),
    "JSON_TYPEOF": ((1,), lambda args: _json_typeof(args[0])),
    "IS_VARCHAR": ((1,), lambda args: _json_type_is(args[0], "VARCHAR")),
    "IS_BOOLEAN": ((1,), lambda args: _json_type_is(args[0], "BOOLEAN")),
}

REWRITES: tuple[Callable[[exp.Expression], None], ...] = (
    json_extract_path_with_flag,
    super_subscripts_from_zero,
    json_parse_strictly,
)
