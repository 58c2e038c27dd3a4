"""What each Lambda ships: the runtime package and the source's own generated files, nothing else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onboard_cdk.lambda_assets import relative_files, stage_connector, stage_loader
from tests.cdk import cfn
from tests.conftest import REPO

RUNTIME_FILES = sorted(f"framework/runtime/{p.relative_to(REPO / 'framework/runtime').as_posix()}"
                       for p in (REPO / "framework/runtime").rglob("*.py"))


def asset_dir(assembly: Path, template: dict, function_name: str) -> Path:
    function = next(f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                    if f["FunctionName"] == function_name)
    asset_hash = function["Code"]["S3Key"].removesuffix(".zip")
    return assembly / f"asset.{asset_hash}"


@pytest.mark.slow
@pytest.mark.parametrize("source", ["customers", "product_reviews", "products", "sales_transactions"])
def test_connector_asset_is_the_runtime_and_this_sources_connector_only(assembly, source):
    folder = asset_dir(assembly, cfn.load(assembly, f"Source-{source}"), f"onboard-{source}-land")
    assert relative_files(folder) == sorted(["connector/config.json", "connector/handler.py",
                                             "framework/__init__.py", *RUNTIME_FILES])
    config = json.loads((folder / "connector/config.json").read_text())
    assert config["source"] == source
    assert (folder / "connector/config.json").read_bytes() == (REPO / "generated" / source / "connector/config.json").read_bytes()


@pytest.mark.slow
def test_loader_asset_is_the_runtime_and_this_sources_sql_only(assembly):
    folder = asset_dir(assembly, cfn.load(assembly, "Source-sales_transactions"), "onboard-sales_transactions-load")
    assert relative_files(folder) == sorted(["redshift/ddl.sql", "redshift/load.sql", "redshift/schema.lock.json",
                                             "redshift/datasets.json", "framework/__init__.py", *RUNTIME_FILES])
    assert (folder / "redshift/load.sql").read_bytes() == \
        (REPO / "generated/sales_transactions/redshift/load.sql").read_bytes()


def test_the_loader_asset_carries_the_migrations_and_the_lock(tmp_path):
    generated = tmp_path / "generated/orders"
    shutil.copytree(REPO / "generated/sales_transactions", generated)
    (generated / "redshift/migrations").mkdir()
    (generated / "redshift/migrations/V2__add_note.sql").write_text("BEGIN;\nCOMMIT;\n")
    loader = stage_loader(generated, tmp_path / "loader")
    assert [f for f in relative_files(loader) if f.startswith("redshift/")] == [
        "redshift/ddl.sql", "redshift/load.sql", "redshift/migrations/V2__add_note.sql", "redshift/schema.lock.json"]
    assert (loader / "redshift/schema.lock.json").read_bytes() == (generated / "schema.lock.json").read_bytes()


def test_the_loader_asset_carries_the_projects_datasets_when_it_has_any(tmp_path):
    generated = tmp_path / "generated/sales_transactions"
    shutil.copytree(REPO / "generated/sales_transactions", generated)
    assert "redshift/datasets.json" not in relative_files(stage_loader(generated, tmp_path / "without"))
    shutil.copytree(REPO / "generated/_datasets", tmp_path / "generated/_datasets")
    loader = stage_loader(generated, tmp_path / "with")
    assert (loader / "redshift/datasets.json").read_bytes() == \
        (REPO / "generated/_datasets/datasets.json").read_bytes()


def test_staged_connector_imports_with_the_standard_library_alone(tmp_path):
    """-S: no site-packages, so neither pydantic, sqlglot nor boto3 can be imported at cold start."""
    folder = stage_connector(REPO / "generated/sales_transactions", tmp_path / "connector")
    loader = stage_loader(REPO / "generated/sales_transactions", tmp_path / "loader")
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import {module} as m; "
             "print(callable(m.handler), sorted(k for k in sys.modules if k.split('.')[0] in "
             "('boto3', 'botocore', 'pydantic', 'sqlglot', 'yaml', 'onboard_glue')))")
    for folder_, module in ((folder, "connector.handler"), (loader, "framework.runtime.warehouse_loader")):
        result = subprocess.run([sys.executable, "-S", "-c", probe.format(module=module), str(folder_)],
                                capture_output=True, text=True, cwd=tmp_path, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "True []"
