"""athena/view.sql: the source's rows in Athena as Redshift holds them (framework.warehouse.lake_view).

`CREATE OR REPLACE VIEW ${glue_database}.<source> AS <query>` over `${glue_database}.<source>_batches`, the
catalog table of every batch's Parquet. ``${glue_database}`` is the lake's Glue database (`<prefix>_lake`),
filled in by the CDK app, which deploys the view as a Glue catalog view (onboard_cdk.athena_view); the file
also runs as written in the Athena console once the placeholder is replaced.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from framework.render.templates import header_for
from framework.warehouse.lake_view import batches_name, lake_view
from framework.warehouse.table import TableSpec

DATABASE_PLACEHOLDER = "${glue_database}"
DIALECT = "athena"
_SENTINEL = "onboard_glue_database_placeholder"  # an identifier sqlglot can write, replaced by the placeholder


def view_statement(source: str, table: TableSpec) -> str:
    """The CREATE OR REPLACE VIEW statement, with ``${glue_database}`` for the database."""
    batches = exp.table_(batches_name(source), db=_SENTINEL)
    create = exp.Create(this=exp.table_(source, db=_SENTINEL), kind="VIEW", replace=True,
                        expression=lake_view(table, batches))
    return create.sql(dialect=DIALECT, pretty=True).replace(_SENTINEL, DATABASE_PLACEHOLDER)


def view_sql(source: str, source_file: str, table: TableSpec) -> str:
    modes = {"append": "every row of every batch", "replace": "the rows of the last batch",
             "merge": "per key, the row of the latest batch"}
    return (f"{header_for(source_file)('--')}\n"
            f"-- Athena view of source '{source}': {modes[table.load_mode]} ({table.load_mode} load), read from\n"
            f"-- {batches_name(source)} (every batch in the processed zone), so it counts what Redshift holds.\n"
            f"-- {DATABASE_PLACEHOLDER} is the lake's Glue database (<prefix>_lake).\n\n"
            f"{view_statement(source, table)};\n")


def view_query(text: str, database: str) -> exp.Create:
    """A view.sql text with its database filled in, parsed as Athena SQL (the one statement it holds)."""
    return sqlglot.parse_one(text.replace(DATABASE_PLACEHOLDER, database), read=DIALECT)
