"""framework.warehouse.evolution: which changes migrate in place, which by deep copy, which are refused."""

from __future__ import annotations

import pytest
import sqlglot

from framework.warehouse.evolution import cast_problem, lock_document, plan_evolution, table_from_lock
from framework.warehouse.table import ColumnSpec, TableSpec

BASE = (ColumnSpec("id", "integer", nullable=False), ColumnSpec("label", "string", max_length=32),
        ColumnSpec("amount", "decimal", precision=10, scale=2))


def table(*columns: ColumnSpec, **options) -> TableSpec:
    return TableSpec("shop", "orders", columns or BASE, **options)


def plan(new: TableSpec, old: TableSpec | None = None, allow_drop: tuple[str, ...] = ()):
    return plan_evolution(lock_document(old or table(sortkey=("id",)), 1), new, allow_drop)


def scripts(result) -> dict[str, list[str]]:
    for migration in result.migrations:
        for statement in migration.script():
            sqlglot.parse_one(statement, read="redshift")  # every statement is valid Redshift SQL
    return {m.filename: list(m.statements) for m in result.migrations}


def test_the_lock_round_trips_the_physical_table():
    grown = table(*BASE, ColumnSpec("note", "string"), diststyle="auto", sortkey=("id",),
                  column_order=("id", "label", "amount", "_batch_id", "_ingested_at", "note"))
    assert table_from_lock(lock_document(grown, 3)) == grown


def test_no_change_is_no_migration():
    result = plan(table(sortkey=("id",)))
    assert (result.migrations, result.refusals, result.version) == ((), (), 1)


def test_added_columns_go_after_the_lineage_columns_one_statement_each():
    result = plan(table(*BASE, ColumnSpec("note", "string", description="Free text"), ColumnSpec("qty", "integer"),
                        sortkey=("id",)))
    assert scripts(result) == {"V2__add_note_qty.sql": [
        "ALTER TABLE shop.orders ADD COLUMN note VARCHAR(256) ENCODE ZSTD",
        "ALTER TABLE shop.orders ADD COLUMN qty INTEGER ENCODE AZ64",
        "COMMENT ON COLUMN shop.orders.note IS 'Free text'"]}
    assert result.migrations[0].transactional
    assert [c.name for c in result.table.all_columns()] == [
        "id", "label", "amount", "_batch_id", "_ingested_at", "note", "qty"]


def test_widening_and_key_changes_are_single_statements_outside_a_transaction():
    result = plan(table(ColumnSpec("id", "integer", nullable=False), ColumnSpec("label", "string", max_length=64),
                        BASE[2], distkey="id", sortkey=("label", "id")))
    assert scripts(result) == {
        "V2__widen_label.sql": ["ALTER TABLE shop.orders ALTER COLUMN label TYPE VARCHAR(64)"],
        "V3__alter_distribution.sql": ["ALTER TABLE shop.orders ALTER DISTSTYLE KEY DISTKEY id"],
        "V4__alter_sortkey.sql": ["ALTER TABLE shop.orders ALTER COMPOUND SORTKEY (label, id)"]}
    assert not any(m.transactional for m in result.migrations)


@pytest.mark.parametrize(("old", "new"), [
    (ColumnSpec("amount", "decimal", precision=10, scale=2), ColumnSpec("amount", "decimal", precision=12, scale=2)),
    (ColumnSpec("amount", "integer"), ColumnSpec("amount", "bigint")),
    (ColumnSpec("amount", "integer"), ColumnSpec("amount", "decimal", precision=12, scale=2)),
    (ColumnSpec("amount", "date"), ColumnSpec("amount", "timestamp")),
    (ColumnSpec("amount", "bigint"), ColumnSpec("amount", "string", max_length=20)),
])
def test_safe_casts_are_deep_copies(old, new):
    result = plan(table(BASE[0], new), old=table(BASE[0], old))
    [(name, statements)] = scripts(result).items()
    assert name == "V2__deep_copy_amount.sql" and result.migrations[0].transactional
    assert statements[1] == (f"INSERT INTO shop.orders__v2 (id, amount, _batch_id, _ingested_at) SELECT id, "  # noqa: S608
                             f"CAST(amount AS {new.redshift_type}), _batch_id, _ingested_at FROM shop.orders")
    assert statements[2:5] == ["ALTER TABLE shop.orders RENAME TO orders__v1_old",
                               "ALTER TABLE shop.orders__v2 RENAME TO orders", "DROP TABLE shop.orders__v1_old"]


def test_an_interleaved_sort_key_changes_only_by_deep_copy():
    old = table(sortkey=("id", "label"), sortstyle="interleaved")
    result = plan(table(sortkey=("id",)), old=old)
    [name] = scripts(result)
    assert name == "V2__deep_copy_sortkey.sql"
    assert result.migrations[0].statements[0].endswith("DISTSTYLE AUTO\nCOMPOUND SORTKEY(id)")


@pytest.mark.parametrize(("old", "new", "message"), [
    (ColumnSpec("label", "string", max_length=32), ColumnSpec("label", "string", max_length=8),
     "src: column label: VARCHAR(32) -> VARCHAR(8) is refused: it narrows the column, and values already loaded "
     "may not fit. Way forward: keep max_length at 32 or more, or add a new column and drop this one with "
     "redshift.allow_drop."),
    (ColumnSpec("label", "bigint"), ColumnSpec("label", "integer"),
     "src: column label: BIGINT -> INTEGER is refused: BIGINT values do not all convert to INTEGER without loss. "
     "Way forward: keep the type, or add a column with the new type (and drop this one with redshift.allow_drop) "
     "and fill it yourself."),
    (ColumnSpec("label", "decimal", precision=10, scale=2), ColumnSpec("label", "decimal", precision=10, scale=4),
     "src: column label: DECIMAL(10, 2) -> DECIMAL(10, 4) is refused: DECIMAL(10, 2) values do not all convert to "
     "DECIMAL(10, 4) without loss. Way forward: keep the type, or add a column with the new type (and drop this "
     "one with redshift.allow_drop) and fill it yourself."),
    (ColumnSpec("label", "string"), ColumnSpec("label", "string", nullable=False),
     "src: column label: adding NOT NULL is refused: rows already loaded may hold nulls. Way forward: keep it "
     "nullable and add a not_null quality rule for new rows."),
])
def test_lossy_changes_are_refused_with_the_way_forward(old, new, message):
    result = plan(table(BASE[0], new), old=table(BASE[0], old))
    assert result.migrations == ()
    assert [r.message("src") for r in result.refusals] == [message]


def test_a_removed_column_needs_allow_drop():
    new = table(BASE[0], BASE[2], sortkey=("id",))
    assert [r.message("src") for r in plan(new).refusals] == [
        "src: column label: dropping the column is refused: it is no longer in the source, and dropping it deletes "
        "its loaded data. Way forward: put it back, or list it in redshift.allow_drop to drop it."]
    assert scripts(plan(new, allow_drop=("label",))) == {
        "V2__drop_label.sql": ["ALTER TABLE shop.orders DROP COLUMN label"]}


def test_a_new_required_column_and_a_moved_table_are_refused():
    required = plan(table(*BASE, ColumnSpec("code", "string", nullable=False)))
    assert [r.message("src") for r in required.refusals] == [
        "src: column code: adding the required column VARCHAR(256) NOT NULL is refused: rows already loaded have "
        "no value for it. Way forward: add it with nullable: true."]
    moved = plan_evolution(lock_document(table(), 1), TableSpec("shop", "orders_v2", BASE))
    assert [r.message("src") for r in moved.refusals] == [
        "src: moving the table shop.orders to shop.orders_v2 is refused: Onboard does not move loaded data between "
        "tables. Way forward: keep redshift.schema and redshift.table as shop and orders, or move the table in "
        "Redshift yourself and delete schema.lock.json and the migrations to start again at version 1."]


@pytest.mark.parametrize(("old", "new", "safe"), [
    (ColumnSpec("c", "integer"), ColumnSpec("c", "double"), True),
    (ColumnSpec("c", "bigint"), ColumnSpec("c", "double"), False),
    (ColumnSpec("c", "bigint"), ColumnSpec("c", "decimal", precision=20, scale=2), False),
    (ColumnSpec("c", "bigint"), ColumnSpec("c", "decimal", precision=21, scale=2), True),
    (ColumnSpec("c", "timestamptz"), ColumnSpec("c", "timestamp"), False),
    (ColumnSpec("c", "integer"), ColumnSpec("c", "string", max_length=10), False),
    (ColumnSpec("c", "double"), ColumnSpec("c", "decimal", precision=38, scale=10), False),
])
def test_cast_safety(old, new, safe):
    assert (cast_problem(old, new) is None) == safe
