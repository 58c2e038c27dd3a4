"""The stdlib loader SQL: split like sqlglot, placeholders validated before they are written, batch limits."""

from __future__ import annotations

import pytest

from framework.runtime.load_sql import (
    MAX_BATCH_STATEMENTS,
    check_iam_role_chain,
    check_manifest_uri,
    fill_placeholders,
    load_batch,
    split_statements,
)
from framework.warehouse import split_script
from tests.conftest import REPO

GENERATED = sorted((REPO / "generated").glob("*/redshift/*.sql"))
MANIFEST = "s3://onboard-processed-123456789012-eu-west-1/_manifests/sales_transactions/20241116T100000Z-1a2b3c4d.manifest"
ROLE = "arn:aws:iam::123456789012:role/onboard-copy-chain"
SOURCE_ROLE = "arn:aws:iam::123456789012:role/onboard-copy-sales_transactions"


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_split_agrees_with_the_sqlglot_splitter_on_every_generated_file(path):
    text = path.read_text(encoding="utf-8")
    assert split_statements(text) == [s.text for s in split_script(text)]


def test_split_keeps_semicolons_and_dashes_inside_literals_and_drops_comments():
    text = "-- head; comment\nCOMMENT ON TABLE a.b IS 'x; y -- z';\n/* block; */ SELECT \"a;b\" FROM t;\n"
    assert split_statements(text) == ["COMMENT ON TABLE a.b IS 'x; y -- z'", 'SELECT "a;b" FROM t']


def test_split_reads_backslash_escaped_quotes_as_the_ddl_writes_them():
    text = "COMMENT ON TABLE a.b IS 'the shop\\'s; reviews';\nCOMMENT ON COLUMN a.b.c IS 'it''s';\n"
    assert split_statements(text) == ["COMMENT ON TABLE a.b IS 'the shop\\'s; reviews'",
                                      "COMMENT ON COLUMN a.b.c IS 'it''s'"]


def test_split_refuses_unterminated_literal():
    with pytest.raises(ValueError, match="unterminated quoted text"):
        split_statements("SELECT 'abc")


def test_sales_merge_batch_is_ddl_then_load_without_transaction_control():
    folder = REPO / "generated/sales_transactions/redshift"
    statements, left_out = load_batch((folder / "ddl.sql").read_text(), (folder / "load.sql").read_text(),
                                      MANIFEST, f"{ROLE},{SOURCE_ROLE}")
    assert left_out == 0
    assert [s.split("(")[0].split(" IS ")[0] for s in statements] == [
        "CREATE SCHEMA IF NOT EXISTS sales",
        "CREATE TABLE IF NOT EXISTS sales.transactions ",
        "COMMENT ON TABLE sales.transactions",
        "COMMENT ON COLUMN sales.transactions.transaction_id",
        "COMMENT ON COLUMN sales.transactions._batch_id",
        "COMMENT ON COLUMN sales.transactions._ingested_at",
        "CREATE TEMPORARY TABLE stage_transactions ",
        f"COPY stage_transactions FROM '{MANIFEST}' IAM_ROLE '{ROLE},{SOURCE_ROLE}' FORMAT AS PARQUET MANIFEST",
        "DELETE FROM sales.transactions USING stage_transactions WHERE sales.transactions.transaction_id = "
        "stage_transactions.transaction_id",
        "INSERT INTO sales.transactions SELECT * FROM stage_transactions",
        "DROP TABLE stage_transactions",
    ]


def test_comments_that_do_not_fit_the_40_statement_batch_are_left_out_last_first():
    ddl = "CREATE SCHEMA IF NOT EXISTS s;\nCREATE TABLE IF NOT EXISTS s.t (a INT);\n" + "".join(
        f"COMMENT ON COLUMN s.t.c{i} IS 'c{i}';\n" for i in range(50))
    load = "BEGIN;\nCOPY s.t FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET MANIFEST;\nCOMMIT;\n"
    statements, left_out = load_batch(ddl, load, MANIFEST, ROLE)
    assert len(statements) == MAX_BATCH_STATEMENTS
    assert left_out == 50 - (MAX_BATCH_STATEMENTS - 3)
    assert statements[-2] == "COMMENT ON COLUMN s.t.c36 IS 'c36'"
    assert statements[-1].startswith("COPY s.t FROM 's3://")


@pytest.mark.parametrize("uri, message", [
    ("s3://bucket/key' ; DROP TABLE x; --", "manifest_uri is not valid"),
    ("/local/path/x.manifest", "manifest_uri is not valid"),
    ("s3://bucket/${iam_role_arn}", "manifest_uri is not valid"),
    ("s3://other-bucket/_manifests/sales_transactions/x.manifest", "outside this source's manifest prefix"),
])
def test_bad_manifest_uris_are_refused_without_echoing_them(uri, message):
    with pytest.raises(ValueError, match=message) as caught:
        check_manifest_uri(uri, "s3://onboard-processed-123456789012-eu-west-1/_manifests/sales_transactions/")
    assert uri not in str(caught.value)


@pytest.mark.parametrize("chain", ["", "arn:aws:iam::123:role/x", f"{ROLE}'", ",".join([ROLE] * 11), f"{ROLE},"])
def test_bad_role_chains_are_refused(chain):
    with pytest.raises(ValueError, match="iam_role_arn is not valid"):
        check_iam_role_chain(chain)


def test_a_chain_of_two_roles_is_accepted():
    assert check_iam_role_chain(f"{ROLE},{SOURCE_ROLE}") == f"{ROLE},{SOURCE_ROLE}"


def test_unknown_placeholders_are_refused():
    with pytest.raises(ValueError, match=r"unknown placeholder \$\{batch_id\}"):
        fill_placeholders("COPY t FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' -- ${batch_id}", MANIFEST, ROLE)
