"""Every path field is checked by `onboard validate` with the one path parser: a broken path is a positioned
error naming the character, all of them in one pass; valid OData-style paths pass."""

from __future__ import annotations

from framework.spec import load_project
from tests.conftest import errors_for, write_source

SOURCE = """
source:
  name: graph_users
  type: rest_api
  config:
    endpoint: https://graph.example.com/v1.0/users
    schedule: rate(1 hour)
  pagination:
    type: cursor
    cursor_path: {cursor_path}
    has_more_path: {has_more_path}
  incremental:
    cursor_field: {cursor_field}
    param: since
  schema:
    type: json
    records_path: {records_path}
    mapping:
      id: id
      ref: {mapping}
    columns:
      - {{name: id}}
      - {{name: ref}}
      - {{name: etag, source: {source}}}
  redshift:
    schema: directory
    table: users
"""
GOOD = {"cursor_path": "'@odata.nextLink'", "has_more_path": "meta.more", "cursor_field": "'meta.\"last.modified\"'",
        "records_path": "value", "mapping": "'manager.\"@odata.id\"'", "source": "'@odata.etag'"}


def test_odata_style_paths_are_valid(project):
    write_source(project, "graph_users.yaml", SOURCE.format(**GOOD))
    [source] = load_project(project)
    assert [c.source for c in source.columns] == ["id", 'manager."@odata.id"', "@odata.etag"]


def test_every_broken_path_is_reported_at_its_field(project):
    bad = {"cursor_path": "'meta..next'", "has_more_path": "'meta.'", "cursor_field": "'\"updated'",
           "records_path": "'.value'", "mapping": "'manager.\"@odata.id'", "source": "'a\"b'"}
    assert errors_for(project, SOURCE.format(**bad)) == [
        "sources/x.yaml:9:18: source.pagination.cursor_path: 'meta..next' is not a valid path: empty segment at "
        "character 6: two dots in a row, or a dot at the start or the end",
        "sources/x.yaml:10:20: source.pagination.has_more_path: 'meta.' is not a valid path: empty segment at "
        "character 5: the path ends with a dot",
        "sources/x.yaml:12:19: source.incremental.cursor_field: '\"updated' is not a valid path: unclosed quote: "
        "the '\"' at character 1 has no closing '\"'",
        "sources/x.yaml:16:19: source.schema.records_path: '.value' is not a valid path: empty segment at character "
        "1: two dots in a row, or a dot at the start or the end",
        "sources/x.yaml:19:12: source.schema.mapping.ref: 'manager.\"@odata.id' is not a valid path: unclosed "
        "quote: the '\"' at character 9 has no closing '\"'",
        "sources/x.yaml:23:30: source.schema.columns[2].source: 'a\"b' is not a valid path: a quote may only open "
        "a segment (character 2); quote the whole segment, e.g. a.\"b.c\"",
    ]
