"""Curated datasets after a deployed load: create or refresh the views that read the loaded table, then UNLOAD.

The loader's asset ships `generated/_datasets/datasets.json` as `redshift/datasets.json`: every dataset in
dependency order with the tables it reads, the statements that create its view, its REFRESH and its UNLOAD.
After a load of `schema.table` finished, the loader walks the datasets that read it (directly or through
another dataset), in that order:
- a dataset whose tables do not all exist yet waits (the load that completes its inputs creates it);
- a dataset that does not exist yet is created (a new materialized view is computed when it is created);
- a materialized dataset that exists is refreshed (REFRESH MATERIALIZED VIEW runs as its own transaction,
  so it is sent alone, never inside a batch);
- with `export`, the dataset is unloaded as Parquet to `ONBOARD_CURATED_URI` (`s3://<curated bucket>/curated/`)
  with the COPY role; without that variable the export is refused with an error, never skipped silently.
Standard library only (it runs in the loader Lambda).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)
DATASETS_FILE = "datasets.json"
CURATED_URI_ENV = "ONBOARD_CURATED_URI"
_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
_S3_PREFIX = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/(?:[A-Za-z0-9_\-./]*/)?")
_ROLE = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_\-/]+(?:,arn:aws[a-z\-]*:iam::\d{12}:role/"
                   r"[A-Za-z0-9+=,.@_\-/]+)*")


class Executor(Protocol):
    def query(self, sql: str) -> list[tuple]: ...
    def single(self, statement: str) -> None: ...


def read_datasets(sql_dir: Path) -> list[dict[str, Any]]:
    """The datasets the asset ships, in dependency order (none when the project has no datasets/)."""
    path = sql_dir / DATASETS_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["datasets"]


def affected(datasets: list[dict[str, Any]], loaded_table: str) -> list[dict[str, Any]]:
    """The datasets reading ``loaded_table`` directly or through other datasets, in dependency order."""
    changed = {loaded_table.lower()}
    out = []
    for dataset in datasets:
        if changed.intersection(dataset["reads"]):
            out.append(dataset)
            changed.add(dataset["table"])
    return out


def existing(executor: Executor, tables: list[str]) -> set[str]:
    """Which of ``tables`` (``schema.name``, plain lower-case names) exist as tables, views or materialized views."""
    pairs: list[tuple[str, str]] = []
    for table in tables:
        schema, _, name = table.partition(".")
        if not (_NAME.fullmatch(schema) and _NAME.fullmatch(name)):
            raise ValueError(f"not a plain schema.table name: {table!r}")
        pairs.append((schema, name))
    if not pairs:
        return set()

    def matching(schema_column: str, name_column: str) -> str:
        return " OR ".join(f"({schema_column} = '{s}' AND {name_column} = '{n}')" for s, n in pairs)

    # svv_table_info lists only tables holding rows: ask the catalog; svv_mv_info's names are CHAR(128)
    rows = executor.query(
        f"SELECT schemaname || '.' || tablename FROM pg_tables WHERE {matching('schemaname', 'tablename')} "  # noqa: S608
        f"UNION SELECT schemaname || '.' || viewname FROM pg_views WHERE {matching('schemaname', 'viewname')} "
        f"UNION SELECT trim(schema_name) || '.' || trim(name) FROM svv_mv_info "
        f"WHERE {matching('trim(schema_name)', 'trim(name)')}")
    return {str(row[0]) for row in rows}


def unload_statement(dataset: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """The dataset's UNLOAD with ``${curated_uri}`` and ``${iam_role_arn}`` filled in with checked values."""
    curated = environ.get(CURATED_URI_ENV, "")
    role = environ.get("ONBOARD_COPY_ROLE_ARN", "")
    if not _S3_PREFIX.fullmatch(curated):
        raise ValueError(f"{CURATED_URI_ENV} must be an s3://bucket/prefix/ location to export {dataset['name']}")
    if not _ROLE.fullmatch(role):
        raise ValueError(f"ONBOARD_COPY_ROLE_ARN is not an IAM role ARN (or chain); cannot export {dataset['name']}")
    return dataset["unload"].replace("${curated_uri}", curated).replace("${iam_role_arn}", role)


def refresh_after_load(executor: Executor, sql_dir: Path, loaded_table: str,
                       environ: Mapping[str, str]) -> dict[str, list[str]]:
    """Create, refresh and export the datasets reading ``loaded_table``; what was done to which dataset."""
    todo = affected(read_datasets(sql_dir), loaded_table)
    done: dict[str, list[str]] = {"created": [], "refreshed": [], "exported": [], "waiting": []}
    if not todo:
        return done
    present = existing(executor, sorted({t for d in todo for t in [*d["reads"], d["table"]]}))
    for dataset in todo:
        if not set(dataset["reads"]) <= present:
            done["waiting"].append(dataset["name"])
            continue
        if dataset["table"] not in present:
            for statement in dataset["create"]:
                executor.single(statement)
            present.add(dataset["table"])
            done["created"].append(dataset["name"])
        elif dataset["refresh"]:
            executor.single(dataset["refresh"])
            done["refreshed"].append(dataset["name"])
        if dataset.get("unload"):
            executor.single(unload_statement(dataset, environ))
            done["exported"].append(dataset["name"])
        log.info("dataset %s is current after the load of %s", dataset["name"], loaded_table)
    return done
