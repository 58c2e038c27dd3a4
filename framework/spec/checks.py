"""Semantic rules a structurally valid source definition must also satisfy.

Each problem is `(path, message, at_key)`: the dotted path into the YAML, what is wrong and how to fix
it, and whether to point at the key rather than the value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.runtime.paths import path_problem
from framework.spec.errors import choices_hint
from framework.spec.identifiers import LINEAGE_COLUMNS, RESERVED_COLUMNS, identifier_problem, source_name_problem
from framework.spec.models import SourceBase
from framework.spec.references import reference_problems

if TYPE_CHECKING:
    from framework.project import Project
    from framework.spec.loader import ResolvedColumn

Problem = tuple[tuple[str | int, ...], str, bool]
MAX_COLUMNS = 1600 - len(LINEAGE_COLUMNS)
DATE_TYPES = ("date", "timestamp", "timestamptz")


def problems(definition: SourceBase, body: dict[str, Any], columns: list[ResolvedColumn],
             project: Project) -> list[Problem]:
    found: list[Problem] = []
    found += _names(definition)
    found += _text_options(definition)
    found += _references(body)
    schema = definition.schema_
    if not columns and (schema.columns is not None or schema.mapping is not None):
        key = "columns" if schema.columns is not None else "mapping"
        found.append((("source", "schema", key), "at least one column is needed", False))
    if columns:
        found += _missing_columns(definition, columns)
        found += _columns(definition, body, columns)
        found += _table_keys(definition, columns)
        found += _partitions(definition, columns)
        found += _dropped_pii(definition, columns)
        found += _quality(definition, columns)
        found += _column_paths(definition, body, columns)
    found += _api_paths(definition)
    found += _example(definition, project)
    found += definition.kind_problems()
    return found


def _names(d: SourceBase) -> Iterator[Problem]:
    if problem := source_name_problem(d.name):
        yield ("source", "name"), problem, False
    for key, value in (("schema", d.redshift.schema_), ("table", d.redshift.table)):
        if problem := identifier_problem(value):
            yield ("source", "redshift", key), problem, False


def _references(body: dict[str, Any]) -> Iterator[Problem]:
    def walk(value: Any, path: tuple[str | int, ...]) -> Iterator[Problem]:
        if isinstance(value, str):
            for problem in reference_problems(value):
                yield path, problem, False
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, path + (i,))

    for block in ("config", "destination", "auth", "pagination", "incremental"):
        if block in body:
            yield from walk(body[block], ("source", block))


def _column_path(body: dict[str, Any], column: ResolvedColumn, index: int) -> tuple[tuple[str | int, ...], bool]:
    schema = body.get("schema", {})
    if isinstance(schema.get("columns"), list):
        return ("source", "schema", "columns", index, "name"), False
    return ("source", "schema", "mapping", column.spec_name), True


def _columns(d: SourceBase, body: dict[str, Any], columns: list[ResolvedColumn]) -> Iterator[Problem]:
    if len(columns) > MAX_COLUMNS:
        yield ("source", "schema"), f"{len(columns)} columns; a Redshift table allows {MAX_COLUMNS} besides " \
                                    "the lineage columns", False
    seen: dict[str, str] = {}
    for i, column in enumerate(columns):
        path, at_key = _column_path(body, column, i)
        if problem := identifier_problem(column.spec_name, column=True):
            yield path, problem, at_key
        elif column.name in RESERVED_COLUMNS:
            yield path, f"'{column.spec_name}' is reserved by Onboard ({', '.join(RESERVED_COLUMNS)}); " \
                        "rename it, e.g. with mapping", at_key
        elif column.name in seen:
            yield path, f"'{column.spec_name}' and '{seen[column.name]}' are the same column in Redshift, " \
                        "which folds names to lower case", at_key
        seen.setdefault(column.name, column.spec_name)


PATH_FORMATS = ("json", "jsonl", "parquet")  # a column's source is a path; in csv and xlsx a header name
API_PATHS = ("has_more_path", "total_path", "cursor_path", "next_url_path", "field")


def _column_paths(d: SourceBase, body: dict[str, Any], columns: list[ResolvedColumn]) -> Iterator[Problem]:
    """Columns' sources (a mapping value, a column's `source`, or one from `columns_from`) parse as paths."""
    schema = d.schema_
    if schema.type not in PATH_FORMATS:
        return
    mapping = {target.lower(): target for target in schema.mapping or {}}
    inline = {c.name.lower(): i for i, c in enumerate(schema.columns or [])}
    for column in columns:
        if (problem := path_problem(column.source)) is None:
            continue
        if column.name in mapping:
            where: tuple[str | int, ...] = ("source", "schema", "mapping", mapping[column.name])
        elif column.name in inline:
            where = ("source", "schema", "columns", inline[column.name], "source")
        else:
            where = ("source", "schema", "columns_from")
        yield where, f"'{column.source}' is not a valid path: {problem}", False


def _api_paths(d: SourceBase) -> Iterator[Problem]:
    """`records_path`, the pagination paths and `incremental.cursor_field` parse as paths."""
    records_path = getattr(d.schema_, "records_path", None)
    fields: list[tuple[tuple[str | int, ...], str | None]] = [(("source", "schema", "records_path"), records_path)]
    pagination = getattr(d, "pagination", None)
    for name in API_PATHS:
        fields.append((("source", "pagination", name), getattr(pagination, name, None)))
    incremental = getattr(d, "incremental", None)
    fields.append((("source", "incremental", "cursor_field"), getattr(incremental, "cursor_field", None)))
    for where, text in fields:
        if text and (problem := path_problem(text)):
            yield where, f"'{text}' is not a valid path: {problem}", False


def _text_options(d: SourceBase) -> Iterator[Problem]:
    """Boolean tokens come in pairs and do not overlap; a decimal comma needs another delimiter."""
    schema, base = d.schema_, ("source", "schema")
    if (schema.true_values is None) != (schema.false_values is None):
        given = "true_values" if schema.true_values is not None else "false_values"
        yield base + (given,), "give true_values and false_values together", True
    true, false = ({v.strip().lower() for v in tokens or ()} for tokens in (schema.true_values, schema.false_values))
    if true & false:
        yield base + ("false_values",), f"{', '.join(sorted(true & false))} is in both true_values and " \
                                        "false_values", False
    if getattr(schema, "decimal_separator", ".") == "," and getattr(schema, "delimiter", None) == ",":
        yield base + ("decimal_separator",), "decimal_separator ',' needs another delimiter, e.g. delimiter: ';'", \
            False


def _missing_columns(d: SourceBase, columns: list[ResolvedColumn]) -> Iterator[Problem]:
    """allow_missing_columns loads an absent column as null, which a non-nullable column (or a key) refuses."""
    if getattr(d.schema_, "allow_missing_columns", False):
        required = [c.spec_name for c in columns if not c.nullable]
        if required:
            yield ("source", "schema", "allow_missing_columns"), "allow_missing_columns needs nullable columns; " \
                f"not nullable (or a load key): {', '.join(required)}", False


def _table_keys(d: SourceBase, columns: list[ResolvedColumn]) -> Iterator[Problem]:
    rs = d.redshift
    by_name = {c.name: c for c in columns}
    names = list(dict.fromkeys(c.name for c in columns))
    base = ("source", "redshift")

    def unknown(value: str) -> str:
        return f"'{value}' is not a column; {choices_hint(names)}"

    if rs.distkey is not None:
        column = by_name.get(rs.distkey.lower())
        if column is None:
            yield base + ("distkey",), unknown(rs.distkey), False
        elif column.type == "json":
            yield base + ("distkey",), f"'{rs.distkey}' is json (SUPER), which cannot be a distribution key", False
        if rs.diststyle not in (None, "key"):
            yield base + ("diststyle",), f"diststyle {rs.diststyle} cannot have a distkey; use key or " \
                                         "remove distkey", False
    elif rs.diststyle == "key":
        yield base + ("diststyle",), "diststyle key needs a distkey", False

    sort_path = base + ("sortkey",)
    seen: set[str] = set()
    for i, key in enumerate(rs.sortkeys):
        path = sort_path + (i,) if isinstance(rs.sortkey, list) else sort_path
        column = by_name.get(key.lower())
        if column is None:
            yield path, unknown(key), False
        elif column.type == "json":
            yield path, f"'{key}' is json (SUPER), which cannot be a sort key", False
        elif key.lower() in seen:
            yield path, f"'{key}' is listed twice", False
        seen.add(key.lower())
    if rs.sortstyle == "interleaved" and len(rs.sortkeys) > 8:
        yield sort_path, "an interleaved sort key allows at most 8 columns", False
    if len(rs.sortkeys) > 400:
        yield sort_path, "a compound sort key allows at most 400 columns", False

    for i, name in enumerate(rs.allow_drop):
        if name.lower() in by_name:
            yield base + ("allow_drop", i), f"'{name}' is still a column; allow_drop lists columns removed from " \
                                            "the source whose table column may be dropped", False

    load = rs.load
    load_path = base + ("load",)
    if load.mode == "merge" and not load.keys:
        yield load_path, "mode merge needs keys: the columns that identify a row", False
    for i, key in enumerate(load.keys):
        if key.lower() not in by_name:
            yield load_path + ("keys", i), unknown(key), False
        elif by_name[key.lower()].type == "json":
            yield load_path + ("keys", i), f"'{key}' is json (SUPER), which cannot be a key", False
    if load.order_by is not None:
        if load.order_by.lower() not in by_name:
            yield load_path + ("order_by",), unknown(load.order_by), False
        if not load.keys:
            yield load_path + ("order_by",), "order_by picks the latest row per key; give keys too", False


def _partitions(d: SourceBase, columns: list[ResolvedColumn]) -> Iterator[Problem]:
    dest = d.destination
    base = ("source", "destination")
    if len(set(dest.partition_by)) != len(dest.partition_by):
        yield base + ("partitionBy",), "a partition is listed twice", False
    if dest.partition_column is not None:
        column = next((c for c in columns if c.name == dest.partition_column.lower()), None)
        candidates = [c.name for c in columns if c.type in DATE_TYPES]
        if column is None or column.type not in DATE_TYPES:
            hint = choices_hint(candidates) if candidates else "no column has a date or timestamp type"
            yield base + ("partition_column",), f"'{dest.partition_column}' is not a date or timestamp " \
                                                f"column; {hint}", False
        elif not dest.partition_by:
            yield base + ("partition_column",), "partition_column needs partitionBy (e.g. [year, month])", False


def _dropped_pii(d: SourceBase, columns: list[ResolvedColumn]) -> Iterator[Problem]:
    """A `pii: drop` column is not in the table, so no table key or partition may name it."""
    dropped = {c.name for c in columns if c.pii == "drop"}
    if not dropped:
        return
    rs, dest = d.redshift, d.destination
    named = [(("source", "redshift", "distkey"), rs.distkey),
             *[(("source", "redshift", "sortkey"), key) for key in rs.sortkeys],
             *[(("source", "redshift", "load", "keys", i), key) for i, key in enumerate(rs.load.keys)],
             (("source", "redshift", "load", "order_by"), rs.load.order_by),
             (("source", "destination", "partition_column"), dest.partition_column)]
    for path, name in named:
        if name is not None and name.lower() in dropped:
            yield path, f"'{name}' is pii: drop, so it is not in the table; choose another column", False


NUMERIC_TYPES = ("integer", "bigint", "double", "decimal")


def _quality(d: SourceBase, columns: list[ResolvedColumn]) -> Iterator[Problem]:
    """Quality rules name existing columns, and a range applies to numbers, dates and timestamps."""
    if d.quality is None:
        return
    by_name = {c.name: c for c in columns}
    names = list(dict.fromkeys(c.name for c in columns))
    for index, rule in enumerate(d.quality.rules):
        path = ("source", "quality", "rules", index, "column")
        if rule.expression is not None:
            for message in expression_problems(rule.expression, names):
                yield ("source", "quality", "rules", index, "expression"), message, False
        if rule.column is None:
            continue
        column = by_name.get(rule.column.lower())
        if column is None:
            yield path, f"'{rule.column}' is not a column; {choices_hint(names)}", False
        elif rule.rule == "range" and column.type not in NUMERIC_TYPES:
            yield path, f"range applies to numeric columns; '{rule.column}' is {column.type}", False
        elif rule.rule in ("regex", "max_length") and column.type != "string":
            yield path, f"{rule.rule} applies to string columns; '{rule.column}' is {column.type}", False


NOT_BOOLEAN = ("Add", "Sub", "Mul", "Div", "IntDiv", "Mod", "DPipe", "Concat", "Literal", "Neg")


def expression_problems(expression: str, columns: list[str]) -> list[str]:
    """Why a quality rule's Spark SQL boolean would fail at run time: it does not parse as one expression
    (sqlglot's Spark dialect; no Spark needed), it is plainly not a boolean, or it names a column the source
    does not have (Spark matches names case-insensitively)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expression, read="spark", into=exp.Condition)
    except sqlglot.errors.ParseError as error:
        found = error.errors[0] if error.errors else {}
        where = f" at '{found['highlight']}' (line {found['line']}, column {found['col']} of the expression)" \
            if found.get("highlight") else ""
        reason = found.get("description") or str(error)
        if reason.startswith("Required keyword"):
            reason = "an operand is missing"
        return [f"expression is not valid Spark SQL: {reason}{where}"]
    except sqlglot.errors.TokenError:
        return ["expression is not valid Spark SQL: a quoted string, name or comment is not closed"]
    except Exception as error:  # noqa: BLE001 - any input must end in a validation error, never a traceback
        return [f"expression is not valid Spark SQL ({type(error).__name__})"]
    problems = []
    if type(tree).__name__ in NOT_BOOLEAN:
        problems.append(f"expression must be a boolean (a comparison, IN, IS NULL, ...), not '{tree.sql('spark')}'")
    known = {c.casefold() for c in columns}
    unknown = []
    for column in tree.find_all(exp.Column):
        if column.table:
            problems.append(f"'{column.sql('spark')}': name columns without a qualifier")
        elif column.name.casefold() not in known and column.name not in unknown:
            unknown.append(column.name)
    for name in unknown:
        close = difflib.get_close_matches(name.casefold(), sorted(known), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(f"expression names '{name}', which is not a column; {hint}{choices_hint(columns)}")
    return problems


def _example(d: SourceBase, project: Project) -> Iterator[Problem]:
    if d.example_input is not None and not (project.root / Path(d.example_input)).is_file():
        yield ("source", "example_input"), f"file '{d.example_input}' does not exist (paths are relative to " \
                                           "the project folder)", False
