"""framework.runtime.migrations on the local warehouse: each migration once, in order, recorded; a fresh
table needs none; a table from before migrations starts at version 1; an edited applied migration stops."""

from __future__ import annotations

import pytest

from framework.local.runner import DuckDBExecutor
from framework.runtime.migrations import MigrationError, MigrationFile, migrate
from framework.warehouse import DuckDBWarehouse, WarehouseError

DDL_V1 = "CREATE SCHEMA IF NOT EXISTS shop;\nCREATE TABLE IF NOT EXISTS shop.orders (id INTEGER, _batch_id VARCHAR(64));\n"
DDL_V3 = ("CREATE SCHEMA IF NOT EXISTS shop;\n"
          "CREATE TABLE IF NOT EXISTS shop.orders (id BIGINT, _batch_id VARCHAR(64), note VARCHAR(256));\n")
V2 = MigrationFile(2, "add_note", "-- header\nBEGIN;\nALTER TABLE shop.orders ADD COLUMN note VARCHAR(256) ENCODE ZSTD;\n"
                   "COMMIT;\n")
V3 = MigrationFile(3, "alter_sortkey", "ALTER TABLE shop.orders ALTER COMPOUND SORTKEY (id);\n")


@pytest.fixture
def warehouse():
    with DuckDBWarehouse() as db:
        yield db


def run(warehouse, ddl=DDL_V3, migrations=(V2, V3)):
    return migrate(DuckDBExecutor(warehouse), "orders", schema="shop", table="orders", ddl_sql=ddl,
                   migrations=list(migrations))


def recorded(warehouse):
    return warehouse.query("SELECT version, name FROM onboard_meta.schema_migrations ORDER BY version")[1]


def test_a_fresh_install_creates_the_latest_table_and_runs_no_migration(warehouse):
    assert run(warehouse) == []
    assert warehouse.table_columns("shop", "orders") == [("id", "BIGINT"), ("_batch_id", "VARCHAR"),
                                                        ("note", "VARCHAR")]
    assert recorded(warehouse) == [(1, "baseline"), (2, "add_note"), (3, "alter_sortkey")]
    assert run(warehouse) == []


def test_a_table_from_before_migrations_gets_each_pending_one_once(warehouse):
    warehouse.execute_script(DDL_V1 + "INSERT INTO shop.orders VALUES (1, 'b1');")  # noqa: S608
    assert run(warehouse, migrations=[V2]) == [2]
    assert run(warehouse) == [3]
    assert run(warehouse) == []
    assert recorded(warehouse) == [(1, "baseline"), (2, "add_note"), (3, "alter_sortkey")]
    assert warehouse.query("SELECT id, _batch_id, note FROM shop.orders")[1] == [(1, "b1", None)]


def test_an_applied_migration_that_changed_is_an_error(warehouse):
    run(warehouse)
    edited = MigrationFile(2, "add_note", V2.text.replace("VARCHAR(256)", "VARCHAR(512)"))
    with pytest.raises(MigrationError, match=r"^orders: migration V2__add_note.sql was changed after it was applied "
                       r"\(checksum [0-9a-f]{12}\.\.\., recorded [0-9a-f]{12}\.\.\.\); restore the applied file and "
                       r"put new changes in a new migration$"):
        run(warehouse, migrations=[edited, V3])


def test_a_failing_transactional_migration_is_not_recorded(warehouse):
    warehouse.execute_script(DDL_V1)
    broken = MigrationFile(2, "add_note", "BEGIN;\nALTER TABLE shop.orders ADD COLUMN id INTEGER;\nCOMMIT;\n")
    with pytest.raises(WarehouseError):
        run(warehouse, migrations=[broken])
    assert recorded(warehouse) == [(1, "baseline")]


def test_layout_alters_must_run_outside_a_transaction_block(warehouse):
    warehouse.execute_script(DDL_V1)
    with pytest.raises(WarehouseError, match="outside a transaction block"):
        warehouse.execute_script("BEGIN;\nALTER TABLE shop.orders ALTER DISTSTYLE ALL;\nCOMMIT;\n")
    warehouse.execute_script("ALTER TABLE shop.orders ALTER DISTSTYLE KEY DISTKEY id;")  # alone: a no-op locally


def test_a_lock_behind_the_warehouse_refuses_before_anything_runs(warehouse):
    run(warehouse)  # the table at version 3
    warehouse.execute_script("INSERT INTO shop.orders VALUES (1, 'b1', 'x');")  # noqa: S608
    for migrations in ([], [V2]):  # generated/ deleted and generated again: the lock restarts at version 1
        with pytest.raises(MigrationError) as raised:
            run(warehouse, ddl=DDL_V1, migrations=migrations)
        assert str(raised.value) == (
            f"orders: the warehouse table shop.orders is at schema version 3, but generated/orders/schema.lock.json "
            f"is at version {len(migrations) + 1} (was generated/orders/ deleted and generated again?); nothing was "
            "loaded. Restore the folder from version control (e.g. `git checkout -- generated/orders`), or start "
            "over: locally `onboard reset orders --drop-table`, deployed drop the table and delete the source's rows "
            "of onboard_meta.schema_migrations; `onboard plan orders` shows both versions")
    assert recorded(warehouse) == [(1, "baseline"), (2, "add_note"), (3, "alter_sortkey")]
    assert warehouse.query("SELECT id, _batch_id, note FROM shop.orders")[1] == [(1, "b1", "x")]
