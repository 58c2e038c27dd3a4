"""redshift/ddl.sql and redshift/load.sql, built by framework.warehouse from the source's table."""

from __future__ import annotations

from framework.render.templates import render
from framework.spec import ResolvedSource
from framework.warehouse import ColumnSpec, TableSpec, ddl_statements, load_statements

HASH_HEX_CHARS = 64  # an HMAC-SHA-256 in hex
PII_NOTES = {"hash": "PII: HMAC-SHA-256 (hex) of the value keyed with schema.pii_secret",
             "mask": "PII: masked, all but the last 4 characters replaced by *",
             "drop": "PII: dropped, kept only in the raw zone"}


def column_comment(description: str | None, pii: str | None) -> str | None:
    """A column's COMMENT ON text: its description, then how it is protected when it is PII."""
    if pii is None:
        return description
    return f"{description.rstrip()} ({PII_NOTES[pii]})" if description else PII_NOTES[pii]


def table_spec(source: ResolvedSource) -> TableSpec:
    d = source.definition
    rs = d.redshift
    return TableSpec(
        schema=rs.schema_.lower(),
        table=rs.table.lower(),
        columns=tuple(
            ColumnSpec(name=c.name, type=c.type, nullable=c.nullable,
                       max_length=HASH_HEX_CHARS if c.pii == "hash" else c.max_length,
                       precision=c.precision, scale=c.scale, description=column_comment(c.description, c.pii))
            for c in source.columns if c.pii != "drop"
        ),
        diststyle=rs.diststyle,
        distkey=rs.distkey.lower() if rs.distkey else None,
        sortkey=tuple(k.lower() for k in rs.sortkeys),
        sortstyle=rs.sortstyle,
        load_mode=rs.load.mode,
        keys=tuple(k.lower() for k in rs.load.keys),
        order_by=rs.load.order_by.lower() if rs.load.order_by else None,
        comment=d.description,
    )


def ddl_sql(source: ResolvedSource, table: TableSpec | None = None) -> str:
    """ddl.sql for a fresh install: ``table`` (the latest schema version, in physical column order)."""
    return render("ddl.sql.j2", source.file, name=source.name,
                  statements=ddl_statements(table or table_spec(source)))


def load_sql(source: ResolvedSource) -> str:
    spec = table_spec(source)
    return render("load.sql.j2", source.file, table=spec.qualified_name, mode=spec.load_mode,
                  statements=load_statements(spec))
