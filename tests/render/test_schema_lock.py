"""`onboard generate` keeps a schema lock and writes migrations; `onboard plan` shows them first; a change
that would lose data is refused with the column, the change and the way forward, and nothing is written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.render import on_disk
from tests.conftest import REPO, customers_example, edit_source


def cli(project: Project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)


@pytest.fixture
def customers(tmp_path) -> Project:
    project = customers_example(tmp_path)
    assert cli(project, "generate").exit_code == 0
    return project


def test_the_examples_are_locked_at_version_1_without_migrations():
    for folder in sorted(p.parent for p in (REPO / "generated").glob("*/manifest.json")):
        lock = json.loads((folder / "schema.lock.json").read_text(encoding="utf-8"))
        assert lock["version"] == 1, folder.name
        assert not (folder / "redshift/migrations").exists(), folder.name


def test_the_examples_plan_no_change():
    result = cli(Project.at(REPO), "plan")
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 7
    assert all(" no change (" in line and line.endswith("at schema version 1)") for line in result.output.splitlines())


def test_plan_exit_codes_and_generating_twice_is_byte_identical(customers):
    assert cli(customers, "plan").output == "customers: no change (sales.customers at schema version 1)\n"
    assert cli(customers, "plan", "customers").exit_code == 0
    edit_source(customers, "{name: country, type: string(64)}", "{name: country, type: string(80)}")
    assert cli(customers, "plan").exit_code == 3
    assert cli(customers, "generate").exit_code == 0
    first = on_disk(customers)
    assert "customers/redshift/migrations/V2__widen_country.sql" in first
    assert cli(customers, "generate").exit_code == 0
    assert on_disk(customers) == first
    assert cli(customers, "generate", "--check").exit_code == 0
    assert cli(customers, "plan").exit_code == 0


def test_a_narrowing_change_is_refused_and_nothing_is_written(customers):
    before = on_disk(customers)
    edit_source(customers, "{name: email, type: string(256)}", "{name: email, type: string(64)}")
    message = ("customers: column email: VARCHAR(256) -> VARCHAR(64) is refused: it narrows the column, and values "
               "already loaded may not fit. Way forward: keep max_length at 256 or more, or add a new column and "
               "drop this one with redshift.allow_drop.")
    generated = cli(customers, "generate")
    assert generated.exit_code == 1
    assert generated.output.splitlines() == [message, "1 schema change(s) refused; nothing was written"]
    assert on_disk(customers) == before
    planned = cli(customers, "plan")
    assert planned.exit_code == 1
    assert planned.output.splitlines() == [message, "1 schema change(s) refused"]
    checked = cli(customers, "generate", "--check")
    assert checked.exit_code == 1 and message in checked.output
    ran = cli(customers, "run", "customers", "--input", str(customers.root / "sources/samples/customers_data.json"))
    assert ran.exit_code == 1
    assert ran.output.splitlines() == [f"customers: {message}; see `onboard plan customers`"]


def test_allow_drop_drops_a_column_the_source_no_longer_has(customers):
    edit_source(customers, "      - {name: country, type: string(64)}\n", "")
    assert "column country: dropping the column is refused" in cli(customers, "generate").output
    edit_source(customers, "    load: {mode: merge", "    allow_drop: [country]\n    load: {mode: merge")
    assert cli(customers, "generate").exit_code == 0
    migration = (customers.generated_dir / "customers/redshift/migrations/V2__drop_country.sql").read_text()
    assert migration.endswith("BEGIN;\n\nALTER TABLE sales.customers DROP COLUMN country;\n\nCOMMIT;\n")
    assert "country" not in (customers.generated_dir / "customers/redshift/ddl.sql").read_text()


def test_every_crawler_updates_the_catalog_in_place_and_only_logs_deletions():
    for folder in sorted(p.parent for p in (REPO / "generated").glob("*/manifest.json")):
        crawler = json.loads((folder / "glue/crawler.json").read_text(encoding="utf-8"))
        assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}
