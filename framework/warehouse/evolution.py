"""Schema evolution: compare the table last generated (its lock) with the table a source defines now.

The result is a ``Plan``: the migrations that take the deployed table from the locked version to the new
one, or the refusals that say why a change cannot be made safely and what to do instead.

- In place (Redshift ALTERs): a new nullable column (``ADD COLUMN``, one per statement, appended after
  every existing column, so the physical order is kept in the lock and followed by the Glue job's Parquet),
  a wider VARCHAR (``ALTER COLUMN ... TYPE``; outside a transaction block), a new DISTSTYLE/DISTKEY or a
  compound sort key (``ALTER DISTSTYLE``/``ALTER SORTKEY``; also run outside a transaction block), comments,
  and dropping a column listed in ``redshift.allow_drop``.
- A deep copy (one transaction: CREATE the new definition, INSERT SELECT with explicit casts, swap by
  rename, drop the old table) for type changes whose cast is safe, dropped NOT NULL constraints and any
  change that touches an interleaved sort key.
- Refused: narrowing or lossy casts, new required columns, removed columns not in ``allow_drop``, a new
  schema or table name.

Each migration is one unit that either commits as a whole (``transactional``) or is one idempotent statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from framework.warehouse.ddl import comment_statements, create_table_sql, table_expression
from framework.warehouse.identifiers import DIALECT, quote_identifier, sql_identifier, truncate_identifier
from framework.warehouse.table import LINEAGE_COLUMN_NAMES, ColumnSpec, TableSpec

_DIALECT = DIALECT
_NAME_CHARS = 60
LOCK_VERSION_KEY = "version"

# Widest text of a value of each type, for casts to VARCHAR (sign included).
_TEXT_BYTES = {"integer": 11, "bigint": 20, "date": 10}


@dataclass(frozen=True)
class Change:
    """One difference between the locked table and the new one, as `onboard plan` shows it."""

    symbol: str  # + added, - dropped, ~ changed
    text: str
    reason: str

    def line(self) -> str:
        return f"{self.symbol} {self.text}: {self.reason}"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    transactional: bool
    statements: tuple[str, ...]
    changes: tuple[Change, ...]

    @property
    def filename(self) -> str:
        return f"V{self.version}__{self.name}.sql"

    def script(self) -> list[str]:
        """Statements of the file: wrapped in BEGIN/COMMIT when transactional."""
        if self.transactional:
            return ["BEGIN", *self.statements, "COMMIT"]
        return list(self.statements)


@dataclass(frozen=True)
class Refusal:
    column: str | None
    change: str
    why: str
    way_forward: str

    def message(self, source: str) -> str:
        subject = f"column {self.column}: " if self.column else ""
        return f"{source}: {subject}{self.change} is refused: {self.why}. Way forward: {self.way_forward}."


@dataclass(frozen=True)
class Plan:
    old_version: int | None  # None: nothing was generated before
    table: TableSpec  # the new table, in physical column order
    migrations: tuple[Migration, ...] = ()
    refusals: tuple[Refusal, ...] = ()

    @property
    def version(self) -> int:
        if self.migrations:
            return self.migrations[-1].version
        return self.old_version or 1


# -- the lock file ------------------------------------------------------------------------------

def lock_document(t: TableSpec, version: int) -> dict[str, Any]:
    """The content of ``schema.lock.json``: the physical table at ``version``."""
    return {
        LOCK_VERSION_KEY: version,
        "table": {
            "schema": t.schema,
            "table": t.table,
            "columns": [
                {"name": c.name, "redshift_type": c.redshift_type, "nullable": c.nullable, "type": c.type,
                 "max_length": c.max_length, "precision": c.precision, "scale": c.scale,
                 "description": c.description}
                for c in t.all_columns()
            ],
            "diststyle": t.effective_diststyle,
            "distkey": t.distkey,
            "sortkey": list(t.sortkey),
            "sortstyle": t.sortstyle,
            "comment": t.comment,
        },
    }


def table_from_lock(document: dict[str, Any]) -> TableSpec:
    """The locked table as a ``TableSpec`` (load settings are not locked: they do not shape the table)."""
    table = document["table"]
    columns = [
        ColumnSpec(c["name"], c["type"], c["nullable"], c.get("max_length"), c.get("precision"), c.get("scale"),
                   c.get("description"))
        for c in table["columns"]
    ]
    return TableSpec(
        schema=table["schema"], table=table["table"],
        columns=tuple(c for c in columns if c.name not in LINEAGE_COLUMN_NAMES),
        diststyle=table["diststyle"], distkey=table["distkey"], sortkey=tuple(table["sortkey"]),
        sortstyle=table["sortstyle"], comment=table.get("comment"),
        column_order=tuple(c.name for c in columns),
    )


# -- casts -------------------------------------------------------------------------------------

def cast_problem(old: ColumnSpec, new: ColumnSpec) -> tuple[str, str] | None:
    """Why converting ``old`` values to ``new`` could lose data (and the way forward); None when safe."""
    if old.type == "string" and new.type == "string":
        if new.varchar_bytes >= old.varchar_bytes:
            return None
        return ("it narrows the column, and values already loaded may not fit",
                f"keep max_length at {old.varchar_bytes} or more, or add a new column and drop this one "
                "with redshift.allow_drop")
    if _safe_cast(old, new):
        return None
    return (f"{old.redshift_type} values do not all convert to {new.redshift_type} without loss",
            "keep the type, or add a column with the new type (and drop this one with redshift.allow_drop) "
            "and fill it yourself")


def _safe_cast(old: ColumnSpec, new: ColumnSpec) -> bool:
    integer_digits = {"integer": 10, "bigint": 19}
    if old.type == "integer" and new.type in ("bigint", "double"):
        return True
    if old.type in integer_digits and new.type == "decimal":
        return new.precision - new.scale >= integer_digits[old.type]  # type: ignore[operator]
    if old.type == "decimal" and new.type == "decimal":
        return new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale  # type: ignore[operator]
    if old.type == "date" and new.type in ("timestamp", "timestamptz"):
        return True
    if old.type == "timestamp" and new.type == "timestamptz":
        return True  # Onboard loads UTC timestamps
    if new.type == "string":
        width = old.precision + 2 if old.type == "decimal" else _TEXT_BYTES.get(old.type)  # type: ignore[operator]
        return width is not None and new.varchar_bytes >= width
    return False


# -- the plan ----------------------------------------------------------------------------------

@dataclass
class _Diff:
    adds: list[ColumnSpec] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    widens: list[tuple[ColumnSpec, ColumnSpec]] = field(default_factory=list)
    retypes: list[tuple[ColumnSpec, ColumnSpec]] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)  # NOT NULL dropped
    comments: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    dist_change: Change | None = None
    sort_change: Change | None = None


def physical_order(old: TableSpec, new: TableSpec) -> tuple[str, ...]:
    """The new table's column order: the old order without dropped columns, then new ones as declared."""
    names = {c.name for c in new.columns} | set(LINEAGE_COLUMN_NAMES)
    kept = [c.name for c in old.all_columns() if c.name in names]
    return tuple(kept + [c.name for c in new.columns if c.name not in kept])


def plan_evolution(lock: dict[str, Any] | None, new: TableSpec, allow_drop: Sequence[str] = ()) -> Plan:
    """What it takes to bring the locked table to ``new`` (see the module docstring)."""
    if lock is None:
        return Plan(None, new)
    old = table_from_lock(lock)
    version = int(lock[LOCK_VERSION_KEY])
    if (old.schema, old.table) != (new.schema, new.table):
        return Plan(version, new, refusals=(Refusal(
            None, f"moving the table {old.qualified_name} to {new.qualified_name}",
            "Onboard does not move loaded data between tables",
            f"keep redshift.schema and redshift.table as {old.schema} and {old.table}, or move the table in "
            "Redshift yourself and delete schema.lock.json and the migrations to start again at version 1"),),)
    target = replace(new, column_order=physical_order(old, new))
    diff = _diff(old, target, set(allow_drop))
    if diff.refusals:
        return Plan(version, target, refusals=tuple(diff.refusals))
    needs_deep_copy = bool(diff.retypes or diff.relaxed) or (
        (diff.dist_change or diff.sort_change) and "interleaved" in (old.sortstyle, new.sortstyle)
        and (old.sortkey or new.sortkey))
    if needs_deep_copy:
        migrations = [_deep_copy(old, target, diff, version + 1)]
    else:
        migrations = _in_place(old, target, diff, version)
    return Plan(version, target, migrations=tuple(migrations))


def _diff(old: TableSpec, new: TableSpec, allow_drop: set[str]) -> _Diff:
    diff = _Diff()
    new_columns = {c.name: c for c in new.columns}
    old_columns = {c.name: c for c in old.columns}
    for name in old_columns:
        if name in new_columns:
            continue
        if name in allow_drop:
            diff.drops.append(name)
        else:
            diff.refusals.append(Refusal(
                name, "dropping the column", "it is no longer in the source, and dropping it deletes its loaded data",
                "put it back, or list it in redshift.allow_drop to drop it"))
    for column in new.columns:
        before = old_columns.get(column.name)
        if before is None:
            if column.nullable:
                diff.adds.append(column)
            else:
                diff.refusals.append(Refusal(
                    column.name, f"adding the required column {column.redshift_type} NOT NULL",
                    "rows already loaded have no value for it", "add it with nullable: true"))
            continue
        _diff_column(diff, before, column)
    if (old.comment or None) != (new.comment or None):
        diff.comments.append(Change("~", "table comment", "the description changed"))
    if (old.effective_diststyle, old.distkey) != (new.effective_diststyle, new.distkey):
        diff.dist_change = Change("~", f"distribution {_dist_text(old)} -> {_dist_text(new)}",
                                  "redshift.diststyle/distkey changed")
    if (old.sortkey, old.sortstyle if old.sortkey else None) != (new.sortkey, new.sortstyle if new.sortkey else None):
        diff.sort_change = Change("~", f"sort key {_sort_text(old)} -> {_sort_text(new)}", "redshift.sortkey changed")
    return diff


def _diff_column(diff: _Diff, before: ColumnSpec, column: ColumnSpec) -> None:
    if before.redshift_type != column.redshift_type:
        problem = cast_problem(before, column)
        change = f"{before.redshift_type} -> {column.redshift_type}"
        if problem is not None:
            diff.refusals.append(Refusal(column.name, change, *problem))
        elif before.type == column.type == "string":
            diff.widens.append((before, column))
        else:
            diff.retypes.append((before, column))
    if before.nullable != column.nullable:
        if column.nullable:
            diff.relaxed.append(column.name)
        else:
            diff.refusals.append(Refusal(
                column.name, "adding NOT NULL", "rows already loaded may hold nulls",
                "keep it nullable and add a not_null quality rule for new rows"))
    if (before.description or None) != (column.description or None):
        diff.comments.append(Change("~", f"comment on {column.name}", "the description changed"))


def _dist_text(t: TableSpec) -> str:
    style = t.effective_diststyle.upper()
    return f"{style} DISTKEY({t.distkey})" if t.distkey else style


def _sort_text(t: TableSpec) -> str:
    if not t.sortkey:
        return "none"
    return f"{t.sortstyle.upper()} SORTKEY({', '.join(t.sortkey)})"


def _render(expression: exp.Expression) -> str:
    return expression.sql(dialect=_DIALECT)


def _alter(t: TableSpec, action: exp.Expression) -> str:
    return _render(exp.Alter(this=table_expression(t.schema, t.table), kind="TABLE", actions=[action]))


def _add_column_sql(t: TableSpec, column: ColumnSpec) -> str:
    encode = exp.ColumnConstraint(kind=exp.EncodeColumnConstraint(this=exp.var(t.encoding_of(column))))
    definition = exp.ColumnDef(this=sql_identifier(column.name), kind=column.data_type(), constraints=[encode])
    return _alter(t, definition)


def _widen_sql(t: TableSpec, column: ColumnSpec) -> str:
    return _alter(t, exp.AlterColumn(this=sql_identifier(column.name), dtype=column.data_type()))


def _dist_sql(t: TableSpec) -> str:
    if t.distkey:
        return f"ALTER TABLE {t.qualified_name} ALTER DISTSTYLE KEY DISTKEY {quote_identifier(t.distkey)}"
    return f"ALTER TABLE {t.qualified_name} ALTER DISTSTYLE {t.effective_diststyle.upper()}"


def _sort_sql(t: TableSpec) -> str:
    if not t.sortkey:
        return f"ALTER TABLE {t.qualified_name} ALTER SORTKEY NONE"
    return f"ALTER TABLE {t.qualified_name} ALTER COMPOUND SORTKEY ({', '.join(map(quote_identifier, t.sortkey))})"


def _drop_sql(t: TableSpec, name: str) -> str:
    return _alter(t, exp.Drop(tables=[exp.Column(this=sql_identifier(name))], kind="COLUMN"))


def _slug(prefix: str, names: Sequence[str]) -> str:
    return f"{prefix}_{'_'.join(names)}"[:_NAME_CHARS].rstrip("_")


def _comment_sql(new: TableSpec, names: set[str], table_comment: bool) -> list[str]:
    """COMMENT ON statements for the table (when asked) and the named columns ('' removes one)."""
    wanted = []
    if table_comment and not new.comment:
        wanted.append(_render(exp.Comment(this=table_expression(new.schema, new.table), kind="TABLE",
                                          expression=exp.Literal.string(""))))
    for column in new.all_columns():
        if column.name in names and not column.description:
            target = exp.Column(this=sql_identifier(column.name), table=sql_identifier(new.table),
                                db=sql_identifier(new.schema))
            wanted.append(_render(exp.Comment(this=target, kind="COLUMN", expression=exp.Literal.string(""))))
    for statement in comment_statements(new):
        if statement.startswith("COMMENT ON TABLE"):
            if table_comment:
                wanted.append(statement)
        elif any(statement.startswith(f"COMMENT ON COLUMN {new.qualified_name}.{quote_identifier(n)} IS")
                 for n in names):
            wanted.append(statement)
    return wanted


def _in_place(old: TableSpec, new: TableSpec, diff: _Diff, version: int) -> list[Migration]:
    migrations: list[Migration] = []

    def add(name: str, transactional: bool, statements: list[str], changes: list[Change]) -> None:
        migrations.append(Migration(version + len(migrations) + 1, name, transactional, tuple(statements),
                                    tuple(changes)))

    described = {c.text.removeprefix("comment on ") for c in diff.comments if c.text.startswith("comment on ")}
    table_comment = any(c.text == "table comment" for c in diff.comments)
    added = [c.name for c in diff.adds]
    if diff.adds or diff.comments:
        statements = [_add_column_sql(new, c) for c in diff.adds]
        statements += _comment_sql(new, described | {c.name for c in diff.adds if c.description}, table_comment)
        changes = [Change("+", f"add column {c.name} {c.redshift_type}", "new in the source; added in place "
                          "(ALTER TABLE ADD COLUMN) after the existing columns, old rows get null")
                   for c in diff.adds] + diff.comments
        add(_slug("add", added) if added else "comment", True, statements, changes)
    for before, column in diff.widens:
        add(_slug("widen", [column.name]), False, [_widen_sql(new, column)], [Change(
            "~", f"widen {column.name} {before.redshift_type} -> {column.redshift_type}",
            "max_length grew; ALTER COLUMN TYPE runs in place, outside a transaction block")])
    if diff.dist_change:
        add("alter_distribution", False, [_dist_sql(new)],
            [replace(diff.dist_change, reason=diff.dist_change.reason + "; ALTER DISTSTYLE runs in place")])
    if diff.sort_change:
        add("alter_sortkey", False, [_sort_sql(new)],
            [replace(diff.sort_change, reason=diff.sort_change.reason + "; ALTER SORTKEY runs in place")])
    if diff.drops:
        add(_slug("drop", diff.drops), True, [_drop_sql(new, n) for n in diff.drops],
            [Change("-", f"drop column {n}", "listed in redshift.allow_drop; its loaded data is deleted")
             for n in diff.drops])
    return migrations


def _deep_copy(old: TableSpec, new: TableSpec, diff: _Diff, version: int) -> Migration:
    """One transaction: the new definition under a temporary name, INSERT SELECT with casts, swap, drop."""
    building = truncate_identifier(f"{new.table}__v{version}")
    retired = truncate_identifier(f"{new.table}__v{version - 1}_old")
    staged = replace(new, table=building)
    copied = [c for c in new.all_columns() if c.name in {o.name for o in old.all_columns()}]
    old_types = {c.name: c.redshift_type for c in old.all_columns()}
    select = exp.select(*(
        exp.Column(this=sql_identifier(c.name)) if old_types[c.name] == c.redshift_type
        else exp.Cast(this=exp.Column(this=sql_identifier(c.name)), to=c.data_type())
        for c in copied
    )).from_(table_expression(old.schema, old.table))
    insert = exp.insert(select, into=table_expression(new.schema, building),
                        columns=[sql_identifier(c.name) for c in copied])
    statements = [
        create_table_sql(staged).replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE", 1),
        _render(insert),
        _alter(old, exp.AlterRename(this=exp.Table(this=sql_identifier(retired)))),
        _alter(staged, exp.AlterRename(this=exp.Table(this=sql_identifier(new.table)))),
        _render(exp.Drop(tables=[table_expression(new.schema, retired)], kind="TABLE")),
        *comment_statements(new),
    ]
    changes = [Change("~", f"{c.name} {b.redshift_type} -> {c.redshift_type}",
                      "Redshift cannot change this type in place; deep copy with CAST") for b, c in diff.retypes]
    changes += [Change("~", f"{n} drops NOT NULL", "Redshift cannot change nullability in place; deep copy")
                for n in diff.relaxed]
    changes += [Change("+", f"add column {c.name} {c.redshift_type}", "new in the source; null in copied rows")
                for c in diff.adds]
    changes += [Change("~", f"widen {c.name} {b.redshift_type} -> {c.redshift_type}", "part of the deep copy")
                for b, c in diff.widens]
    changes += [Change("-", f"drop column {n}", "listed in redshift.allow_drop; not copied") for n in diff.drops]
    changes += [c for c in (diff.dist_change, diff.sort_change) if c] + diff.comments
    subject = [c.name for _, c in diff.retypes] + diff.relaxed or ["sortkey"]
    return Migration(version, _slug("deep_copy", subject), True, tuple(statements), tuple(changes))
