"""Redshift's datetime format strings (TO_CHAR, TO_DATE, TO_TIMESTAMP) translated for DuckDB.

Redshift takes PostgreSQL's template patterns (``'MON-DD-YYYY HH12:MIPM'``); DuckDB takes strftime codes.
``format_elements`` splits a Redshift format into elements and literal text; ``to_char_pieces`` turns the
elements into DuckDB expressions of a timestamp (text elements keep Redshift's case and its padding of
month and day names to nine characters); ``strptime_format`` builds the DuckDB strptime format for parsing.
An element without a faithful translation raises NotSupportedLocally naming the function and the element.

sqlglot rewrites a Redshift format into its own strftime notation while parsing, mangling elements it does
not know (``DY`` becomes ``%uY``); ``redshift_format`` recovers the text Redshift was given.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.time import format_time

from framework.warehouse.errors import NotSupportedLocally

# Every element Redshift documents (r_FORMAT_strings.html), longest first so that HH24 wins over HH.
ELEMENTS = (
    "Y,YYY", "HH24", "HH12", "IYYY", "YYYY", "IDDD", "A.M.", "P.M.", "B.C.", "A.D.", "MONTH", "YYY", "IYY",
    "DDD", "DAY", "MON", "TZ", "OF", "HH", "MI", "SS", "MS", "US", "AM", "PM", "BC", "AD", "YY", "IY", "CC",
    "MM", "RM", "WW", "IW", "DD", "DY", "ID", "FM", "TH", "SP", "FX", "TM", "SSSS", "Y", "I", "Q", "W", "D", "J",
)
_BY_LENGTH = sorted(ELEMENTS, key=len, reverse=True)

# Elements whose spelling sets the case of the text they print: MONTH / Month / month.
_CASED = {"MONTH", "MON", "DAY", "DY", "AM", "PM", "A.M.", "P.M."}

# Elements whose text strftime prints as Redshift does (numbers, zero-padded to Redshift's width).
_STRFTIME = {
    "YYYY": "%Y", "YY": "%y", "IYYY": "%G", "MM": "%m", "DD": "%d", "DDD": "%j", "HH24": "%H", "HH12": "%I",
    "HH": "%I", "MI": "%M", "SS": "%S", "MS": "%g", "US": "%f", "IW": "%V",
}

# For parsing (strptime): elements DuckDB reads as Redshift does (names case-insensitively).
_STRPTIME = {
    "YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "DDD": "%j", "HH24": "%H", "HH12": "%I", "HH": "%I",
    "MI": "%M", "SS": "%S", "MS": "%g", "US": "%f", "MON": "%b", "MONTH": "%B", "DY": "%a", "DAY": "%A",
    "AM": "%p", "PM": "%p",
}


def redshift_format(sqlglot_format: str) -> str:
    """The Redshift format text that sqlglot's Redshift reader turned into ``sqlglot_format``."""
    return format_time(sqlglot_format, Redshift.INVERSE_TIME_MAPPING, Redshift.INVERSE_TIME_TRIE) or ""


def format_elements(fmt: str) -> list[tuple[str, str]]:
    """Split a Redshift format into ``("element", spelling)`` and ``("text", literal)`` parts.

    Elements match case-insensitively (``yyyy`` is ``YYYY``); double-quoted text is literal; any other
    character is copied as it is, as Redshift does."""
    parts: list[tuple[str, str]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            parts.append(("text", fmt[i + 1:end]))
            i = end + 1
            continue
        element = next((e for e in _BY_LENGTH if fmt[i:i + len(e)].upper() == e), None)
        if element is None:
            parts.append(("text", fmt[i]))
            i += 1
        else:
            parts.append(("element", fmt[i:i + len(element)]))
            i += len(element)
    return parts


def _cased(text: exp.Expression, spelling: str) -> exp.Expression:
    """Redshift's case rule: ``MON`` upper case, ``mon`` lower case, ``Mon`` as the name is spelled."""
    if spelling[:2].isupper() or (len(spelling) == 1 and spelling.isupper()):
        return exp.Upper(this=text)
    if spelling[0].islower():
        return exp.Lower(this=text)
    return text


def _strftime(value: exp.Expression, code: str) -> exp.Expression:
    return exp.Anonymous(this="STRFTIME", expressions=[value.copy(), exp.Literal.string(code)])


def _number(expression: exp.Expression, width: int = 0) -> exp.Expression:
    text = exp.cast(expression, exp.DType.VARCHAR)
    return exp.Anonymous(this="LPAD", expressions=[text, exp.Literal.number(width), exp.Literal.string("0")]) \
        if width else text


def _part(name: str, value: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=[value.copy()])


def _week_of(day: exp.Expression) -> exp.Expression:
    """(day - 1) // 7 + 1: the week a 1-based day number falls in, weeks starting on day 1."""
    days_before = exp.Paren(this=exp.Sub(this=day, expression=exp.Literal.number(1)))
    week = exp.Paren(this=exp.IntDiv(this=days_before, expression=exp.Literal.number(7)))
    return exp.Add(this=week, expression=exp.Literal.number(1))


def _element_expression(value: exp.Expression, spelling: str, function: str) -> exp.Expression:
    element = spelling.upper()
    if element in _STRFTIME:
        return _strftime(value, _STRFTIME[element])
    if element in ("MONTH", "DAY"):
        name = _strftime(value, "%B" if element == "MONTH" else "%A")
        return exp.Anonymous(this="RPAD", expressions=[_cased(name, spelling), exp.Literal.number(9),
                                                       exp.Literal.string(" ")])
    if element in ("MON", "DY"):
        return _cased(_strftime(value, "%b" if element == "MON" else "%a"), spelling)
    if element in ("AM", "PM"):
        return _cased(_strftime(value, "%p"), spelling)
    if element in ("A.M.", "P.M."):
        morning = exp.LT(this=_part("HOUR", value), expression=exp.Literal.number(12))
        return _cased(exp.If(this=morning, true=exp.Literal.string("A.M."), false=exp.Literal.string("P.M.")),
                      spelling)
    if element == "Q":
        return _number(_part("QUARTER", value))
    if element == "D":  # day of the week, Sunday = 1
        return _number(exp.Add(this=_part("DAYOFWEEK", value), expression=exp.Literal.number(1)))
    if element == "ID":  # ISO day of the week, Monday = 1
        return _number(_part("ISODOW", value))
    if element == "WW":  # week of the year, the first week starting on January 1
        return _number(_week_of(_part("DAYOFYEAR", value)), 2)
    if element == "W":  # week of the month, the first week starting on the first day
        return _number(_week_of(_part("DAY", value)))
    if element == "J":  # Julian day number
        return _number(exp.cast(_part("JULIAN", value), exp.DType.BIGINT))
    if element == "CC":
        return _number(_part("CENTURY", value), 2)
    raise NotSupportedLocally(f"{function} format element '{spelling}'")


def to_char_pieces(value: exp.Expression, fmt: str, function: str = "TO_CHAR") -> list[exp.Expression]:
    """DuckDB expressions whose concatenation is Redshift's ``TO_CHAR(value, fmt)`` (value a TIMESTAMP)."""
    pieces: list[exp.Expression] = []
    for kind, text in format_elements(fmt):
        if kind == "text":
            if pieces and isinstance(pieces[-1], exp.Literal):
                pieces[-1] = exp.Literal.string(pieces[-1].this + text)
            else:
                pieces.append(exp.Literal.string(text))
        else:
            pieces.append(_element_expression(value, text, function))
    return pieces


def strptime_format(fmt: str, function: str) -> str:
    """The DuckDB strptime format reading what Redshift's ``function(text, fmt)`` reads."""
    codes = []
    for kind, text in format_elements(fmt):
        if kind == "text":
            codes.append(text.replace("%", "%%"))
        elif text.upper() in _STRPTIME:
            codes.append(_STRPTIME[text.upper()])
        else:
            raise NotSupportedLocally(f"{function} format element '{text}'")
    return "".join(codes)
