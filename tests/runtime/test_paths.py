"""One path syntax for every path field: the parser, its readings, and each field that reads a path through it
(records_path, has_more_path, total_path, cursor_path, next_url_path, the last_record field,
incremental.cursor_field, a column's source). The Glue side: tests/glue/test_glue_paths.py."""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest

from framework.runtime.connectors.rest_api import _greatest
from framework.runtime.paths import MISSING, PathError, lookup, parse_path, readings
from framework.runtime.records import record_errors, value_at
from framework.runtime.rest.http import HttpResponse
from framework.runtime.rest.pagination import (
    Cursor,
    LastRecord,
    NextUrl,
    Offset,
    Page,
    PageNumber,
    PageRequest,
    PaginationError,
)
from framework.runtime.rest.records import RecordsError, records_of


@pytest.mark.parametrize(("text", "segments"), [
    ("id", ("id",)),
    ("meta.next_cursor", ("meta", "next_cursor")),
    ("@odata.nextLink", ("@odata", "nextLink")),
    ('value."@odata.id"', ("value", "@odata.id")),
    ('"a.b".c', ("a.b", "c")),
    ('"a.b"', ("a.b",)),
    ('"say \\"hi\\"".x', ('say "hi"', "x")),
    ('"back\\\\slash"', ("back\\slash",)),
    ('"".x', ("", "x")),  # a quoted segment may name the empty key
    ("items.0.id", ("items", "0", "id")),
    ("with space.$x", ("with space", "$x")),
])
def test_paths_parse_into_segments(text: str, segments: tuple[str, ...]) -> None:
    assert parse_path(text) == segments


@pytest.mark.parametrize(("text", "message", "position"), [
    ("", "a path must not be empty", 0),
    (".a", "empty segment at character 1: two dots in a row, or a dot at the start or the end", 0),
    ("a..b", "empty segment at character 3: two dots in a row, or a dot at the start or the end", 2),
    ("a.", "empty segment at character 2: the path ends with a dot", 1),
    ('value."@odata.id', "unclosed quote: the '\"' at character 7 has no closing '\"'", 6),
    ('a"b', "a quote may only open a segment (character 2); quote the whole segment, e.g. a.\"b.c\"", 1),
    ('"a"b', "expected '.' after the quoted segment at character 4", 3),
])
def test_bad_paths_name_the_character(text: str, message: str, position: int) -> None:
    with pytest.raises(PathError) as error:
        parse_path(text)
    assert (str(error.value), error.value.position) == (message, position)


def test_a_dotted_path_is_first_read_as_a_literal_key() -> None:
    assert readings("@odata.nextLink") == (("@odata.nextLink",), ("@odata", "nextLink"))
    assert readings('value."@odata.id"') == (("value", "@odata.id"),)  # quotes: exactly these segments
    assert readings("id") == (("id",),)


DOCUMENT = {
    "plain": "p",
    "meta": {"next": "n1", "has.dot": "h1"},
    "@odata.nextLink": "literal",
    "@odata": {"nextLink": "nested"},
    "items": [{"id": "i0"}, {"id": "i1"}],
    "value": [{"@odata.id": "x"}],
    "a.b": {"c": "quoted-first"},
    "a": {"b": {"c": "nested-c"}},
}


@pytest.mark.parametrize(("path", "expected"), [
    ("plain", "p"),
    ("meta.next", "n1"),
    ('meta."has.dot"', "h1"),
    ("@odata.nextLink", "literal"),  # the key that is there literally wins
    ('"@odata".nextLink', "nested"),  # quoting asks for the segments
    ('"a.b".c', "quoted-first"),
    ("a.b.c", "nested-c"),
    ("items.1.id", "i1"),
    ("items.-1.id", "i1"),
    ('value.0."@odata.id"', "x"),
    ("items.2.id", MISSING),
    ("meta.absent", MISSING),
    ("absent", MISSING),
    ("plain.deeper", MISSING),  # a string has no keys
    ("value.0.@odata", MISSING),
])
def test_lookup(path: str, expected: Any) -> None:
    assert lookup(DOCUMENT, path) is expected if expected is MISSING else lookup(DOCUMENT, path) == expected


def test_records_and_columns_name_keys_not_list_positions() -> None:
    assert lookup(DOCUMENT, "items.1.id", positions=False) is MISSING
    assert lookup({"items": {"1": {"id": "k"}}}, "items.1.id", positions=False) == "k"


# -- every path field reads its path through the same lookup ----------------------------------------------

DECOY = "decoy"
# (form, path, document holding `value` at the path (and a decoy where a wrong reading would look))
FORMS = [
    ("plain key", "k", lambda v: {"k": v}),
    ("nested", "meta.k", lambda v: {"meta": {"k": v}}),
    ("literal dotted key", "@odata.k", lambda v: {"@odata.k": v, "@odata": {"k": DECOY}}),
    ("quoted segment", 'meta."@odata.k"', lambda v: {"meta": {"@odata.k": v, "@odata": {"k": DECOY}}}),
    ("quoted, then nested", '"a.b".k', lambda v: {"a.b": {"k": v}, "a": {"b": {"k": DECOY}}}),
    ("missing", "meta.nope", lambda v: {"meta": {"k": v}}),
    ("list position", "items.-1.k", lambda v: {"items": [{"k": DECOY}, {"k": v}]}),
]
# Records paths and column sources name object keys only (the Glue job reads them with a fixed schema).
KEYS_ONLY = ("records_path", "column source (push records)")


def page(body: Any, records: list[Any] | None = None, url: str = "https://api.example.com/v1/things") -> Page:
    response = HttpResponse(url, 200, Message(), b"")
    return Page(1, PageRequest(url), response, body, records if records is not None else [{"id": 1}])


def _param(request: PageRequest | None, name: str) -> str | None:
    return dict(request.params).get(name) if request is not None else None


def _last_record(body: dict, path: str) -> Any:
    try:
        return _param(LastRecord({"field": path, "param": "after"})._next(page({}, [body])), "after")
    except PaginationError:
        return "error"


def _records(body: dict, path: str) -> Any:
    try:
        return records_of(body, path, "the test")
    except RecordsError:
        return "error"


# field -> (the value placed at the path, how the field's code reads the document, what it gives when missing)
FIELDS = {
    "records_path": ([{"id": 1}], _records, "error"),
    "has_more_path": (True, lambda body, path: PageNumber({"has_more_path": path}).after(page(body)) is not None,
                      False),
    "total_path": (1, lambda body, path: Offset({"limit": 1, "total_path": path}).after(page(body)) is None, False),
    "cursor_path": ("c2", lambda body, path: _param(Cursor({"cursor_path": path}).after(page(body)), "cursor"),
                    None),
    "next_url_path": ("https://api.example.com/v1/things?$skiptoken=2",
                      lambda body, path: (NextUrl({"next_url_path": path}).after(page(body)) or PageRequest("")).url,
                      ""),
    "pagination.field (last_record)": ("r9", _last_record, "error"),
    "incremental.cursor_field": ("2024-11-16T10:00:00Z", lambda body, path: _greatest(None, [body], path), None),
    "column source (push records)": ("v", value_at, None),
}


@pytest.mark.parametrize("form", FORMS, ids=[f[0] for f in FORMS])
@pytest.mark.parametrize("field", FIELDS)
def test_every_path_field_reads_every_form(field: str, form: tuple) -> None:
    value, read, when_missing = FIELDS[field]
    name, path, place = form
    absent = name == "missing" or (name == "list position" and field in KEYS_ONLY)
    assert read(place(value), path) == (when_missing if absent else value)


def test_a_column_source_path_decides_what_a_push_record_must_carry() -> None:
    columns = [{"name": "etag", "source": "@odata.etag", "type": "string", "nullable": False},
               {"name": "ref", "source": 'manager."@odata.id"', "type": "string", "nullable": False}]
    assert record_errors({"@odata.etag": "W/1", "manager": {"@odata.id": "m1"}}, columns) == []
    assert record_errors({"@odata": {"etag": "W/1"}, "manager": {"@odata": {"id": "m1"}}}, columns) == [
        "not_null: ref"]  # the nested reading of an unquoted path still counts; a quoted one does not
