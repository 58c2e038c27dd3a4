"""Redshift SQL made runnable on DuckDB: parse with sqlglot (Redshift), adjust, render for DuckDB.

Physical clauses (DISTSTYLE, DISTKEY, SORTKEY, ENCODE) are dropped, SUPER becomes JSON, VARCHAR
lengths are dropped (DuckDB does not enforce them) and GETDATE() keeps Redshift's TIMESTAMP type.
Transaction control, ``CREATE TEMP TABLE x (LIKE y)`` and COPY are classified here and executed by
the adapter, which needs the live database for them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import Dialect, exp

from framework.warehouse.redshift_reader import LABEL, RedshiftLocal
from framework.warehouse.redshift_support import adapt
from framework.warehouse.script import Statement

READ = RedshiftLocal  # sqlglot's Redshift dialect with the local readings of redshift_reader
WRITE = "duckdb"

_PHYSICAL_PROPERTIES = (exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty)

_BEGIN = {"BEGIN", "BEGIN TRANSACTION", "BEGIN WORK", "START TRANSACTION"}
_COMMIT = {"COMMIT", "COMMIT TRANSACTION", "COMMIT WORK", "END", "END TRANSACTION", "END WORK"}
_ROLLBACK = {"ROLLBACK", "ROLLBACK TRANSACTION", "ROLLBACK WORK", "ABORT", "ABORT TRANSACTION", "ABORT WORK"}


class Kind(enum.Enum):
    BEGIN = "begin"
    COMMIT = "commit"
    ROLLBACK = "rollback"
    COPY = "copy"
    CREATE_LIKE = "create_like"
    PHYSICAL = "physical"  # ALTER DISTSTYLE/DISTKEY/SORTKEY: layout only, nothing to do in DuckDB
    SQL = "sql"


@dataclass(frozen=True)
class Translated:
    """A statement ready for DuckDB: its kind, the parsed Redshift expression and, for SQL, the text."""

    statement: Statement
    kind: Kind
    expression: exp.Expression | None = None
    duckdb_sql: str | None = None


def _without_interleaved(sql: str) -> str:
    """Drop INTERLEAVED before SORTKEY: sqlglot 30 cannot parse it, and DuckDB drops the sort key anyway."""
    tokens = Dialect.get_or_raise(READ).tokenize(sql)
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.text.upper() == "INTERLEAVED" and following.text.upper() == "SORTKEY":
            return sql[: token.start] + sql[following.start :]
    return sql


def _drop_physical_clauses(expression: exp.Expression) -> None:
    properties = expression.args.get("properties")
    if isinstance(properties, exp.Properties):
        kept = [p for p in properties.expressions if not isinstance(p, _PHYSICAL_PROPERTIES)]
        expression.set("properties", exp.Properties(expressions=kept) if kept else None)
    for constraint in list(expression.find_all(exp.ColumnConstraint)):
        if isinstance(constraint.args.get("kind"), exp.EncodeColumnConstraint):
            constraint.pop()


def _adjust_types(expression: exp.Expression) -> None:
    for data_type in list(expression.find_all(exp.DataType)):
        if data_type.this == exp.DType.SUPER:
            data_type.replace(exp.DataType.build("JSON"))
        elif data_type.this in (exp.DType.VARCHAR, exp.DType.CHAR, exp.DType.NVARCHAR):
            data_type.set("expressions", [])


def _getdate_as_timestamp(expression: exp.Expression) -> None:
    # Redshift's GETDATE() is a TIMESTAMP (UTC); DuckDB's CURRENT_TIMESTAMP is a TIMESTAMPTZ.
    for node in list(expression.find_all(exp.CurrentTimestamp)):
        if not node.args.get("sysdate"):
            node.replace(exp.cast(node.copy(), exp.DType.TIMESTAMP))


def to_duckdb(expression: exp.Expression) -> str:
    """Render a parsed Redshift statement as DuckDB SQL, with the adjustments described above and those of
    ``redshift_support`` (raises NotSupportedLocally for what the local warehouse refuses)."""
    adjusted = expression.copy()
    adapt(adjusted)
    _drop_physical_clauses(adjusted)
    _adjust_types(adjusted)
    _getdate_as_timestamp(adjusted)
    return adjusted.sql(dialect=WRITE)


def alters_column_type(expression: exp.Expression | None) -> bool:
    """``ALTER TABLE ... ALTER COLUMN ... TYPE``: Redshift refuses it inside a transaction block."""
    return isinstance(expression, exp.Alter) and any(
        isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None
        for action in expression.args.get("actions") or []
    )


def alters_layout_only(expression: exp.Expression | None) -> bool:
    """``ALTER TABLE ... ALTER DISTSTYLE/DISTKEY/SORTKEY``: physical layout, meaningless to DuckDB."""
    actions = (expression.args.get("actions") or []) if isinstance(expression, exp.Alter) else []
    return bool(actions) and all(isinstance(a, (exp.AlterDistStyle, exp.AlterSortKey)) for a in actions)


def _is_create_like(expression: exp.Expression) -> bool:
    schema = expression.this if isinstance(expression, exp.Create) else None
    return (
        isinstance(schema, exp.Schema)
        and len(schema.expressions) == 1
        and isinstance(schema.expressions[0], exp.LikeProperty)
    )


def parse_redshift(sql: str) -> exp.Expression:
    return sqlglot.parse_one(_without_interleaved(sql), read=READ)


def translate(statement: Statement, label_columns: bool = False) -> Translated:
    """Classify and (where possible) transpile one Redshift statement. Raises on unparsable SQL.

    ``label_columns``: a query's result columns are named as Redshift names them (``with_redshift_labels``)."""
    words = " ".join(statement.text.upper().split())
    for kind, spellings in ((Kind.BEGIN, _BEGIN), (Kind.COMMIT, _COMMIT), (Kind.ROLLBACK, _ROLLBACK)):
        if words in spellings:
            return Translated(statement, kind)
    expression = parse_redshift(statement.text)
    if isinstance(expression, exp.Transaction):
        return Translated(statement, Kind.BEGIN, expression)
    if isinstance(expression, exp.Commit):
        return Translated(statement, Kind.COMMIT, expression)
    if isinstance(expression, exp.Rollback):
        return Translated(statement, Kind.ROLLBACK, expression)
    if isinstance(expression, exp.Copy):
        return Translated(statement, Kind.COPY, expression)
    if alters_layout_only(expression):
        return Translated(statement, Kind.PHYSICAL, expression)
    if _is_create_like(expression):
        return Translated(statement, Kind.CREATE_LIKE, expression)
    rendered = with_redshift_labels(expression) if label_columns and isinstance(expression, exp.Query) \
        else expression
    return Translated(statement, Kind.SQL, expression, to_duckdb(rendered))


UNNAMED = "?column?"


def redshift_label(expression: exp.Expression) -> str:
    """The name Redshift gives an unaliased select-list item (PostgreSQL's rule): a column's name, a
    function's name (a window function's too), ``case`` for CASE, a cast's operand's label, and ``?column?``
    otherwise; folded to lower case, as Redshift returns every column name by default."""
    if LABEL in expression.meta:  # a name the Redshift reader recorded (DATE_PART: pgdate_part)
        return expression.meta[LABEL]
    if isinstance(expression, exp.Column | exp.Dot):
        return expression.name.lower()
    if isinstance(expression, exp.Paren | exp.Cast | exp.Window):
        return redshift_label(expression.this)
    if isinstance(expression, exp.Case):
        return "case"
    if isinstance(expression, exp.Func):  # the name as Redshift spells it: GETDATE, DATEADD, LISTAGG, ...
        name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expression.sql(dialect=READ))
        return name.group(0).lower() if name else UNNAMED
    return UNNAMED


def with_redshift_labels(expression: exp.Expression) -> exp.Expression:
    """A copy of a query whose select-list items carry the labels Redshift would give them, so `onboard query`
    shows ``count`` where DuckDB would say ``count_star()`` and ``total`` for ``AS "Total"`` (Redshift folds
    even quoted names to lower case unless enable_case_sensitive_identifier is on). Every SELECT is labelled,
    so a subquery's columns are also named as Redshift names them."""
    labelled = expression.copy()
    for select in labelled.find_all(exp.Select):
        items = []
        for item in select.expressions:
            if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
                items.append(item)
            elif isinstance(item, exp.Alias):
                alias = item.args["alias"]
                if isinstance(alias, exp.Identifier):
                    alias.set("this", alias.name.lower())
                items.append(item)
            else:
                items.append(exp.alias_(item, redshift_label(item), quoted=True))
        select.set("expressions", items)
    return labelled
