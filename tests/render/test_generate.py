"""Generation: the checked-in generated/ is the golden output; it is deterministic, parseable and atomic."""

from __future__ import annotations

import shutil

import pytest
import sqlglot
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.render import on_disk, render_project
from framework.spec import load_project
from tests.conftest import REPO, write_source


def test_rendering_the_examples_reproduces_generated_byte_for_byte():
    from framework.render.datasets import dataset_files
    from framework.render.platform import platform_files
    from framework.spec.datasets import load_datasets

    project = Project.at(REPO)
    sources = load_project(project)
    datasets = load_datasets(project, sources)
    rendered = {**render_project(sources), **platform_files(REPO, sources, [d.schema for d in datasets]),
                **dataset_files(datasets)}
    assert rendered == on_disk(project), "generated/ is stale: run `onboard generate`"
    assert {**render_project(load_project(project)), **platform_files(REPO, sources, [d.schema for d in datasets]),
            **dataset_files(load_datasets(project, sources))} == rendered  # deterministic


@pytest.mark.parametrize("path", sorted(p for p in on_disk(Project.at(REPO))  # sqlglot has no UNLOAD parser:
                                         if p.endswith(".sql") and not p.startswith("_platform/")  # export.sql's
                                         and not p.endswith("/export.sql")  # text is asserted in test_datasets
                                         and not p.endswith("/athena/view.sql")))  # Athena SQL: the test below
def test_every_generated_sql_statement_parses_as_redshift(path):
    text = (REPO / "generated" / path).read_text(encoding="utf-8")
    statements = [s for s in sqlglot.parse(text, read="redshift") if s is not None]
    assert statements, path
    for statement in statements:
        assert not isinstance(statement, sqlglot.exp.Command), f"{path}: unparsed {statement.sql()[:60]}"


@pytest.mark.parametrize("path", sorted(p for p in on_disk(Project.at(REPO)) if p.endswith("/athena/view.sql")))
def test_every_athena_view_is_one_create_view_of_its_source_over_its_batches(path):
    from framework.render.athena import view_query

    source = path.split("/")[0]
    create = view_query((REPO / "generated" / path).read_text(encoding="utf-8"), "onboard_lake")
    assert isinstance(create, sqlglot.exp.Create) and create.kind == "VIEW" and create.args["replace"]
    assert create.this.sql(dialect="athena") == f"onboard_lake.{source}"
    assert {t.sql(dialect="athena") for t in create.expression.find_all(sqlglot.exp.Table)} == {
        f"onboard_lake.{source}_batches"}


def test_athena_views_by_load_mode():
    from framework.render.athena import view_statement
    from framework.warehouse.table import ColumnSpec, TableSpec

    columns = (ColumnSpec("id", "string", nullable=False), ColumnSpec("order", "integer"))
    def spec(mode: str) -> TableSpec:
        return TableSpec(schema="shop", table="orders", load_mode=mode, keys=("id",) if mode == "merge" else (),
                         columns=columns)
    batches = "${glue_database}.orders_batches"
    assert view_statement("orders", spec("append")) == (
        'CREATE OR REPLACE VIEW ${glue_database}.orders AS\nSELECT\n  id,\n  "order",\n  _batch_id,\n'
        f"  _ingested_at\nFROM {batches}")
    assert view_statement("orders", spec("replace")).endswith(
        f"FROM {batches}\nWHERE\n  _batch_id = (\n    SELECT\n      MAX(_batch_id)\n    FROM {batches}\n  )")
    assert "ROW_NUMBER() OVER (PARTITION BY id ORDER BY _batch_id DESC) AS _onboard_rank" in \
        view_statement("orders", spec("merge"))


def test_no_generated_file_holds_a_secret_value():
    for rel, text in on_disk(Project.at(REPO)).items():
        assert "demo-key" not in text, rel


def copy_examples(tmp_path) -> Project:
    for folder in ("sources", "schemas"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return Project.at(tmp_path)


def test_check_names_the_files_that_drifted(tmp_path):
    copy_examples(tmp_path)
    cli = CliRunner()
    assert cli.invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    ddl = tmp_path / "generated/customers/redshift/ddl.sql"
    ddl.write_text(ddl.read_text() + "-- edited by hand\n")
    (tmp_path / "generated/customers/extra.txt").write_text("x")
    (tmp_path / "generated/products/manifest.json").unlink()
    result = cli.invoke(main, ["--project", str(tmp_path), "generate", "--check"])
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        "stale: generated/customers/extra.txt",
        "differs: generated/customers/redshift/ddl.sql",
        "missing: generated/products/manifest.json",
    ]
    assert cli.invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    assert cli.invoke(main, ["--project", str(tmp_path), "generate", "--check"]).exit_code == 0


def test_a_failed_generate_leaves_generated_as_it_was(tmp_path, monkeypatch):
    project = copy_examples(tmp_path)
    cli = CliRunner()
    assert cli.invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    before = on_disk(project)
    write_source(project, "broken.yaml", "source:\n  name: broken\n  type: s3_file\n")
    result = cli.invoke(main, ["--project", str(tmp_path), "generate"])
    assert result.exit_code == 1
    assert "sources/broken.yaml:1:1: source: missing required key 'config'" in result.output
    assert on_disk(project) == before

    (project.sources_dir / "broken.yaml").unlink()
    import framework.render as render

    def explode(path, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(render.Path, "write_text", explode)
    with pytest.raises(OSError, match="disk full"):
        render.write_generated(project, render_project(load_project(project)))
    monkeypatch.undo()
    assert on_disk(project) == before
    assert not list(tmp_path.glob(".generated-*"))
