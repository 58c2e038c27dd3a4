"""sqlglot's Redshift dialect, with the readings the local warehouse needs to answer as Redshift does.

- ADD_MONTHS is not DATEADD(month, ...): the last day of a month gives the last day of the result month
  (r_ADD_MONTHS.html). sqlglot reads both as the same expression; here ADD_MONTHS keeps its own
  (``exp.AddMonths``), which redshift_rewrites_time renders for DuckDB.
  See docs/sqlglot-upstream.md.
- DATE_PART (and its synonym PGDATE_PART) and EXTRACT are both read as ``exp.Extract``, as sqlglot reads them,
  remembering which was written: Redshift names an unaliased DATE_PART column ``pgdate_part`` and an EXTRACT
  column ``date_part`` (``meta[LABEL]``), and their seconds differ (r_Dateparts_for_datetime_functions.html).
- GETDATE() and SYSDATE are named ``timestamp`` as unaliased columns; GETDATE(), unlike CURRENT_TIMESTAMP
  (sqlglot reads both as ``exp.CurrentTimestamp``), has no fractional seconds (r_GETDATE.html): ``meta[GETDATE]``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.helper import seq_get

LABEL = "redshift_label"  # meta key: the name Redshift gives the expression as an unaliased column


DATE_PART_LABEL = "pgdate_part"
EXTRACT_LABEL = "date_part"


def _date_part(parser: Redshift.Parser) -> exp.Expression:
    extract = parser._parse_date_part()  # noqa: SLF001 (sqlglot's own DATE_PART reading)
    extract.meta[LABEL] = DATE_PART_LABEL
    return extract


def _extract(parser: Redshift.Parser) -> exp.Expression:
    extract = Redshift.Parser.FUNCTION_PARSERS["EXTRACT"](parser)
    extract.meta[LABEL] = EXTRACT_LABEL
    return extract


GETDATE = "redshift_getdate"  # meta key: written GETDATE(), whole seconds


def _getdate(args: list[exp.Expression]) -> exp.CurrentTimestamp:
    now = exp.CurrentTimestamp.from_arg_list(args)
    now.meta.update({LABEL: "timestamp", GETDATE: True})
    return now


def _sysdate(parser: Redshift.Parser) -> exp.Expression:
    now = Redshift.Parser.NO_PAREN_FUNCTION_PARSERS["SYSDATE"](parser)
    now.meta[LABEL] = "timestamp"
    return now


def _add_months(args: list[exp.Expression]) -> exp.AddMonths:
    return exp.AddMonths(this=seq_get(args, 0), expression=seq_get(args, 1))


class RedshiftLocal(Redshift):
    """Redshift as the local warehouse reads it (sqlglot's Redshift dialect otherwise)."""

    class Parser(Redshift.Parser):
        FUNCTIONS = {**Redshift.Parser.FUNCTIONS, "ADD_MONTHS": _add_months, "GETDATE": _getdate}
        NO_PAREN_FUNCTION_PARSERS = {**Redshift.Parser.NO_PAREN_FUNCTION_PARSERS, "SYSDATE": _sysdate}
        FUNCTION_PARSERS = {**Redshift.Parser.FUNCTION_PARSERS, "DATE_PART": _date_part, "PGDATE_PART": _date_part,
                            "EXTRACT": _extract}
