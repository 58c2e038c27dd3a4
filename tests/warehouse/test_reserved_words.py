# ruff: noqa: S608 - the expected SQL texts are built from the test's own words
"""Every Redshift reserved word as a column name: DDL, COPY, merge, migrations (ADD COLUMN, deep copy) and a
query on the local warehouse, each statement valid Redshift SQL with exactly the reserved names quoted."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import Dialect

from framework.runtime.redshift_names import RESERVED_WORDS
from framework.warehouse import ColumnSpec, DuckDBWarehouse, TableSpec, as_script, ddl_statements, load_statements
from framework.warehouse.evolution import lock_document, plan_evolution
from framework.warehouse.identifiers import QUOTED_WORDS, quote_identifier

# Amazon Redshift Database Developer Guide, "Reserved words" (r_pg_keywords.html), as listed there.
DOCUMENTED = """AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64 BACKUP
BETWEEN BINARY BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN CONSTRAINT CREATE CREDENTIALS CROSS
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_USER_ID DEFAULT DEFERRABLE DEFLATE DEFRAG DELTA
DELTA32K DESC DISABLE DISTINCT DO ELSE EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END EXCEPT EXPLICIT FALSE FOR
FOREIGN FREEZE FROM FULL GLOBALDICT256 GLOBALDICT64K GRANT GROUP GZIP HAVING IDENTITY IGNORE ILIKE IN INITIALLY
INNER INTERSECT INTERVAL INTO IS ISNULL JOIN LEADING LEFT LIKE LIMIT LOCALTIME LOCALTIMESTAMP LUN LUNS LZO LZOP
MINUS MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT NOTNULL NULL NULLS OFF OFFLINE OFFSET OID OLD ON ONLY OPEN OR ORDER
OUTER OVERLAPS PARALLEL PARTITION PERCENT PERMISSIONS PIVOT PLACING PRIMARY RAW READRATIO RECOVER REFERENCES
REJECTLOG RESORT RESPECT RESTORE RIGHT SELECT SESSION_USER SIMILAR SNAPSHOT SOME SYSDATE SYSTEM TABLE TAG TDES
TEXT255 TEXT32K THEN TIMESTAMP TO TOP TRAILING TRUE TRUNCATECOLUMNS UNION UNIQUE UNNEST UNPIVOT USER USING VERBOSE
WALLET WHEN WHERE WITH WITHOUT"""
INGESTED = datetime(2024, 11, 16, 10)


def parse_all(statements: list[str]) -> None:
    for statement in statements:
        sqlglot.parse_one(statement, read="redshift")


def test_the_one_list_is_redshifts_documented_list():
    assert RESERVED_WORDS == frozenset(DOCUMENTED.lower().split())
    assert len(RESERVED_WORDS) == 156
    assert {"type", "date", "year", "language", "name"}.isdisjoint(RESERVED_WORDS)


def test_only_names_that_need_quotes_are_quoted():
    assert [quote_identifier(n) for n in ("user", "order", "timestamp", "type", "year", "date", "customer_id")] == [
        '"user"', '"order"', '"timestamp"', "type", "year", "date", "customer_id"]


@pytest.fixture
def write_batch(write_parquet: Callable[[str, str], Path], write_manifest: Callable[..., Path]):
    """``write_batch(name, table, rows)``: one Parquet file of the text ``rows`` (dicts by column; the lineage
    columns filled in) in the table's physical column order, and its manifest."""

    def write(name: str, table: TableSpec, rows: list[dict[str, str | None]]) -> Path:
        lineage = {"_batch_id": f"'{name}'", "_ingested_at": f"TIMESTAMP '{INGESTED}'"}
        columns = [c.name for c in table.all_columns()]
        values = ", ".join(
            "(" + ", ".join(lineage.get(c) or ("NULL" if row.get(c) is None else f"'{row[c]}'") for c in columns) + ")"
            for row in rows)
        names = ", ".join(f'"{c}"' for c in columns)
        file = write_parquet(f"t/{name}.parquet", f"SELECT * FROM (VALUES {values}) AS v({names})")  # noqa: S608
        return write_manifest(f"{name}.manifest", [file])

    return write


def load(warehouse: DuckDBWarehouse, table: TableSpec, manifest: Path) -> None:
    warehouse.execute_script(as_script(load_statements(table)), {"manifest_uri": str(manifest), "iam_role_arn": ""})


@pytest.mark.parametrize("word", sorted(RESERVED_WORDS))
def test_every_statement_quotes_a_reserved_word_column(word: str) -> None:
    """DDL (column, DISTKEY, SORTKEY, COMMENT ON), merge, ADD COLUMN and deep copy, as Redshift SQL text."""
    quoted = f'"{word}"'
    table = TableSpec("s", "t", (ColumnSpec("id", "string"), ColumnSpec(word, "string", description="kept")),
                      distkey=word, sortkey=(word,), load_mode="merge", keys=(word,))
    ddl, load_sql = ddl_statements(table), load_statements(table)
    assert ddl[1].splitlines()[2:] == [f"  {quoted} VARCHAR(256) ENCODE RAW,", "  _batch_id VARCHAR(64) ENCODE ZSTD,",
                                       "  _ingested_at TIMESTAMP ENCODE AZ64", ")", "DISTSTYLE KEY",
                                       f"DISTKEY({quoted})", f"COMPOUND SORTKEY({quoted})"]
    assert ddl[2] == f"COMMENT ON COLUMN s.t.{quoted} IS 'kept'"
    assert load_sql[2:4] == ["COPY stage_t FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET MANIFEST",
                             f"DELETE FROM s.t USING stage_t WHERE s.t.{quoted} = stage_t.{quoted}"]
    v1 = TableSpec("s", "t", (ColumnSpec("id", "string"),), sortkey=("id",))
    added = plan_evolution(lock_document(v1, 1), TableSpec("s", "t", (
        ColumnSpec("id", "string"), ColumnSpec(word, "integer", description="new")), sortkey=("id",)))
    (add,) = added.migrations
    assert add.statements == (f"ALTER TABLE s.t ADD COLUMN {quoted} INTEGER ENCODE AZ64",
                              f"COMMENT ON COLUMN s.t.{quoted} IS 'new'")
    moved = plan_evolution(lock_document(added.table, 2), TableSpec("s", "t", (
        ColumnSpec("id", "string"), ColumnSpec(word, "bigint")), distkey=word, sortkey=(word,)))
    assert [m.statements[:5] for m in moved.migrations] == [(
        f"CREATE TABLE s.t__v3 (\n  id VARCHAR(256) ENCODE ZSTD,\n  _batch_id VARCHAR(64) ENCODE ZSTD,\n"
        f"  _ingested_at TIMESTAMP ENCODE AZ64,\n  {quoted} BIGINT ENCODE RAW\n)\nDISTSTYLE KEY\nDISTKEY({quoted})\n"
        f"COMPOUND SORTKEY({quoted})",
        f"INSERT INTO s.t__v3 (id, _batch_id, _ingested_at, {quoted}) "
        f"SELECT id, _batch_id, _ingested_at, CAST({quoted} AS BIGINT) FROM s.t",
        "ALTER TABLE s.t RENAME TO t__v2_old", "ALTER TABLE s.t__v3 RENAME TO t", "DROP TABLE s.t__v2_old")]
    in_place = plan_evolution(lock_document(added.table, 2), TableSpec("s", "t", (
        ColumnSpec("id", "string"), ColumnSpec(word, "integer", description="new")), distkey=word, sortkey=(word, "id")))
    assert [m.statements for m in in_place.migrations] == [
        (f"ALTER TABLE s.t ALTER DISTSTYLE KEY DISTKEY {quoted}",), (f"ALTER TABLE s.t ALTER COMPOUND SORTKEY ({quoted}, id)",)]
    parse_all(ddl + load_sql + [s for m in (add, *moved.migrations, *in_place.migrations) for s in m.script()])


def test_all_reserved_words_as_columns_load_merge_migrate_and_query_locally(write_batch) -> None:
    """One table whose columns are every reserved word: created, COPY'd twice (merge on three reserved-word keys),
    grown by ADD COLUMN (every reserved word again, suffixed table) and deep-copied, then queried by name."""
    words = sorted(RESERVED_WORDS)
    keys = ("user", "order", "group")
    table = TableSpec("s", "t", tuple(ColumnSpec(w, "string", description=f"the {w}") for w in words),
                      distkey="user", sortkey=("timestamp", "order"), load_mode="merge", keys=keys)
    first = {w: f"{w}-1" for w in words}
    second = {w: f"{w}-2" for w in words}
    replacing = {**second, **{k: first[k] for k in keys}}  # same key as `first`: the merge replaces it
    quoted = ", ".join(f'"{w}"' for w in words)
    with DuckDBWarehouse() as warehouse:
        warehouse.execute_script(as_script(ddl_statements(table)))
        load(warehouse, table, write_batch("b1", table, [first]))
        load(warehouse, table, write_batch("b2", table, [replacing, second]))
        labels, rows = warehouse.query(f"SELECT {quoted}, _batch_id FROM s.t ORDER BY \"user\"")  # noqa: S608
        assert labels == [*words, "_batch_id"]
        assert rows == [(*(replacing[w] for w in words), "b2"), (*(second[w] for w in words), "b2")]

        v1 = TableSpec("s", "u", (ColumnSpec("id", "integer"),))
        grown = TableSpec("s", "u", (ColumnSpec("id", "integer"), *(ColumnSpec(w, "integer") for w in words)))
        (add,) = plan_evolution(lock_document(v1, 1), grown).migrations
        warehouse.execute_script(as_script(ddl_statements(v1)))
        load(warehouse, v1, write_batch("u1", v1, [{"id": "1"}]))
        warehouse.execute_script(as_script(add.script()))
        added = plan_evolution(lock_document(v1, 1), grown).table
        load(warehouse, added, write_batch("u2", added, [{"id": "2", **{w: str(i) for i, w in enumerate(words)}}]))
        retyped = TableSpec("s", "u", (ColumnSpec("id", "integer"), *(ColumnSpec(w, "bigint") for w in words)))
        (deep_copy,) = plan_evolution(lock_document(added, 2), retyped).migrations
        warehouse.execute_script(as_script(deep_copy.script()))
        labels, rows = warehouse.query(f"SELECT id, {quoted} FROM s.u ORDER BY id")  # noqa: S608
        types = dict(warehouse.table_columns("s", "u"))
    assert labels == ["id", *words]
    assert rows == [(1, *(None for _ in words)), (2, *range(len(words)))]
    assert {types[w] for w in words} == {"BIGINT"}


def test_keywords_beyond_redshifts_list_are_written_plain_and_still_run_locally(write_batch) -> None:
    """Names sqlglot or DuckDB treat as keywords, but Redshift does not reserve, stay unquoted in the generated
    SQL (except the few sqlglot misreads) and that SQL still parses, loads and is queried on the local warehouse."""
    sqlglot_words = {k.lower() for k in Dialect.get_or_raise("redshift").tokenizer_class.KEYWORDS}
    duckdb_words = {k for (k,) in duckdb.sql("SELECT keyword_name FROM duckdb_keywords()").fetchall()}
    words = sorted(w for w in (sqlglot_words | duckdb_words) - QUOTED_WORDS if re.fullmatch(r"[a-z_][a-z0-9_]*", w))
    assert len(words) > 400 and {"type", "date", "year", "qualify", "window"} <= set(words)
    table = TableSpec("s", "t", tuple(ColumnSpec(w, "string", description="d") for w in words),
                      distkey=words[0], sortkey=tuple(words[:3]), load_mode="merge", keys=tuple(words[:3]))
    ddl, load_sql = ddl_statements(table), load_statements(table)
    parse_all(ddl + load_sql)
    assert [line.split()[0] for line in ddl[1].splitlines()[1:len(words) + 1]] == words  # none quoted
    row = {w: w for w in words}
    with DuckDBWarehouse() as warehouse:
        warehouse.execute_script(as_script(ddl))
        load(warehouse, table, write_batch("b1", table, [row]))
        load(warehouse, table, write_batch("b2", table, [row]))
        labels, rows = warehouse.query("SELECT " + ", ".join(f'"{w}"' for w in words) + " FROM s.t")  # noqa: S608
    assert [label.lower() for label in labels] == words  # DuckDB labels "current_catalog" in upper case
    assert rows == [tuple(words)]
