"""One synthesis of the example project for every CDK test (through `onboard synth`, so nag and lint run)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from tests.conftest import REPO


@pytest.fixture(scope="session")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`onboard synth` of the repository's example sources: (cloud assembly folder, command output)."""
    outdir = tmp_path_factory.mktemp("example") / "cdk.out"
    result = CliRunner().invoke(main, ["--project", str(REPO), "synth", "--out", str(outdir)])
    assert result.exit_code == 0, result.output
    return outdir, result.output


@pytest.fixture(scope="session")
def assembly(example_synth: tuple[Path, str]) -> Path:
    return example_synth[0]


EXISTING_CLUSTER = textwrap.dedent("""\
    prefix: acme
    retention: {log_days: 90, quarantine_days: 14}
    analytics: {scan_limit_mb: 2048, results_days: 7}
    warehouse:
      kind: cluster
      cluster_identifier: analytics
      database: dev
      db_user: onboard_loader
      attached_role_arn: arn:aws:iam::123456789012:role/analytics-redshift-s3
    """)


@pytest.fixture(scope="session")
def one_source_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of its own: the sales_transactions example with its own Glue settings, generated, and a
    deploy.yaml naming an existing cluster."""
    from framework.project import Project
    from framework.render import render_project, write_generated
    from framework.spec import load_project

    root = tmp_path_factory.mktemp("one-source")
    (root / "sources").mkdir()
    source = (REPO / "sources/sales_transactions.yaml").read_text(encoding="utf-8")
    (root / "sources/sales_transactions.yaml").write_text(
        source + "  glue: {worker_type: G.2X, workers: 5, timeout_minutes: 30, crawl: false}\n", encoding="utf-8")
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "sources/samples", root / "sources/samples")
    project = Project.at(root)
    write_generated(project, render_project(load_project(project)))
    (root / "deploy.yaml").write_text(EXISTING_CLUSTER, encoding="utf-8")
    return root
