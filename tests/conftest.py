"""Shared fixtures: a throwaway project folder and helpers to write source files into it."""

from __future__ import annotations

import os
import shutil
import signal
import textwrap
from pathlib import Path

import pytest

from framework.project import Project
from framework.spec import SpecErrors, load_project

REPO = Path(__file__).resolve().parent.parent

# Tests run the Glue job in-process (each test independent of a warm engine); engine tests turn it on.
os.environ["ONBOARD_ENGINE"] = "off"


@pytest.fixture(scope="session", autouse=True)
def _no_engine_outlives_the_tests(tmp_path_factory):
    """Kill any local engine a test started (in the session's temp folders) that is still running at the end."""
    yield
    base = str(tmp_path_factory.getbasetemp()).encode()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"framework.local.engine" in cmdline and base in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


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


def customers_example(root: Path) -> Project:
    """A project holding only the customers example and its sample file (not generated yet)."""
    (root / "sources" / "samples").mkdir(parents=True)
    shutil.copy(REPO / "sources/customers.yaml", root / "sources/customers.yaml")
    shutil.copy(REPO / "sources/samples/customers_data.json", root / "sources/samples/customers_data.json")
    return Project.at(root)


def edit_source(project: Project, old: str, new: str, name: str = "customers.yaml") -> None:
    """Replace `old` (which must be there) with `new` in a source definition."""
    path = project.sources_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
