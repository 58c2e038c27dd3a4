"""Curated datasets: `datasets/<name>.yaml`, one Redshift SELECT over the sources' tables and other datasets.

Every table and column the SQL names is resolved with sqlglot's schema-aware qualification against the
tables the sources define (lineage columns included) and the other datasets' output columns; an unknown one
is an error at its line and column inside the YAML file's `sql` block. Datasets come back in dependency
order (a dataset after every dataset it reads); a dependency cycle is an error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from framework.project import Project
from framework.spec.errors import SpecError, SpecErrors, choices_hint
from framework.spec.loader import ResolvedSource
from framework.spec.yaml_loader import Positions, load_yaml
from framework.warehouse.identifiers import check_identifier

SQL_PATH = ("dataset", "sql")
FIELDS = ("name", "description", "schema", "materialized", "export", "sql")
EXPORT_FORMATS = ("parquet",)
DEFAULT_SCHEMA = "curated"
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")

Schema = dict[str, dict[str, dict[str, str]]]  # schema -> table -> column -> Redshift type


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: its SQL, where it lives, and the tables it reads (``schema.table``, lower case)."""

    file: str
    name: str
    description: str
    schema: str
    sql: str
    materialized: bool = True
    export: str | None = None
    reads: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    reads_datasets: tuple[str, ...] = field(default=())

    @property
    def table(self) -> str:
        """``schema.name`` (lower case, unquoted), as other SQL and ``reads`` name it."""
        return f"{self.schema}.{self.name}"


@dataclass
class _Draft:
    """A dataset whose fields are valid, before its SQL is resolved."""

    dataset: Dataset
    tree: exp.Query
    locate: Any  # (sql offset) -> (line, col) in the YAML file
    references: list[tuple[str, exp.Table]]  # (schema.table, the node naming it)


def source_schema(sources: list[ResolvedSource]) -> Schema:
    """The tables the sources define (declared and lineage columns) as sqlglot's schema mapping."""
    from framework.render.redshift import table_spec

    schema: Schema = {}
    for source in sources:
        table = table_spec(source)
        schema.setdefault(table.schema, {})[table.table] = {c.name: c.redshift_type for c in table.all_columns()}
    return schema


def load_datasets(project: Project, sources: list[ResolvedSource], paths: list[Path] | None = None) -> list[Dataset]:
    """Validate every dataset of the project against ``sources``; raise SpecErrors with all problems.

    Returns the datasets in dependency order. ``paths`` limits which files' errors are reported (all
    datasets are still read, since one may read another)."""
    files = project.dataset_files()
    errors: list[SpecError] = []
    drafts: dict[str, _Draft] = {}
    for path in files:
        try:
            draft = _draft(path, project)
        except SpecErrors as exc:
            errors += exc.errors
            continue
        if draft.dataset.name in drafts:
            other = drafts[draft.dataset.name].dataset.file
            errors.append(SpecError(draft.dataset.file, 1, 1, "dataset.name",
                                    f"dataset name '{draft.dataset.name}' is also used by {other}"))
            continue
        drafts[draft.dataset.name] = draft
    schema = source_schema(sources)
    for draft in drafts.values():
        d = draft.dataset
        if d.name in schema.get(d.schema, {}):
            errors.append(SpecError(d.file, 1, 1, "dataset.name", f"{d.table} is a source's table"))
    by_table = {d.dataset.table: d for d in drafts.values()}
    order, cycle_errors = _dependency_order(drafts, by_table)
    errors += cycle_errors
    resolved: list[Dataset] = []
    if not cycle_errors:
        for name in order:
            try:
                dataset = _resolve(drafts[name], schema, by_table)
            except SpecErrors as exc:
                errors += exc.errors
                continue
            schema.setdefault(dataset.schema, {})[dataset.name] = {c: "VARCHAR" for c in dataset.columns}
            resolved.append(dataset)
    if paths is not None:
        wanted = {project.display(p) for p in paths}
        errors = [e for e in errors if e.file in wanted]
        resolved = [d for d in resolved if d.file in wanted]
    if errors:
        raise SpecErrors(errors)
    return resolved


def _draft(path: Path, project: Project) -> _Draft:
    file = project.display(path)
    text = path.read_text(encoding="utf-8")
    data, positions = load_yaml(text, file)

    def err(at: tuple[str, ...], message: str) -> SpecError:
        line, col = positions.of_value(at)
        return SpecError(file, line, col, ".".join(at), message)

    if not isinstance(data, dict) or set(data) != {"dataset"} or not isinstance(data["dataset"], dict):
        raise SpecErrors([err(("dataset",), "expected one 'dataset:' mapping")])
    body: dict[str, Any] = data["dataset"]
    errors = []
    for key in body:
        if key not in FIELDS:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else choices_hint(FIELDS)
            line, col = positions.of_key(("dataset", key))
            errors.append(SpecError(file, line, col, f"dataset.{key}", f"unknown field; {hint}"))
    name, description, sql = body.get("name"), body.get("description"), body.get("sql")
    schema, materialized = body.get("schema", DEFAULT_SCHEMA), body.get("materialized", True)
    export = body.get("export")
    for key, value in (("name", name), ("description", description), ("sql", sql), ("schema", schema)):
        if not isinstance(value, str) or not value.strip():
            errors.append(err(("dataset", key), f"'{key}' is required: a non-empty string"))
    for key, value in (("name", name), ("schema", schema)):
        if isinstance(value, str) and value and not _SNAKE.fullmatch(value):
            errors.append(err(("dataset", key), f"'{value}' is not snake_case (lower-case letters, digits, '_')"))
        elif isinstance(value, str) and value:
            try:
                check_identifier(value, key)
            except ValueError as exc:
                errors.append(err(("dataset", key), str(exc)))
    if name and isinstance(name, str) and path.stem != name:
        errors.append(err(("dataset", "name"), f"the file must be named {name}.yaml (found {path.name})"))
    if not isinstance(materialized, bool):
        errors.append(err(("dataset", "materialized"), "must be true or false"))
    if export is not None and export not in EXPORT_FORMATS:
        errors.append(err(("dataset", "export"), f"unknown export format; {choices_hint(EXPORT_FORMATS)}"))
    if errors:
        raise SpecErrors(errors)
    locate = _sql_locator(text, positions, sql)
    tree = _parse_select(sql, file, locate)
    dataset = Dataset(file, name, description.strip(), schema, sql.strip(), materialized, export)
    return _Draft(dataset, tree, locate, _references(tree))


def _sql_locator(text: str, positions: Positions, sql: str):
    """A function mapping an offset in ``sql`` to (line, col) in the YAML file.

    Exact for a literal block scalar (``sql: |``: every SQL line is one file line, indented) and for a
    one-line plain or quoted scalar; otherwise (folded or multi-line flow scalars) the `sql` value's start."""
    line, col = positions.of_value(SQL_PATH)
    lines = text.splitlines()
    indicator = lines[line - 1][col - 1:] if line - 1 < len(lines) else ""
    if indicator.startswith("|"):
        content = [ln for ln in lines[line:] if ln.strip()]
        indent = len(content[0]) - len(content[0].lstrip(" ")) if content else 0

        def in_block(offset: int) -> tuple[int, int]:
            sql_line, sql_col = _line_col(sql, offset)
            return line + sql_line, indent + sql_col
        return in_block
    if "\n" not in sql.strip() and (indicator[:1] in ("'", '"') or indicator[:1].isalnum()):
        shift = 1 if indicator[:1] in ("'", '"') else 0
        return lambda offset: (line, col + shift + offset)
    return lambda offset: (line, col)


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(sql)))
    return sql.count("\n", 0, offset) + 1, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def _error(file: str, locate, offset: int, message: str) -> SpecError:
    line, col = locate(offset)
    return SpecError(file, line, col, "dataset.sql", message)


def _offset(node: exp.Expression) -> int:
    """Where ``node`` starts in the SQL text (sqlglot keeps token offsets on identifiers)."""
    starts = [n.meta["start"] for n in node.find_all(exp.Identifier) if "start" in n.meta]
    return min(starts) if starts else 0


def _parse_select(sql: str, file: str, locate) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        sql_line, sql_col = first.get("line") or 1, first.get("col") or 1
        offset = sum(len(ln) + 1 for ln in sql.split("\n")[: sql_line - 1]) + max(sql_col - 1, 0)
        description = first.get("description") or str(exc).splitlines()[0]
        raise SpecErrors([_error(file, locate, offset, f"cannot parse the SQL: {description}")]) from None
    except SqlglotError as exc:
        raise SpecErrors([_error(file, locate, 0, f"cannot parse the SQL: {exc}")]) from None
    if len(statements) != 1:
        raise SpecErrors([_error(file, locate, 0, f"expected one SELECT statement, found {len(statements)}")])
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        first_word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        offset = len(sql) - len(sql.lstrip())
        raise SpecErrors([_error(file, locate, offset, f"a dataset is one SELECT; found {first_word}")])
    return tree


def _references(tree: exp.Query) -> list[tuple[str, exp.Table]]:
    """Every table the SQL reads (``schema.table`` lower case), CTE names excepted, in text order."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    refs = []
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        if not table.name:  # a table function or similar: nothing to resolve
            continue
        refs.append((f"{table.db}.{table.name}".lower() if table.db else table.name.lower(), table))
    return sorted(refs, key=lambda r: _offset(r[1]))


def _dependency_order(drafts: dict[str, _Draft], by_table: dict[str, _Draft]) -> tuple[list[str], list[SpecError]]:
    """Dataset names, each after the datasets it reads; a cycle is an error at the reference closing it."""
    order: list[str] = []
    state: dict[str, str] = {}
    errors: list[SpecError] = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        state[name] = "visiting"
        draft = drafts[name]
        for ref, node in draft.references:
            target = by_table.get(ref)
            if target is None:
                continue
            other = target.dataset.name
            if state.get(other) == "visiting":
                loop = [*trail[trail.index(other):], name, other] if other in trail else [name, other]
                errors.append(_error(draft.dataset.file, draft.locate, _offset(node),
                                     "dependency cycle between datasets: " + " -> ".join(loop)))
                continue
            visit(other, [*trail, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(drafts):
        visit(name, [])
    return order, errors


def _resolve(draft: _Draft, schema: Schema, by_table: dict[str, _Draft]) -> Dataset:
    """Check every table and column of the SQL; the dataset with what it reads and its output columns."""
    d, locate = draft.dataset, draft.locate
    errors = []
    known = {f"{s}.{t}" for s, tables in schema.items() for t in tables}
    for ref, node in draft.references:
        if "." not in ref:
            errors.append(_error(d.file, locate, _offset(node), f"unknown table {ref}: write it as schema.table"))
        elif ref not in known:
            close = difflib.get_close_matches(ref, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            errors.append(_error(d.file, locate, _offset(node), f"unknown table {ref}{hint}"))
    if errors:
        raise SpecErrors(errors)
    tree = draft.tree.copy()
    try:
        qualified = qualify(tree, schema=schema, dialect="redshift", validate_qualify_columns=False,
                            quote_identifiers=False)
    except OptimizeError as exc:
        raise SpecErrors([_unknown_column(d, locate, draft.tree, schema, str(exc))]) from None
    for scope in traverse_scope(qualified):
        for column in scope.columns:
            source = scope.sources.get(column.table) if column.table else None
            if source is None:
                name = column.sql(dialect="redshift")
                errors.append(_error(d.file, locate, _offset(column), f"unknown column {name}"))
    if errors:
        raise SpecErrors(errors)
    columns = tuple(s.lower() for s in qualified.named_selects)
    reads = tuple(sorted({ref for ref, _ in draft.references}))
    datasets_read = tuple(sorted(by_table[r].dataset.name for r in reads if r in by_table))
    return Dataset(d.file, d.name, d.description, d.schema, d.sql, d.materialized, d.export, reads, columns,
                   datasets_read)


def _unknown_column(d: Dataset, locate, tree: exp.Query, schema: Schema, message: str) -> SpecError:
    """qualify() stops at a qualified column its table lacks ("Unknown column: x"): point at that column."""
    match = re.search(r"Unknown column: (\S+)", message)
    if match:
        name = match.group(1).lower()
        tables = {t.alias_or_name.lower(): schema.get(t.db.lower(), {}).get(t.name.lower())
                  for t in tree.find_all(exp.Table)}
        for column in tree.find_all(exp.Column):
            columns = tables.get(column.table.lower())
            if column.name.lower() == name and columns is not None and name not in columns:
                return _error(d.file, locate, _offset(column), f"unknown column {column.sql(dialect='redshift')}")
    return _error(d.file, locate, 0, f"cannot resolve the SQL: {message}")
