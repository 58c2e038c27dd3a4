"""The curated datasets' part of `onboard validate`, `generate`, `plan` and `run` (see framework.spec.datasets)."""

from __future__ import annotations

from pathlib import Path

from framework.project import Project
from framework.spec import SpecErrors
from framework.spec.datasets import Dataset, load_datasets


def dataset_problems(project: Project, sources: list, paths: list[Path] | None = None) -> tuple[list[Dataset], list]:
    """The project's datasets in dependency order, or the errors that stop them (as SpecError values)."""
    try:
        return load_datasets(project, sources, paths), []
    except SpecErrors as exc:
        return [], exc.errors


def datasets_or_exit(project: Project, sources: list, paths: list[Path] | None = None) -> list[Dataset]:
    """The project's datasets, or exit 1 printing every error as file:line:col: path: message."""
    from framework.cli import err

    datasets, errors = dataset_problems(project, sources, paths)
    if errors:
        for error in errors:
            err.print(str(error), markup=False)
        err.print(f"{len(errors)} error(s)", style="red")
        raise SystemExit(1)
    return datasets


def split_paths(project: Project, paths: tuple[str, ...]) -> tuple[tuple[str, ...], list[Path] | None]:
    """`onboard validate PATHS`: (source files, dataset files or None when no path is a dataset)."""
    folder = project.datasets_dir.resolve()
    datasets = [Path(p) for p in paths if Path(p).resolve().parent == folder]
    sources = tuple(p for p in paths if Path(p).resolve().parent != folder)
    return sources, datasets or None


def print_refreshed(summary) -> None:
    from framework.cli import out

    if getattr(summary, "datasets_refreshed", None):
        out.print(f"    refreshed datasets: {', '.join(summary.datasets_refreshed)}", markup=False)
    for name, why in sorted((getattr(summary, "dataset_errors", None) or {}).items()):
        out.print(f"    dataset {name} not refreshed: {why}", style="red", markup=False)
