"""Rehearsal fixtures: one synthesized assembly of the example project, and a project per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.project import Project
from tests.conftest import REPO

# The states a first batch of a source enters, from the trigger to Done: the table is created (a migration
# step, polled), so the crawler catalogs the new schema before the load.
LOADED = ["Ingest", "ResumeAt?", "Transform", "RecordTransform", "MigrationStart", "Migrate", "SchemaCurrent?",
          "SchemaChanging", "WaitForMigration", "MigrationStatus", "MigrationFinished?", "Migrate", "SchemaCurrent?",
          "SchemaChanged?", "Crawl", "Load", "LoadSubmitted?", "WaitForLoad", "LoadStatus", "LoadFinished?",
          "RecordSuccess", "Notify", "Done"]
CAUGHT = ["RecordFailure", "Alert", "Failed"]


def failed_at(task: str) -> list[str]:
    """The states entered when `task` fails on a first batch: up to its first entry, then the catch path."""
    return LOADED[:LOADED.index(task) + 1] + CAUGHT


@pytest.fixture(scope="session")
def rehearsal_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`onboard synth` of the example project into a folder of its own (cdk-nag and cfn-lint on)."""
    from framework.rehearse.command import assembly_for
    from onboard_cdk.synth import synthesize

    outdir = tmp_path_factory.mktemp("rehearsal") / "cdk.out"
    assembly_for(Project.at(REPO), outdir, lambda: synthesize(REPO, outdir))
    return outdir


@pytest.fixture
def repo_project(tmp_path, monkeypatch) -> Project:
    """The example project, with its lake, warehouse and ledger isolated per test."""
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    return Project.at(REPO)
