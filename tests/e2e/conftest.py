"""End-to-end fixtures: the repository's own project with its local state in a temp folder."""

from __future__ import annotations

import pytest

from framework.project import Project
from tests.conftest import REPO


@pytest.fixture
def repo_project(tmp_path, monkeypatch) -> Project:
    """The example project, with its lake and warehouse isolated per test."""
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    return Project.at(REPO)
