"""The embedded warehouse: DuckDB running the generated *Redshift* SQL (see duckdb_sql for the mapping)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
from sqlglot import exp
from sqlglot.errors import SqlglotError

from framework.warehouse.duckdb_sql import (
    WRITE,
    Kind,
    Translated,
    alters_column_type,
    translate,
)
from framework.warehouse.errors import RedshiftRuleError, WarehouseError
from framework.warehouse.identifiers import check_identifier
from framework.warehouse.load import substitute_placeholders
from framework.warehouse.manifest import parquet_files, read_manifest
from framework.warehouse.redshift_support import MACROS
from framework.warehouse.redshift_types import column_types
from framework.warehouse.script import Statement, short_text, split_script
from framework.warehouse.table import TableSpec

# Partition folders (onboard_year=2024/...) are lake layout, not columns: Redshift COPY does not read them either.
_READ_PARQUET = exp.select("*").from_(
    exp.func("read_parquet", exp.Placeholder(), exp.EQ(this=exp.column("hive_partitioning"), expression=exp.false()))
)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DuckDBWarehouse:
    """One DuckDB database file (or ``":memory:"``) behind one connection, speaking Redshift SQL.

    The session time zone is UTC, like Redshift's default, so TIMESTAMPTZ values and GETDATE() agree, and
    ``/`` of two integers is an integer (truncated toward zero), as in Redshift.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(self.path, read_only=read_only)
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute("SET integer_division = true")  # Redshift: 7 / 2 = 3, -7 / 2 = -3
        for macro in MACROS:  # functions the Redshift rewrites call (redshift_support)
            self._connection.execute(macro)

    # -- scripts -----------------------------------------------------------------------------
    def execute_script(self, sql_text: str, params: Mapping[str, str] | None = None) -> None:
        """Run a Redshift script (``ddl.sql``, ``load.sql``, migrations) statement by statement.

        ``params`` fill ``${name}`` placeholders after validation (see ``load.substitute_placeholders``).
        BEGIN/COMMIT are honoured: when a statement fails inside a transaction, the transaction is
        rolled back (the tables are exactly as before) and a WarehouseError names the statement.
        Every statement is parsed before the first one runs, so a syntax error changes nothing.
        """
        if params:
            sql_text = substitute_placeholders(sql_text, params)
        with column_types(self._column_types):  # as they are before the script runs
            prepared = [self._translate(statement) for statement in self._split(sql_text)]
        in_transaction = False
        current: Statement | None = None
        try:
            for item in prepared:
                current = item.statement
                in_transaction = self._run(item, in_transaction)
        except Exception as error:
            if in_transaction:
                self._rollback()
            assert current is not None
            message = str(error) if isinstance(error, RedshiftRuleError) else _first_line(error)
            raise WarehouseError(current.number, current.short_text, message) from error
        if in_transaction:
            self._rollback()
            assert current is not None
            raise WarehouseError(
                current.number, current.short_text, "the script ended inside a transaction without COMMIT"
            )

    @staticmethod
    def _split(sql_text: str) -> list[Statement]:
        try:
            return split_script(sql_text)
        except SqlglotError as error:
            raise WarehouseError(0, short_text(sql_text), f"cannot split the script: {error}") from error

    @staticmethod
    def _translate(statement: Statement, label_columns: bool = False) -> Translated:
        try:
            return translate(statement, label_columns)
        except RedshiftRuleError as error:  # NotSupportedLocally, or a rule Redshift enforces
            raise WarehouseError(statement.number, statement.short_text, str(error)) from error
        except SqlglotError as error:
            raise WarehouseError(statement.number, statement.short_text, _first_line(error)) from error

    def _column_types(self) -> dict[str, dict[str, dict[str, str]]]:
        """Every table's and view's columns with their DuckDB types, for typing Redshift expressions."""
        tables: dict[str, dict[str, dict[str, str]]] = {}
        for schema, table, column, data_type in self._connection.execute(
                "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = current_database()").fetchall():
            tables.setdefault(schema, {}).setdefault(table, {})[column] = data_type
        return tables

    def _rollback(self) -> None:
        try:
            self._connection.execute("ROLLBACK")
        except duckdb.Error:
            pass  # DuckDB already ended the transaction (e.g. a failed COMMIT)

    def _run(self, item: Translated, in_transaction: bool) -> bool:
        """Run one statement; return whether a transaction is open afterwards."""
        if item.kind is Kind.BEGIN:
            if not in_transaction:  # Redshift only warns about a nested BEGIN
                self._connection.execute("BEGIN")
            return True
        if item.kind in (Kind.COMMIT, Kind.ROLLBACK):
            if in_transaction:  # Redshift only warns when no transaction is open
                self._connection.execute(item.kind.value.upper())
            return False
        if item.kind is Kind.COPY:
            assert isinstance(item.expression, exp.Copy)
            self._atomically(lambda: self._copy(item.expression), in_transaction)
        elif item.kind is Kind.PHYSICAL:
            if in_transaction:  # run them as Redshift must: alone, outside a transaction block
                raise RedshiftRuleError("ALTER DISTSTYLE/DISTKEY/SORTKEY is run outside a transaction block")
        elif item.kind is Kind.CREATE_LIKE:
            assert isinstance(item.expression, exp.Create)
            self._create_like(item.expression)
        else:
            assert item.duckdb_sql is not None
            if in_transaction and alters_column_type(item.expression):
                raise RedshiftRuleError("ALTER TABLE ALTER COLUMN cannot run inside a transaction block")
            self._connection.execute(item.duckdb_sql)
        return in_transaction

    def _atomically(self, action: Callable[[], None], in_transaction: bool) -> None:
        if in_transaction:
            action()
            return
        self._connection.execute("BEGIN")
        try:
            action()
        except Exception:
            self._rollback()
            raise
        self._connection.execute("COMMIT")

    # -- emulated statements -----------------------------------------------------------------
    def _describe(self, relation: exp.Expression, params: list[str] | None = None) -> list[tuple]:
        return self._connection.execute(exp.Describe(this=relation).sql(dialect=WRITE), params).fetchall()

    def _create_like(self, create: exp.Create) -> None:
        """``CREATE [TEMP] TABLE x (LIKE y)``: same column names, types and NOT NULL as y."""
        new_table = create.this.this
        source = create.this.expressions[0].this
        columns = []
        for name, type_text, nullable, *_ in self._describe(source):
            constraints = [] if nullable == "YES" else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
            columns.append(
                exp.ColumnDef(
                    this=exp.to_identifier(name, quoted=True),
                    kind=exp.DataType.build(type_text, dialect=WRITE, udt=True),
                    constraints=constraints,
                )
            )
        like = exp.Create(
            this=exp.Schema(this=new_table.copy(), expressions=columns),
            kind="TABLE",
            exists=create.args.get("exists"),
            properties=create.args.get("properties"),
        )
        self._connection.execute(like.sql(dialect=WRITE))

    def _copy(self, copy: exp.Copy) -> None:
        """COPY ... FORMAT AS PARQUET MANIFEST from local files, by position, like Redshift."""
        target = copy.this
        if not isinstance(target, exp.Table):
            raise RedshiftRuleError("COPY with a column list is not supported by the local warehouse")
        table = target.sql(dialect="redshift")
        manifest_uri = self._copy_source(copy, table)
        files = parquet_files(read_manifest(manifest_uri), table)
        table_columns = len(self._describe(target))
        by_layout: dict[tuple[str, ...], list[str]] = {}  # files with the same column names read as one
        for file in files:
            names = tuple(row[0] for row in self._describe(_READ_PARQUET.copy(), [str(file)]))
            if len(names) != table_columns:
                raise RedshiftRuleError(
                    f"COPY into {table} failed: Unmatched number of columns between table and file. "
                    f"Table columns: {table_columns}, Data columns: {len(names)}, File name: {file}"
                )
            by_layout.setdefault(names, []).append(str(file))
        insert = exp.insert(_READ_PARQUET.copy(), into=target.copy()).sql(dialect=WRITE)
        for group in by_layout.values():  # by position: INSERT ... SELECT * maps columns in order
            self._connection.execute(insert, [group])

    @staticmethod
    def _copy_source(copy: exp.Copy, table: str) -> str:
        options = {}
        for parameter in copy.args.get("params") or []:
            value = parameter.args.get("expression")
            options[parameter.name.upper()] = value.name.upper() if value is not None else ""
        if options != {"FORMAT": "PARQUET", "MANIFEST": ""}:
            raise RedshiftRuleError(
                f"COPY into {table}: the local warehouse supports only FORMAT AS PARQUET MANIFEST, "
                f"got {', '.join(sorted(options)) or 'no options'}"
            )
        files = copy.args.get("files") or []
        if len(files) != 1 or not isinstance(files[0], exp.Literal) or not files[0].is_string:
            raise RedshiftRuleError(f"COPY into {table}: expected one quoted manifest location")
        location = files[0].name
        if "${" in location:
            raise RedshiftRuleError(
                f"COPY into {table}: the manifest location is still a placeholder; pass params "
                "(manifest_uri, iam_role_arn) to execute_script"
            )
        return location

    # -- analyst access ----------------------------------------------------------------------
    def query(self, sql_redshift: str) -> tuple[list[str], list[tuple]]:
        """Run one Redshift-dialect statement (GETDATE, NVL, DATEADD, ``::`` casts, LISTAGG, ...).

        Returns the column names and the rows (``([], [])`` when DuckDB reports no result set).
        """
        statements = self._split(sql_redshift)
        if len(statements) != 1:
            raise ValueError(f"query runs exactly one statement, got {len(statements)}")
        with column_types(self._column_types):
            item = self._translate(statements[0], label_columns=True)
        if item.kind is not Kind.SQL:
            raise ValueError("query runs plain SQL; use execute_script for COPY and transaction control")
        assert item.duckdb_sql is not None
        try:
            cursor = self._connection.execute(item.duckdb_sql)
        except duckdb.Error as error:
            raise WarehouseError(1, item.statement.short_text, _first_line(error)) from error
        if cursor.description is None:
            return [], []
        return [column[0] for column in cursor.description], cursor.fetchall()

    def json_lines_view(self, schema: str, name: str, files_glob: str) -> None:
        """``schema.name``: a view over JSON-lines files (all values as text), read afresh by every query.

        Local only: how the lake's quarantine becomes queryable with ``onboard query``."""
        for identifier in (schema, name):
            if not identifier.replace("_", "").isalnum():
                raise ValueError(f"not a plain identifier: {identifier!r}")
        location = files_glob.replace("'", "''")
        self._connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        self._connection.execute(
            f'CREATE OR REPLACE VIEW "{schema}"."{name}" AS SELECT * FROM read_json('  # noqa: S608 (checked names)
            f"'{location}', format = 'newline_delimited', union_by_name = true, auto_detect = true, "
            "sample_size = -1, hive_partitioning = false, filename = '_file')")

    def lake_views(self, source: str, table: TableSpec, files_glob: str) -> None:
        """``lake.<source>_batches`` over every batch's Parquet files and ``lake.<source>`` with the load mode's
        semantics (see framework.warehouse.lake_view): the processed zone as Athena sees it. Local only."""
        from framework.warehouse.lake_view import batches_name, lake_view

        check_identifier(source, "source")
        batches = exp.table_(batches_name(source), db="lake", quoted=True)
        location = files_glob.replace("'", "''")
        self._connection.execute('CREATE SCHEMA IF NOT EXISTS "lake"')
        self._connection.execute(
            f"CREATE OR REPLACE VIEW {batches.sql(dialect=WRITE)} AS SELECT * FROM read_parquet("  # noqa: S608
            f"'{location}', hive_partitioning = false, union_by_name = true)")
        view = exp.table_(source, db="lake", quoted=True).sql(dialect=WRITE)
        self._connection.execute(f"CREATE OR REPLACE VIEW {view} AS {lake_view(table, batches).sql(dialect=WRITE)}")

    def write_parquet(self, schema: str, name: str, path: str | os.PathLike[str]) -> None:
        """Write every row of ``schema.name`` to one Parquet file at ``path`` (a curated export, local only)."""
        relation = exp.select("*").from_(exp.table_(name, db=schema, quoted=True)).sql(dialect=WRITE)
        location = str(path).replace("'", "''")
        self._connection.execute(f"COPY ({relation}) TO '{location}' (FORMAT PARQUET)")

    def table_columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """``(name, DuckDB type)`` of a table's columns in order; empty when the table does not exist."""
        rows = self._connection.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [schema, table],
        ).fetchall()
        return [(name, data_type) for name, data_type in rows]

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
