"""Render every artifact of every source, deterministically, and write them atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from framework.project import Project
from framework.render import athena, connector, glue_job, manifest, redshift
from framework.render.evolution import Previous, evolution_files, plan_source
from framework.spec import ResolvedSource


def _json(value: Any, source_file: str) -> str:
    body = {"_generated": f"by onboard from {source_file}; do not edit", **value}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def render_source(source: ResolvedSource, previous: Previous | None = None) -> dict[str, str]:
    """Relative path inside generated/<source>/ -> file text.

    ``previous`` is what generated/<source>/ held (its schema lock and migrations): a changed table adds
    migrations, and ddl.sql and the Glue job follow the table's physical column order. Raises
    ``EvolutionRefused`` for a change that cannot be made safely."""
    previous = previous or Previous()
    plan = plan_source(source, previous)
    evolution = evolution_files(source, plan, previous)
    return {
        "connector/handler.py": connector.handler_py(source),
        "connector/config.json": _json(connector.connector_config(source), source.file),
        "glue/job.py": glue_job.job_py(source, [c.name for c in plan.table.all_columns()]),
        "glue/crawler.json": _json(glue_job.crawler_json(source, plan.table), source.file),
        "athena/view.sql": athena.view_sql(source.name, source.file, plan.table),
        "redshift/ddl.sql": redshift.ddl_sql(source, plan.table),
        "redshift/load.sql": redshift.load_sql(source),
        "manifest.json": _json(manifest.manifest(source), source.file),
        **evolution,
    }


def render_project(sources: list[ResolvedSource], generated_dir: Path | None = None) -> dict[str, str]:
    """Path relative to generated/ -> file text, for every source.

    With ``generated_dir`` each source evolves from what its folder there holds (see render_source);
    without it every source renders as new (schema version 1)."""
    files: dict[str, str] = {}
    for source in sorted(sources, key=lambda s: s.name):
        previous = Previous.read(generated_dir / source.name) if generated_dir else None
        for rel, text in render_source(source, previous).items():
            files[f"{source.name}/{rel}"] = text
    return files


def on_disk(project: Project) -> dict[str, str]:
    root = project.generated_dir
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def drift(project: Project, files: dict[str, str]) -> list[str]:
    """Lines naming each generated file that differs from what would be rendered now."""
    current = on_disk(project)
    lines = []
    for rel in sorted(set(files) | set(current)):
        if rel not in current:
            lines.append(f"missing: generated/{rel}")
        elif rel not in files:
            lines.append(f"stale: generated/{rel}")
        elif current[rel] != files[rel]:
            lines.append(f"differs: generated/{rel}")
    return lines


def write_generated(project: Project, files: dict[str, str]) -> None:
    """Replace generated/ with exactly `files`, atomically: a failure leaves the old tree in place."""
    target = project.generated_dir
    project.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".generated-", dir=project.root))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        old = None
        if target.exists():
            old = target.with_name(f".generated-old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
