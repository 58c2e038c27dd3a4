"""Redshift DDL for one table, built as sqlglot expressions and rendered in the Redshift dialect."""

from __future__ import annotations

from sqlglot import exp

from framework.warehouse.identifiers import DIALECT, sql_identifier
from framework.warehouse.table import ColumnSpec, TableSpec

_DIALECT = DIALECT
_identifier = sql_identifier


def table_expression(schema: str, table: str) -> exp.Table:
    return exp.Table(this=sql_identifier(table), db=sql_identifier(schema))


def _column_definition(t: TableSpec, column: ColumnSpec) -> exp.ColumnDef:
    constraints = []
    if not column.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    constraints.append(exp.ColumnConstraint(kind=exp.EncodeColumnConstraint(this=exp.var(t.encoding_of(column)))))
    return exp.ColumnDef(this=_identifier(column.name), kind=column.data_type(), constraints=constraints)


def _physical_properties(t: TableSpec) -> list[exp.Expression]:
    properties: list[exp.Expression] = [exp.DistStyleProperty(this=exp.var(t.effective_diststyle.upper()))]
    if t.distkey:
        properties.append(exp.DistKeyProperty(this=_identifier(t.distkey)))
    if t.sortkey:
        # sqlglot knows COMPOUND SORTKEY and plain SORTKEY only; INTERLEAVED is added in create_table_sql.
        properties.append(
            exp.SortKeyProperty(this=[_identifier(c) for c in t.sortkey], compound=t.sortstyle == "compound")
        )
    return properties


def create_table_sql(t: TableSpec) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with ENCODE per column, DISTSTYLE/DISTKEY and the sort key."""
    create = exp.Create(
        this=exp.Schema(
            this=table_expression(t.schema, t.table),
            expressions=[_column_definition(t, c) for c in t.all_columns()],
        ),
        kind="TABLE",
        exists=True,
        properties=exp.Properties(expressions=_physical_properties(t)),
    )
    sql = create.sql(dialect=_DIALECT, pretty=True)
    if t.sortkey and t.sortstyle == "interleaved":
        # sqlglot 30 can neither build nor parse INTERLEAVED SORTKEY: it renders the property as a
        # plain "SORTKEY(...)" on the last line, which we qualify. (sqlglot re-parses the result as
        # an opaque Command; Redshift accepts it.)
        head, _, last = sql.rpartition("\n")
        if not last.startswith("SORTKEY("):
            raise AssertionError(f"unexpected sqlglot rendering of the sort key: {last!r}")
        sql = f"{head}\nINTERLEAVED {last}"
    return sql


def _comment_sql(kind: str, target: exp.Expression, text: str) -> str:
    # Whitespace runs (YAML block scalars bring newlines) become single spaces, so the literal needs
    # no escape sequences beyond sqlglot's quote/backslash escaping.
    one_line = " ".join(text.split())
    comment = exp.Comment(this=target, kind=kind, expression=exp.Literal.string(one_line))
    return comment.sql(dialect=_DIALECT)


def comment_statements(t: TableSpec) -> list[str]:
    """``COMMENT ON TABLE`` / ``COMMENT ON COLUMN`` for the table comment and column descriptions."""
    statements = []
    if t.comment:
        statements.append(_comment_sql("TABLE", table_expression(t.schema, t.table), t.comment))
    for column in t.all_columns():
        if column.description:
            target = exp.Column(this=_identifier(column.name), table=_identifier(t.table), db=_identifier(t.schema))
            statements.append(_comment_sql("COLUMN", target, column.description))
    return statements


def ddl_statements(t: TableSpec) -> list[str]:
    """All statements of ``ddl.sql`` in order: schema, table, comments."""
    create_schema = exp.Create(this=exp.Table(db=_identifier(t.schema)), kind="SCHEMA", exists=True)
    return [create_schema.sql(dialect=_DIALECT), create_table_sql(t), *comment_statements(t)]
