"""schema.lock.json and redshift/migrations/: what the source's table was last generated as, and the steps
from there to the table the source defines now (framework.warehouse.evolution decides them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.render.redshift import table_spec
from framework.render.templates import render
from framework.spec import ResolvedSource
from framework.warehouse.evolution import Plan, lock_document, plan_evolution

LOCK_FILE = "schema.lock.json"
MIGRATIONS_DIR = "redshift/migrations"


@dataclass(frozen=True)
class Previous:
    """What generated/<source>/ holds now: the lock (None before the first generate) and the migrations."""

    lock: dict[str, Any] | None = None
    migrations: dict[str, str] = field(default_factory=dict)  # relative path -> text

    @classmethod
    def read(cls, source_dir: Path) -> Previous:
        lock_path = source_dir / LOCK_FILE
        lock = json.loads(lock_path.read_text(encoding="utf-8")) if lock_path.is_file() else None
        folder = source_dir / MIGRATIONS_DIR
        migrations = {f"{MIGRATIONS_DIR}/{p.name}": p.read_text(encoding="utf-8")
                      for p in sorted(folder.glob("V*.sql"))} if folder.is_dir() else {}
        return cls(lock, migrations)


class EvolutionRefused(Exception):
    """A source's change that cannot be made safely; ``messages`` say why and what to do."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def plan_source(source: ResolvedSource, previous: Previous) -> Plan:
    d = source.definition.redshift
    return plan_evolution(previous.lock, table_spec(source), [c.lower() for c in d.allow_drop])


def evolution_files(source: ResolvedSource, plan: Plan, previous: Previous) -> dict[str, str]:
    """The lock at the plan's version, the migrations already generated and the new ones."""
    if plan.refusals:
        raise EvolutionRefused([r.message(source.name) for r in plan.refusals])
    files = dict(previous.migrations)
    for migration in plan.migrations:
        files[f"{MIGRATIONS_DIR}/{migration.filename}"] = render(
            "migration.sql.j2", source.file, migration=migration, table=plan.table.qualified_name)
    body = {"_generated": f"by onboard from {source.file}; do not edit", **lock_document(plan.table, plan.version)}
    files[LOCK_FILE] = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return files
