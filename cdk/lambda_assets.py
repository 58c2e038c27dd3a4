"""Lambda code built without Docker: the needed files are copied into a folder, then `Code.from_asset`.

A connector's asset holds `framework/__init__.py`, `framework/runtime/**` and the source's generated
`connector/` folder, nothing else; a loader's holds the same runtime and the source's `redshift/` SQL; the run
ledger task's the runtime alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import framework

FRAMEWORK_DIR = Path(framework.__file__).resolve().parent
CONNECTOR_HANDLER = "connector.handler.handler"
LOADER_HANDLER = "framework.runtime.warehouse_loader.handler"
RUNS_HANDLER = "framework.runtime.pipeline_runs.handler"
FLUSH_HANDLER = "framework.runtime.flush.handler"
FRESHNESS_HANDLER = "framework.runtime.freshness.handler"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def stage_runtime(target: Path) -> None:
    """`framework/__init__.py` and `framework/runtime/` (stdlib and boto3 only) into `target`."""
    package = target / "framework"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FRAMEWORK_DIR / "__init__.py", package / "__init__.py")
    shutil.copytree(FRAMEWORK_DIR / "runtime", package / "runtime", ignore=_SKIP)


def stage_connector(source_folder: Path, target: Path) -> Path:
    """The connector Lambda's code: the runtime plus `generated/<source>/connector/`."""
    _fresh(target)
    stage_runtime(target)
    shutil.copytree(source_folder / "connector", target / "connector", ignore=_SKIP)
    return target


def stage_loader(source_folder: Path, target: Path) -> Path:
    """The loader Lambda's code: the runtime plus the source's `redshift/ddl.sql`, `redshift/load.sql`,
    `redshift/migrations/` and `schema.lock.json` (as `redshift/schema.lock.json`)."""
    _fresh(target)
    stage_runtime(target)
    (target / "redshift").mkdir()
    for name in ("ddl.sql", "load.sql"):
        shutil.copyfile(source_folder / "redshift" / name, target / "redshift" / name)
    shutil.copyfile(source_folder / "schema.lock.json", target / "redshift" / "schema.lock.json")
    migrations = source_folder / "redshift" / "migrations"
    if migrations.is_dir():
        shutil.copytree(migrations, target / "redshift" / "migrations", ignore=_SKIP)
    return target


def stage_runs(target: Path) -> Path:
    """The run ledger task's (or a buffered source's flush's) code: the runtime only."""
    _fresh(target)
    stage_runtime(target)
    return target


def _fresh(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)


def relative_files(folder: Path) -> list[str]:
    """Every file under `folder`, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
