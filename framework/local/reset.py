"""`onboard reset SOURCE [--drop-table]`: deliberately start a source over in the local project.

It forgets everything the local pipeline remembers about the source: its run records, object claims and
incremental state in the ledger, its folders in every lake zone (raw, processed and its manifests, curated,
quarantine) and its rows of `onboard_meta.schema_migrations`. With `--drop-table` its warehouse table goes
too, so the next run creates it at the lock's version; without, the table and its rows stay, and the next
run takes the table as it is for version 1 of the current lock.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field

from framework.project import Project
from framework.runtime.lake import manifest_prefix, quarantine_prefix, raw_prefix
from framework.runtime.migrations import META_TABLE, _literal, meta_statements
from framework.spec import ResolvedSource
from framework.warehouse.identifiers import check_identifier


@dataclass
class ResetReport:
    runs: int = 0
    claims: int = 0
    folders: list[str] = field(default_factory=list)
    migrations: int = 0
    dropped: str | None = None


def reset_source(project: Project, source: ResolvedSource, *, drop_table: bool) -> ResetReport:
    """Forget the source locally (see the module docstring); what was removed."""
    report = ResetReport()
    name = source.name
    if project.ledger_path.is_file():
        with closing(sqlite3.connect(project.ledger_path, timeout=30)) as db, db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "runs" in tables:
                report.runs = db.execute("DELETE FROM runs WHERE source = ?", (name,)).rowcount
            if "object_claims" in tables:
                report.claims = db.execute("DELETE FROM object_claims WHERE source = ?", (name,)).rowcount
            if "ledger" in tables:  # incremental state (a REST source's cursor)
                db.execute("DELETE FROM ledger WHERE source = ?", (name,))
    processed = source.definition.destination.prefix or f"{name}/"
    for zone, prefix in (("raw", raw_prefix(name)), ("processed", processed), ("processed", manifest_prefix(name)),
                         ("curated", f"{name}/"), ("quarantine", quarantine_prefix(name))):
        folder = project.lake_dir / zone / prefix
        if folder.is_dir():
            shutil.rmtree(folder)
            report.folders.append(project.display(folder))
    if project.warehouse_path.exists():
        from framework.local.runner import DuckDBExecutor
        from framework.warehouse import DuckDBWarehouse

        with DuckDBWarehouse(project.warehouse_path) as warehouse:
            executor = DuckDBExecutor(warehouse)
            executor.transaction(meta_statements())
            report.migrations = len(executor.query(f"SELECT version FROM {META_TABLE} "  # noqa: S608 (checked)
                                                   f"WHERE source = {_literal(name)}"))
            statements = [f"DELETE FROM {META_TABLE} WHERE source = {_literal(name)}"]  # noqa: S608 (checked)
            if drop_table:
                schema = check_identifier(source.definition.redshift.schema_.lower(), "schema")
                table = check_identifier(source.definition.redshift.table.lower(), "table")
                statements.append(f"DROP TABLE IF EXISTS {schema}.{table}")
                report.dropped = f"{schema}.{table}"
            executor.transaction(statements)
    return report
