"""Apply a source's schema migrations in order, each once, recording them in the warehouse.

Stdlib only: the deployed loader Lambda runs this through the Redshift Data API, `onboard run` through
the local DuckDB warehouse (each behind a small ``Executor``).

- ``onboard_meta.schema_migrations(source, version, name, checksum, applied_at)`` records what ran.
- A table that does not exist yet is created by ddl.sql at the latest version: every migration is then
  recorded as applied without running (a fresh install needs none of them).
- A table that exists without records predates migrations: it is at version 1 (recorded as ``baseline``).
- A migration file that starts with BEGIN runs with its record in one transaction; any other is one
  statement run alone (Redshift refuses ALTER COLUMN TYPE and the dist/sort ALTERs in a transaction block),
  then recorded.
- An applied migration whose file no longer has the recorded checksum stops everything (MigrationError).

``next_step`` decides one step at a time (the deployed loader submits it to the Data API and the state
machine polls it); ``migrate`` runs every step (the local runner).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from framework.runtime.load_sql import TRANSACTION_CONTROL, split_statements

META_SCHEMA = "onboard_meta"
META_TABLE = f"{META_SCHEMA}.schema_migrations"
BASELINE = "baseline"
_FILE_NAME = re.compile(r"V([1-9][0-9]*)__([a-z0-9_]+)\.sql")
_SAFE = re.compile(r"[A-Za-z0-9_]+")


class MigrationError(RuntimeError):
    """A migration could not be applied, or an applied one was changed afterwards."""


class Executor(Protocol):
    def query(self, sql: str) -> list[tuple]:
        """Rows of one SELECT."""

    def transaction(self, statements: list[str]) -> None:
        """Run the statements in one transaction."""

    def single(self, statement: str) -> None:
        """Run one statement outside any transaction block."""


@dataclass(frozen=True)
class MigrationFile:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def statements(self) -> list[str]:
        return [s.strip() for s in split_statements(self.text) if s.strip()]

    @property
    def transactional(self) -> bool:
        statements = self.statements
        return bool(statements) and _words(statements[0]) in TRANSACTION_CONTROL

    def body(self) -> list[str]:
        """The statements without BEGIN/COMMIT."""
        return [s for s in self.statements if _words(s) not in TRANSACTION_CONTROL]


def _words(statement: str) -> str:
    return " ".join(statement.upper().split())


def read_migrations(folder: Path) -> list[MigrationFile]:
    """``V<n>__<name>.sql`` files of ``folder`` in version order (none when the folder does not exist)."""
    found = []
    for path in sorted(folder.glob("V*.sql")) if folder.is_dir() else []:
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: a migration file is named V<version>__<name>.sql")
        found.append(MigrationFile(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(2, len(found) + 2)):
        raise MigrationError(f"migration versions must run 2, 3, ... without gaps; found {versions}")
    return found


def locked_table(lock_path: Path) -> tuple[str, str, int]:
    """``(schema, table, version)`` from a schema.lock.json."""
    document = json.loads(lock_path.read_text(encoding="utf-8"))
    return document["table"]["schema"], document["table"]["table"], int(document["version"])


def _literal(value: str) -> str:
    if not _SAFE.fullmatch(value):
        raise MigrationError(f"not a plain name: {value[:60]!r}")
    return f"'{value}'"


def record_sql(source: str, version: int, name: str, checksum: str) -> str:
    values = f"{_literal(source)}, {int(version)}, {_literal(name)}, {_literal(checksum or 'none')}, GETDATE()"
    return f"INSERT INTO {META_TABLE} (source, version, name, checksum, applied_at) VALUES ({values})"  # noqa: S608


def meta_statements() -> list[str]:
    return [f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}",
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (source VARCHAR(127) NOT NULL, version INTEGER NOT NULL, "
            "name VARCHAR(256) NOT NULL, checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL)"]


def applied(executor: Executor, source: str) -> dict[int, str]:
    """version -> checksum of what is recorded for ``source``."""
    rows = executor.query(f"SELECT version, checksum FROM {META_TABLE} "  # noqa: S608 (checked names)
                          f"WHERE source = {_literal(source)} ORDER BY version")
    return {int(version): str(checksum) for version, checksum in rows}


def table_exists(executor: Executor, schema: str, table: str) -> bool:
    rows = executor.query("SELECT COUNT(*) FROM information_schema.tables "  # noqa: S608 (checked names)
                          f"WHERE table_schema = {_literal(schema)} AND table_name = {_literal(table)}")
    return int(rows[0][0]) > 0


def version_disagreement(source: str, schema: str, table: str, done: dict[int, str],
                         migrations: list[MigrationFile]) -> str | None:
    """Why the warehouse's applied versions do not belong to this schema lock, or None.

    The warehouse is ahead when it recorded a version the lock does not have: the generated folder (and
    its lock) was deleted and generated again, starting over at version 1. Loading then would put rows of
    one shape into a table of another, so nothing runs until the two agree again."""
    locked = migrations[-1].version if migrations else 1
    ahead = sorted(v for v in done if v > locked)
    if not ahead:
        return None
    return (f"{source}: the warehouse table {schema}.{table} is at schema version {max(done)}, but "
            f"generated/{source}/schema.lock.json is at version {locked} (was generated/{source}/ deleted and "
            "generated again?); nothing was loaded. Restore the folder from version control (e.g. `git checkout "
            f"-- generated/{source}`), or start over: locally `onboard reset {source} --drop-table`, deployed "
            f"drop the table and delete the source's rows of {META_TABLE}; `onboard plan {source}` shows both "
            "versions")


@dataclass(frozen=True)
class Step:
    """The next thing to run: ``statements`` in one transaction, or (not ``transactional``) one statement
    alone followed by ``record`` once it finished."""

    name: str
    version: int
    statements: tuple[str, ...]
    transactional: bool
    record: str | None = None


def next_step(executor: Executor, source: str, *, schema: str, table: str, ddl_sql: str,
              migrations: list[MigrationFile]) -> Step | None:
    """What brings the source's table one step closer to the latest version; None when it is there."""
    executor.transaction(meta_statements())
    done = applied(executor, source)
    if (problem := version_disagreement(source, schema, table, done, migrations)) is not None:
        raise MigrationError(problem)
    for migration in migrations:
        if migration.version in done and done[migration.version] != migration.checksum:
            raise MigrationError(
                f"{source}: migration V{migration.version}__{migration.name}.sql was changed after it was applied "
                f"(checksum {migration.checksum[:12]}..., recorded {done[migration.version][:12]}...); "
                "restore the applied file and put new changes in a new migration")
    if not done:
        if not table_exists(executor, schema, table):
            ddl = [s.strip() for s in split_statements(ddl_sql) if s.strip()]
            records = [record_sql(source, 1, BASELINE, "")] + [
                record_sql(source, m.version, m.name, m.checksum) for m in migrations]
            return Step("create", migrations[-1].version if migrations else 1, tuple(ddl + records), True)
        executor.transaction([record_sql(source, 1, BASELINE, "")])
    for migration in migrations:
        if migration.version in done:
            continue
        record = record_sql(source, migration.version, migration.name, migration.checksum)
        name = f"V{migration.version}__{migration.name}"
        if migration.transactional:
            return Step(name, migration.version, (*migration.body(), record), True)
        body = migration.body()
        if len(body) != 1:
            raise MigrationError(f"{source}: {name}.sql runs outside a transaction block and must hold exactly one "
                                 f"statement, not {len(body)}")
        return Step(name, migration.version, tuple(body), False, record)
    return None


def migrate(executor: Executor, source: str, *, schema: str, table: str, ddl_sql: str,
            migrations: list[MigrationFile]) -> list[int]:
    """Bring the source's table to the latest version, step by step; return the migration versions that ran."""
    ran: list[int] = []
    while (step := next_step(executor, source, schema=schema, table=table, ddl_sql=ddl_sql,
                             migrations=migrations)) is not None:
        if step.transactional:
            executor.transaction(list(step.statements))
        else:
            executor.single(step.statements[0])
            executor.transaction([step.record])  # type: ignore[list-item]
        if step.name != "create":
            ran.append(step.version)
    return ran


def record_finished(executor: Executor, source: str, migrations: list[MigrationFile], version: int) -> None:
    """Record a migration that ran outside a transaction block once its statement finished (idempotent)."""
    if version in applied(executor, source):
        return
    [migration] = [m for m in migrations if m.version == version]
    executor.transaction([record_sql(source, migration.version, migration.name, migration.checksum)])
