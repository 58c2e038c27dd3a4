"""Shared fixtures: a throwaway project folder and helpers to write source files into it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from framework.project import Project
from framework.spec import SpecErrors, load_project

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "sources").mkdir()
    return Project.at(tmp_path)


def write_source(project: Project, name: str, text: str) -> Path:
    path = project.sources_dir / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors_for(project: Project, text: str) -> list[str]:
    """Every validation error, as printed, for `text` written to sources/x.yaml (which must be invalid)."""
    write_source(project, "x.yaml", text)
    with pytest.raises(SpecErrors) as info:
        load_project(project)
    return [str(e) for e in info.value.errors]
