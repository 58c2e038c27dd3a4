"""Curated datasets in the local warehouse: rebuilt after every load of a table they read.

DuckDB has no materialized views. A materialized dataset is emulated by a table rebuilt from the dataset's
SQL (DROP + CREATE TABLE AS in one transaction, so a reader sees the old rows or the new ones, never none),
right after each load of a table it reads: like a Redshift materialized view refreshed by the loader, it
holds the rows as of its last refresh. A plain dataset (``materialized: false``) is a DuckDB view, re-created
the same way (it reads the tables afresh on every query). A dataset whose tables are not all loaded yet
waits: it is built by the load that completes its inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from framework.spec.datasets import Dataset
from framework.warehouse import DuckDBWarehouse
from framework.warehouse.identifiers import sql_name

EXPORT_FILE = "data.parquet"


@dataclass
class Refreshed:
    """What one load did to the datasets: rebuilt (in order), waiting (inputs missing), failed (name -> why)."""

    rebuilt: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def affected(datasets: list[Dataset], loaded_table: str) -> list[Dataset]:
    """The datasets that read ``loaded_table`` directly or through other datasets, in dependency order
    (``datasets`` come in dependency order from ``load_datasets``)."""
    changed = {loaded_table.lower()}
    out = []
    for dataset in datasets:
        if changed.intersection(dataset.reads):
            out.append(dataset)
            changed.add(dataset.table)
    return out


def _existing_kind(warehouse: DuckDBWarehouse, schema: str, name: str) -> str | None:
    rows = warehouse.query(
        "SELECT table_type FROM information_schema.tables "  # noqa: S608 (literals of checked identifiers)
        f"WHERE table_schema = '{schema}' AND table_name = '{name}'")[1]
    return None if not rows else ("VIEW" if rows[0][0] == "VIEW" else "TABLE")


def _exists(warehouse: DuckDBWarehouse, table: str) -> bool:
    schema, name = table.split(".", 1)
    return _existing_kind(warehouse, schema, name) is not None


def rebuild(warehouse: DuckDBWarehouse, dataset: Dataset) -> None:
    """Replace the dataset's table (materialized) or view with the result of its SQL, in one transaction."""
    name = sql_name(dataset.schema, dataset.name)
    statements = ["BEGIN", f"CREATE SCHEMA IF NOT EXISTS {sql_name(dataset.schema)}"]
    kind = _existing_kind(warehouse, dataset.schema, dataset.name)
    if kind is not None:
        statements.append(f"DROP {kind} {name}")
    created = "TABLE" if dataset.materialized else "VIEW"
    statements.append(f"CREATE {created} {name} AS {dataset.sql}")
    statements.append("COMMIT")
    warehouse.execute_script(";\n".join(statements) + ";\n")


def export(warehouse: DuckDBWarehouse, dataset: Dataset, lake_dir: Path) -> Path:
    """Write the dataset's rows to ``<lake>/curated/<dataset>/data.parquet`` (replaced atomically)."""
    folder = lake_dir / "curated" / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / EXPORT_FILE
    partial = folder / f".{EXPORT_FILE}.partial"
    warehouse.write_parquet(dataset.schema, dataset.name, partial)
    os.replace(partial, target)
    return target


def refresh_after_load(warehouse: DuckDBWarehouse, datasets: list[Dataset], loaded_table: str,
                       lake_dir: Path) -> Refreshed:
    """Rebuild (and export) every dataset reading ``loaded_table``, in dependency order."""
    result = Refreshed()
    for dataset in affected(datasets, loaded_table):
        missing = [t for t in dataset.reads if not _exists(warehouse, t)]
        if missing:
            result.waiting.append(dataset.name)
            continue
        try:
            rebuild(warehouse, dataset)
            if dataset.export:
                export(warehouse, dataset, lake_dir)
        except Exception as exc:  # reported with the run; the load itself is committed
            result.failed[dataset.name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            continue
        result.rebuilt.append(dataset.name)
    return result
