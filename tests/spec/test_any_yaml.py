"""Property: any YAML a user can write ends in a clean validation error or a valid generate, never a traceback."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework.project import Project
from framework.render import render_project
from framework.spec import SpecErrors, load_project

VALID = {"source": {
    "name": "airports", "type": "s3_file", "description": "Airports of the world",
    "config": {"prefix": "incoming/airports/"},
    "schema": {"type": "csv", "columns": [
        {"name": "iata", "type": "string", "nullable": False, "max_length": 3},
        {"name": "name", "type": "string"},
        {"name": "latitude", "type": "decimal(9,6)"},
        {"name": "opened", "type": "date"}]},
    "destination": {"partitionBy": ["year"], "partition_column": "opened"},
    "redshift": {"schema": "reference", "table": "airports", "sortkey": "iata", "distkey": "iata",
                 "load": {"mode": "merge", "keys": ["iata"], "order_by": "opened"}},
}}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["", "string", "decimal(10,2)", "decimal(99,99)", "string(0)", "merge",
                                           "iata", "${SECRET:x}", "${BUCKET:nope}", "${ENV:HOME}", "Select",
                                           "a" * 130, "csv", "json", "s3_file", "rest_api", "year"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated_definitions(draw: st.DrawFn) -> object:
    """The valid definition with a few places replaced by arbitrary values, deleted, or given unknown keys."""
    document: object = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        where = draw(st.sampled_from(paths(document)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not where:
            document = draw(values) if action == "replace" else document
            continue
        parent = document
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        if action == "replace":
            parent[last] = draw(values)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][draw(st.text(min_size=1, max_size=8))] = draw(values)
    return document


def outcome(tmp_path_factory, text: str) -> str:
    root = tmp_path_factory.mktemp("project")
    (root / "sources").mkdir()
    (root / "sources/x.yaml").write_text(text, encoding="utf-8")
    try:
        sources = load_project(Project.at(root))
    except SpecErrors as errors:
        assert errors.errors and all(str(e).startswith("sources/x.yaml") for e in errors.errors), errors.errors
        return "invalid"
    assert render_project(sources)
    return "valid"


def test_the_unmutated_definition_generates(tmp_path_factory):
    assert outcome(tmp_path_factory, yaml.safe_dump(VALID)) == "valid"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_definitions())
def test_any_mutated_definition_is_a_clean_error_or_generates(tmp_path_factory, document):
    outcome(tmp_path_factory, yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), st.builds(lambda v: yaml.safe_dump(v), values)))
def test_any_text_is_a_clean_error_or_generates(tmp_path_factory, text):
    outcome(tmp_path_factory, text)


def test_an_empty_column_list_is_a_positioned_error(tmp_path_factory):
    """Found by the property test: `columns: []` validated, then generate failed on a table without columns."""
    document = copy.deepcopy(VALID)
    document["source"]["schema"]["columns"] = []
    document["source"]["destination"] = {}
    document["source"]["redshift"] = {"schema": "reference", "table": "airports"}
    root = tmp_path_factory.mktemp("project")
    (root / "sources").mkdir()
    (root / "sources/x.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_project(Project.at(root))
    except SpecErrors as errors:
        assert [e for e in map(str, errors.errors) if "at least one column is needed" in e]
    else:
        raise AssertionError("an empty column list validated")
