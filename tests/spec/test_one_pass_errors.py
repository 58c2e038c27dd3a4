"""`onboard validate` reports structural and semantic errors in one pass, and refuses YAML bombs at once."""

from __future__ import annotations

import time

from framework.spec import load_project
from tests.conftest import errors_for, write_source
from tests.spec.test_invalid_sources import VALID, variant

FOUR_ERRORS = (variant("    prefix: incoming/airports/", "    prefix: incoming/airports/\n    sufix: .csv")
               .replace("{name: latitude, type: double}", "{name: latitude, type: int}")
               .replace("name: airports", "name: Airport-Data")
               .replace("    sortkey: iata", "    distkey: code\n    sortkey: iata"))


def test_structural_and_semantic_errors_are_reported_together(project):
    assert errors_for(project, FOUR_ERRORS) == [
        "sources/x.yaml:2:9: source.name: 'Airport-Data' must be lower-case snake_case: a letter, then letters, "
        "digits or '_'",
        "sources/x.yaml:6:5: source.config.sufix: unknown key 'sufix'; did you mean 'suffix'? valid keys: bucket, "
        "prefix, suffix",
        "sources/x.yaml:12:32: source.schema.columns[2].type: unknown column type 'int'; did you mean 'integer'? "
        "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json",
        "sources/x.yaml:17:14: source.redshift.distkey: 'code' is not a column; choose from: iata, name, "
        "latitude, opened",
    ]


def test_checks_that_depend_on_a_broken_column_are_not_guessed(project):
    text = (variant("{name: latitude, type: double}", "{name: latitude, type: float}")
            + "  quality:\n    rules:\n      - {id: lat, column: latitude, rule: range, min: -90, max: 90}\n"
            + "      - {id: lat2, column: lattitude, rule: not_null}\n")
    assert errors_for(project, text) == [
        "sources/x.yaml:11:32: source.schema.columns[2].type: unknown column type 'float'; did you mean 'double'? "
        "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json",
        "sources/x.yaml:21:28: source.quality.rules[1].column: 'lattitude' is not a column; choose from: iata, "
        "name, latitude, opened",
    ]


def test_a_missing_required_key_stops_at_the_structural_errors(project):
    text = variant("    prefix: incoming/airports/", "    suffix: .csv").replace("name: airports", "name: Bad")
    assert errors_for(project, text) == ["sources/x.yaml:4:3: source.config: missing required key 'prefix'"]


SHARED = variant("    columns:\n      - {name: iata, type: string, nullable: false}\n      - {name: name, type: string}\n"
                 "      - {name: latitude, type: double}\n      - {name: opened, type: date}\n",
                 "    columns_from: airport_columns\n")


def test_missing_shared_schema_is_reported_where_each_source_names_it(project):
    write_source(project, "a.yaml", SHARED.replace("name: airports", "name: airports_a")
                 .replace("table: airports", "table: airports_a"))
    (project.root / "schemas").mkdir(exist_ok=True)
    (project.root / "schemas" / "other.yaml").write_text("columns: [{name: a}]\n", encoding="utf-8")
    assert errors_for(project, SHARED) == [
        "sources/a.yaml:8:19: source.schema.columns_from: shared schema 'airport_columns' not found: no "
        "schemas/airport_columns.yaml; choose from: other",
        "sources/x.yaml:8:19: source.schema.columns_from: shared schema 'airport_columns' not found: no "
        "schemas/airport_columns.yaml; choose from: other",
    ]


def billion_laughs(per_level: int = 9, levels: int = 7) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * per_level)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "source:\n  name: bomb\n  type: s3_file\n  config:\n    prefix: in/\n  x:\n" + \
        "".join(f"    {line}\n" for line in lines)


def test_nested_aliases_are_refused_at_the_alias_within_milliseconds(project):
    text = billion_laughs()
    assert len(text) < 1024
    started = time.perf_counter()
    errors = errors_for(project, text)
    elapsed = time.perf_counter() - started
    assert errors == ["sources/x.yaml:12:14: aliases expand past 10000 nodes at *a4; a source definition needs no "
                      "more: write the values out"]
    assert elapsed < 1.0, elapsed


def test_an_alias_inside_its_own_anchor_is_refused(project):
    text = VALID + "  x: &loop [1, *loop]\n"
    assert errors_for(project, text) == ["sources/x.yaml:18:16: alias *loop refers to a node that contains it"]


def test_a_modest_alias_still_works(project):
    text = VALID.replace("    load: {mode: merge, keys: [iata]}", "    load: {mode: merge, keys: &k [iata]}\n"
                         "    sortkey_again: *k").replace("    sortkey: iata\n", "")
    text = text.replace("    sortkey_again: *k", "    sortkey: *k")
    write_source(project, "x.yaml", text)
    [source] = load_project(project)
    assert source.definition.redshift.sortkeys == ["iata"]


def test_onboard_validate_prints_all_four_at_once(project):
    from click.testing import CliRunner

    from framework.cli import main

    write_source(project, "x.yaml", FOUR_ERRORS)
    result = CliRunner().invoke(main, ["--project", str(project.root), "validate"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "sources/x.yaml:2:9: source.name: 'Airport-Data' must be lower-case snake_case: a letter, then letters, "
        "digits or '_'",
        "sources/x.yaml:6:5: source.config.sufix: unknown key 'sufix'; did you mean 'suffix'? valid keys: bucket, "
        "prefix, suffix",
        "sources/x.yaml:12:32: source.schema.columns[2].type: unknown column type 'int'; did you mean 'integer'? "
        "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json",
        "sources/x.yaml:17:14: source.redshift.distkey: 'code' is not a column; choose from: iata, name, "
        "latitude, opened",
        "4 error(s)",
    ]


def test_a_broken_shared_schema_is_reported_once_in_its_own_file(project):
    write_source(project, "a.yaml", SHARED.replace("name: airports", "name: airports_a")
                 .replace("table: airports", "table: airports_a"))
    (project.root / "schemas").mkdir(exist_ok=True)
    (project.root / "schemas" / "airport_columns.yaml").write_text(
        "columns:\n  - {name: iata, type: strng}\n", encoding="utf-8")
    assert errors_for(project, SHARED) == [
        "schemas/airport_columns.yaml:2:24: columns[0].type: unknown column type 'strng'; did you mean 'string'? "
        "choose from: string, integer, bigint, double, decimal, boolean, date, timestamp, timestamptz, json"]
