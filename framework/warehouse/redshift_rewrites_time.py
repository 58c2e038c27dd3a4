"""Rewrites of date/time, window and aggregate constructs that sqlglot's Redshift-to-DuckDB transpilation
gets wrong (checked by tests/sql_corpus/datetime.yaml, window.yaml and aggregate.yaml).

- LISTAGG: ``LISTAGG(DISTINCT x, ', ')`` reached DuckDB as a DISTINCT over the tuple ``(x, ', ')``; the
  delimiter defaults to none (DuckDB's to a comma); NULLs and empty strings are skipped.
- TRUNC(timestamp) returns the DATE: ``REDSHIFT_TRUNC`` (a macro of the local warehouse, see ``MACROS``)
  truncates a timestamp to its date and a number as TRUNC does.
- TO_CHAR / TO_DATE / TO_TIMESTAMP take Redshift's datetime format strings (redshift_datetime_format).
- ADD_MONTHS keeps Redshift's last-day-of-month rule; DATE_TRUNC to a century or millennium starts it in
  year 1 of it; a date literal may be written YYYYMMDD; DATEDIFF(week) counts week boundaries; EXTRACT and
  DATE_PART return Redshift's seconds and decades; CONVERT_TIMEZONE answers Area/Location zones only.
- AVG: Redshift's AVG of an integer column is an integer (BIGINT, truncated) and of a DECIMAL a DECIMAL of
  the argument's scale; DuckDB's is a DOUBLE. A float argument, or one sqlglot types as an integer, is
  answered exactly; any other argument is refused when DuckDB finds its type is not a float. MEDIAN and
  PERCENTILE_CONT likewise (DECIMAL in Redshift for integer and DECIMAL arguments).
- Redshift refuses an aggregate window function with ORDER BY but no frame clause, and RANGE frames; so
  does the local warehouse (RedshiftRuleError).

Each rewrite changes the parsed statement in place; those that cannot answer as Redshift would raise
NotSupportedLocally, or (when only DuckDB knows a column's type) make the query fail with that message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift

from framework.warehouse.errors import NOT_SUPPORTED, NotSupportedLocally, RedshiftRuleError
from framework.warehouse.expression_builders import call, case, string_literal
from framework.warehouse.redshift_datetime_format import (
    format_elements,
    redshift_format,
    strptime_format,
    to_char_pieces,
)
from framework.warehouse.redshift_reader import DATE_PART_LABEL, GETDATE, LABEL
from framework.warehouse.redshift_types import expression_type

TRUNC_MACRO = "REDSHIFT_TRUNC"

# DuckDB macros the rewrites call, created (TEMP) on every connection of the local warehouse.
MACROS: tuple[str, ...] = (
    f"CREATE OR REPLACE TEMP MACRO {TRUNC_MACRO}(x TIMESTAMP) AS CAST(x AS DATE), (x TIMESTAMPTZ) AS CAST(x AS DATE), "
    "(x DATE) AS x, (x) AS TRUNC(x)",
)


def _duckdb(template: str, **values: exp.Expression) -> exp.Expression:
    """A DuckDB expression from SQL text whose ``:name`` placeholders take (copies of) ``values``."""
    return exp.replace_placeholders(sqlglot.parse_one(template, read="duckdb"),
                                    **{name: value.copy() for name, value in values.items()})


def _listagg(expression: exp.Expression) -> None:
    for node in list(expression.find_all(exp.GroupConcat)):
        argument = node.this
        if isinstance(argument, exp.Distinct) and len(argument.expressions) == 2:
            value, delimiter = argument.expressions
            node.set("this", exp.Distinct(expressions=[value]))
            node.set("separator", delimiter)
        if node.args.get("separator") is None:
            node.set("separator", exp.Literal.string(""))
        value = node.this.expressions[0] if isinstance(node.this, exp.Distinct) else node.this
        aggregate: exp.Expression = node.parent if isinstance(node.parent, exp.WithinGroup) else node
        if isinstance(aggregate.parent, exp.Filter):
            continue  # an analyst's own FILTER: left as written
        skipped = exp.NEQ(this=exp.cast(value.copy(), exp.DType.VARCHAR), expression=exp.Literal.string(""))
        aggregate.replace(exp.Filter(this=aggregate.copy(), expression=exp.Where(this=skipped)))


def _trunc_timestamp(expression: exp.Expression) -> None:
    for node in list(expression.find_all(exp.Trunc)):
        if node.args.get("decimals") is None:
            node.replace(call(TRUNC_MACRO, node.this.copy()))


def _literal_format(node: exp.Expression, function: str) -> str:
    fmt = string_literal(node.args.get("format"))
    if fmt is None:
        raise NotSupportedLocally(f"{function} with a format that is not a string literal")
    return redshift_format(fmt)


# Datetime elements that are also numeric format elements (r_Numeric_formating.html).
_NUMERIC_TOO = {"D", "MI", "TH", "FM"}


def _is_numeric_format(fmt: str, value: exp.Expression) -> bool:
    """TO_CHAR of a number (a numeric literal, or a format of 9s and 0s without datetime elements) is not a
    datetime TO_CHAR: it is left to the numeric rewrites."""
    if isinstance(value, exp.Literal) and not value.is_string:
        return True
    elements = {text.upper() for kind, text in format_elements(fmt) if kind == "element"}
    return ("9" in fmt or "0" in fmt) and elements <= _NUMERIC_TOO


def _to_char(expression: exp.Expression) -> None:
    for node in list(expression.find_all(exp.TimeToStr)):
        fmt = _literal_format(node, "TO_CHAR")
        if _is_numeric_format(fmt, node.this):
            continue
        value = exp.cast(node.this.copy(), exp.DType.TIMESTAMP)
        pieces = to_char_pieces(value, fmt)
        text: exp.Expression = pieces[0] if pieces else exp.Literal.string("")
        for piece in pieces[1:]:
            text = exp.DPipe(this=text, expression=piece)
        node.replace(exp.Paren(this=text) if len(pieces) > 1 else text)


def _to_date_and_timestamp(expression: exp.Expression) -> None:
    """TO_DATE / TO_TIMESTAMP through strptime. Redshift carries out-of-range fields over (June 31 is July 1,
    hour 24 the next day) unless is_strict; strptime cannot, so text it cannot read is refused when run."""
    for node in list(expression.find_all(exp.StrToDate, exp.StrToTime)):
        function = "TO_DATE" if isinstance(node, exp.StrToDate) else "TO_TIMESTAMP"
        fmt = strptime_format(_literal_format(node, function), function)
        refusal = f"{NOT_SUPPORTED}: {function} of text that strptime cannot read as {fmt!r} (Redshift carries " \
                  "out-of-range fields over)"
        parsed = _duckdb("COALESCE(TRY_STRPTIME(CAST(:text AS TEXT), :fmt), "
                         "CASE WHEN :text IS NULL THEN NULL ELSE ERROR(:refusal) END)",
                         text=node.this, fmt=exp.Literal.string(fmt), refusal=exp.Literal.string(refusal))
        # TO_TIMESTAMP returns a TIMESTAMPTZ (read in the session time zone, UTC)
        node.replace(exp.cast(parsed, exp.DType.DATE if function == "TO_DATE" else exp.DType.TIMESTAMPTZ))


def _add_months(expression: exp.Expression) -> None:
    """ADD_MONTHS: the last day of a month gives the last day of the result month (time of day kept)."""
    for node in list(expression.find_all(exp.AddMonths)):
        node.replace(_duckdb(
            "CASE WHEN LAST_DAY(CAST(:value AS TIMESTAMP)) = CAST(:value AS DATE) "
            "THEN CAST(LAST_DAY(CAST(:value AS TIMESTAMP) + TO_MONTHS(CAST(:months AS INTEGER))) AS TIMESTAMP) "
            "+ (CAST(:value AS TIMESTAMP) - DATE_TRUNC('day', CAST(:value AS TIMESTAMP))) "
            "ELSE CAST(:value AS TIMESTAMP) + TO_MONTHS(CAST(:months AS INTEGER)) END",
            value=node.this, months=node.expression))


_CENTURY = {"CENTURY", "CENTURIES", "C", "CENT", "CENTS"}
_MILLENNIUM = {"MILLENNIUM", "MILLENNIA", "MIL", "MILS"}


def _date_trunc_century(expression: exp.Expression) -> None:
    """DATE_TRUNC to a century or millennium starts it at year 1 of it (2001-01-01), as PostgreSQL does;
    DuckDB's starts it at 2000-01-01."""
    for node in list(expression.find_all(exp.TimestampTrunc, exp.DateTrunc)):
        unit = node.args.get("unit")
        name = unit.name.upper() if isinstance(unit, exp.Expression) else str(unit or "").upper()
        span = 100 if name in _CENTURY else 1000 if name in _MILLENNIUM else None
        if span is not None:
            node.replace(_duckdb("CAST(MAKE_DATE(((YEAR(:value) - 1) // :span) * :span + 1, 1, 1) AS TIMESTAMP)",
                                 value=node.this, span=exp.Literal.number(span)))


_COMPACT_DATE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(\s.*)?$", re.DOTALL)
_DATETIME_TYPES = (exp.DType.DATE, exp.DType.TIMESTAMP, exp.DType.TIMESTAMPTZ)


def _compact_date_literals(expression: exp.Expression) -> None:
    """A date written YYYYMMDD (TIMESTAMP '20200430 04:05:06'), which Redshift reads and DuckDB does not."""
    for node in list(expression.find_all(exp.Cast)):
        literal = node.this
        if isinstance(literal, exp.Literal) and literal.is_string and node.to.this in _DATETIME_TYPES:
            match = _COMPACT_DATE.match(literal.this)
            if match:
                year, month, day, rest = match.groups()
                node.set("this", exp.Literal.string(f"{year}-{month}-{day}{rest or ''}"))


_WEEK = {"WEEK", "WEEKS", "WK", "WKS", "W"}


def _datediff_weeks(expression: exp.Expression) -> None:
    """DATEDIFF(week, a, b) counts the week boundaries crossed; DuckDB's DATE_DIFF('week') counts whole 7-day
    spans (0 from a Saturday to the next Tuesday). Counted here from the weeks' first days; the count is
    answered when weeks starting on Monday and weeks starting on Sunday give the same, refused otherwise."""
    for node in list(expression.find_all(exp.TsOrDsDiff, exp.DateDiff)):
        unit = node.args.get("unit")
        if not isinstance(unit, exp.Expression) or unit.name.upper() not in _WEEK:
            continue
        monday = ("DATE_DIFF('day', DATE_TRUNC('week', CAST(:start AS TIMESTAMP)), "
                  "DATE_TRUNC('week', CAST(:end AS TIMESTAMP))) // 7")
        sunday = monday.replace("CAST(:start AS TIMESTAMP)", "CAST(:start AS TIMESTAMP) + INTERVAL 1 DAY") \
                       .replace("CAST(:end AS TIMESTAMP)", "CAST(:end AS TIMESTAMP) + INTERVAL 1 DAY")
        refusal = f"{NOT_SUPPORTED}: DATEDIFF(week) where weeks starting on Sunday and on Monday count differently"
        node.replace(_duckdb(f"CASE WHEN {monday} = {sunday} THEN {monday} ELSE ERROR(:refusal) END",
                             start=node.expression, end=node.this, refusal=exp.Literal.string(refusal)))


def _date_parts(expression: exp.Expression) -> None:
    """Seconds and decades as Redshift counts them (r_Dateparts_for_datetime_functions.html): DATE_PART returns
    the whole seconds field (3.189717 s, 3189.717 ms), EXTRACT only the part named (3 s, 189 ms, 717 us);
    decade 201 is 2000-2009. DuckDB's millisecond and microsecond include the seconds."""
    for node in list(expression.find_all(exp.Extract)):
        part = node.this.name.upper() if isinstance(node.this, exp.Expression) else ""
        part = Redshift.DATE_PART_MAPPING.get(part, part)
        micro = "EXTRACT(MICROSECOND FROM :value)"  # seconds and fraction, in microseconds
        if node.meta.get(LABEL) == DATE_PART_LABEL:
            template = {"SECOND": f"{micro} / 1000000.0", "MILLISECOND": f"{micro} / 1000.0"}.get(part)
        else:
            template = {"MILLISECOND": f"({micro} // 1000) % 1000", "MICROSECOND": f"{micro} % 1000"}.get(part)
        if part == "DECADE":
            template = "EXTRACT(YEAR FROM :value) // 10 + 1"
        if template is not None:
            replacement = _duckdb(template, value=node.expression)
            replacement.meta.update(node.meta)
            node.replace(replacement)


def _convert_timezone_zones(expression: exp.Expression) -> None:
    """Redshift reads a time zone abbreviation as a fixed offset ('PST' is always UTC-8); DuckDB reads 'PST' as
    America/Los_Angeles, daylight saving included. Only Area/Location names and UTC are answered."""
    for node in expression.find_all(exp.ConvertTimezone):
        for zone in (node.args.get("source_tz"), node.args.get("target_tz")):
            if zone is None:
                continue
            if not (isinstance(zone, exp.Literal) and zone.is_string):
                raise NotSupportedLocally("CONVERT_TIMEZONE with a time zone that is not a string literal")
            if "/" not in zone.this and zone.this.upper() != "UTC":
                raise NotSupportedLocally(f"CONVERT_TIMEZONE time zone '{zone.this}' (only Area/Location names "
                                          "such as 'America/New_York', and 'UTC')")


def _getdate_whole_seconds(expression: exp.Expression) -> None:
    """GETDATE() has no fractional seconds (SYSDATE and CURRENT_TIMESTAMP keep them)."""
    for node in list(expression.find_all(exp.CurrentTimestamp)):
        if node.meta.get(GETDATE) and not isinstance(node.parent, exp.TimestampTrunc):
            truncated = exp.TimestampTrunc(this=node.copy(), unit=exp.var("SECOND"))
            node.replace(truncated)


_INTERVAL_PART = re.compile(r"^\s*-?\d+(\.\d+)?\s*[a-z]+\s*$", re.IGNORECASE)
_INTERVAL_LETTERS = {"y": "year", "w": "week", "d": "day", "h": "hour", "m": "minute", "s": "second"}


def _interval_literals(expression: exp.Expression) -> None:
    """An interval written '1w, 1h, 1m, 1s' (r_interval_literals.html), which DuckDB does not read: the parts
    are spelled out ('1 week 1 hour 1 minute 1 second')."""
    for node in expression.find_all(exp.Interval):
        literal = node.this
        if node.args.get("unit") is not None or not (isinstance(literal, exp.Literal) and literal.is_string):
            continue
        parts = literal.this.split(",")
        if len(parts) < 2 and not re.search(r"\d[a-z]", literal.this, re.IGNORECASE):
            continue
        if not all(_INTERVAL_PART.match(part) for part in parts):
            continue
        spelled = []
        for part in parts:
            number, unit = re.match(r"\s*(-?[\d.]+)\s*([a-z]+)", part, re.IGNORECASE).groups()
            spelled.append(f"{number} {_INTERVAL_LETTERS.get(unit.lower(), unit)}")
        node.set("this", exp.Literal.string(" ".join(spelled)))


def _next_day(expression: exp.Expression) -> None:
    """NEXT_DAY of a date written as text: sqlglot's rewrite needs a DATE (DuckDB's ISODOW has no text form)."""
    for node in list(expression.find_all(exp.NextDay)):
        node.set("this", exp.cast(node.this.copy(), exp.DType.DATE))


_INTEGERS = {exp.DType.TINYINT, exp.DType.SMALLINT, exp.DType.INT, exp.DType.BIGINT}
_FLOATS = {exp.DType.FLOAT, exp.DType.DOUBLE}


def _window_of(node: exp.Expression) -> exp.Window | None:
    """The window ``node`` (an aggregate, or the WITHIN GROUP / IGNORE NULLS around one) is computed over."""
    parent = node.parent
    return parent if isinstance(parent, exp.Window) and parent.this is node else None


def _only_for_floats(outer: exp.Expression, argument: exp.Expression, construct: str) -> exp.Expression:
    """``outer`` when DuckDB finds ``argument`` is a float, otherwise a refusal raised when the query runs.

    Redshift returns other argument types as integers or DECIMALs of the argument's scale, where DuckDB
    returns a DOUBLE; the type of a table's column is only known once DuckDB binds the query."""
    sample: exp.Expression = exp.Min(this=argument.copy())
    if isinstance(outer, exp.Window):  # the same window's MIN
        sample = outer.copy()
        sample.set("this", exp.Min(this=argument.copy()))
    type_name = call("TYPEOF", sample)
    refusal = call("ERROR", exp.DPipe(this=exp.Literal.string(f"{NOT_SUPPORTED}: {construct} of "),
                                      expression=type_name.copy()))
    is_float = exp.In(this=type_name, expressions=[exp.Literal.string("DOUBLE"), exp.Literal.string("FLOAT")])
    return case(is_float, outer.copy(), refusal)


def _avg(expression: exp.Expression) -> None:
    """AVG of an integer is a BIGINT, truncated; of a float a float; of a DECIMAL a DECIMAL (refused)."""
    for node in list(expression.find_all(exp.Avg)):
        outer: exp.Expression = _window_of(node) or node
        kind = expression_type(node.this)
        if kind in _FLOATS:
            continue
        if kind in _INTEGERS:
            outer.replace(exp.cast(exp.Trunc(this=outer.copy()), exp.DType.BIGINT))
        else:
            outer.replace(_only_for_floats(outer, node.this, "AVG"))


def _percentiles(expression: exp.Expression) -> None:
    """MEDIAN and PERCENTILE_CONT are DOUBLEs only for float arguments in Redshift (DECIMAL for integers and
    DECIMALs, r_MEDIAN.html): a float argument is answered, any other refused. (STDDEV and VARIANCE are
    DOUBLEs whatever the argument, as in DuckDB.)"""
    for node in list(expression.find_all(exp.Median, exp.PercentileCont)):
        if isinstance(node, exp.PercentileCont):
            within = node.parent
            if not isinstance(within, exp.WithinGroup) or not within.expression.expressions:
                continue
            argument, construct, outer = within.expression.expressions[0].this, "PERCENTILE_CONT", within
        else:
            argument, construct, outer = node.this, "MEDIAN", node
        outer = _window_of(outer) or outer
        if expression_type(argument) not in _FLOATS:
            outer.replace(_only_for_floats(outer, argument, construct))


# Window functions whose OVER clause may order rows only with a frame clause (r_Window_function_synopsis.html).
_FRAMED = (exp.Sum, exp.Avg, exp.Count, exp.Min, exp.Max, exp.Stddev, exp.StddevSamp, exp.StddevPop,
           exp.Variance, exp.VariancePop, exp.FirstValue, exp.LastValue, exp.NthValue)


def _window_frame_rule(expression: exp.Expression) -> None:
    """Redshift refuses an aggregate window function ordered without a frame clause, and frames other than
    ROWS (r_Window_function_synopsis.html); DuckDB would answer them, so the local warehouse refuses them too."""
    for window in expression.find_all(exp.Window):
        function = window.this.this if isinstance(window.this, (exp.IgnoreNulls, exp.RespectNulls)) else window.this
        if isinstance(function, _FRAMED) and window.args.get("order") and not window.args.get("spec"):
            raise RedshiftRuleError("Aggregate window functions with an ORDER BY clause require a frame clause")
        spec = window.args.get("spec")
        if isinstance(spec, exp.WindowSpec) and str(spec.args.get("kind") or "ROWS").upper() != "ROWS":
            raise RedshiftRuleError(f"Redshift window frames are ROWS frames: {spec.args['kind']} is not supported")


REWRITES: tuple[Callable[[exp.Expression], None], ...] = (
    _window_frame_rule, _compact_date_literals, _listagg, _trunc_timestamp, _to_char, _to_date_and_timestamp,
    _add_months, _next_day, _date_trunc_century, _datediff_weeks, _date_parts, _convert_timezone_zones,
    _getdate_whole_seconds, _interval_literals,
    _avg, _percentiles,
)
