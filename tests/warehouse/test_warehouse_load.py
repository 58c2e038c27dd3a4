"""Exact load SQL per mode, and the run-time substitution of its placeholders."""

from __future__ import annotations

import dataclasses
import re

import pytest
import sqlglot
from sqlglot import exp

from framework.warehouse import TableSpec, as_script, load_statements, render_load_sql

MERGE_SQL = """\
BEGIN;

CREATE TEMPORARY TABLE stage_orders (LIKE sales.orders);

COPY stage_orders FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET MANIFEST;

DELETE FROM sales.orders USING stage_orders WHERE sales.orders.order_id = stage_orders.order_id;

INSERT INTO sales.orders SELECT * FROM stage_orders;

DROP TABLE stage_orders;

COMMIT;
"""

APPEND_SQL = """\
BEGIN;

COPY sales.orders FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET MANIFEST;

COMMIT;
"""

REPLACE_SQL = """\
BEGIN;

DELETE FROM sales.orders;

COPY sales.orders FROM '${manifest_uri}' IAM_ROLE '${iam_role_arn}' FORMAT AS PARQUET MANIFEST;

COMMIT;
"""

ROLE = "arn:aws:iam::123456789012:role/onboard-redshift-copy"


def test_merge_load_sql_is_exact(orders_table: TableSpec) -> None:
    assert as_script(load_statements(orders_table)) == MERGE_SQL


def test_append_load_sql_is_exact(orders_table: TableSpec) -> None:
    assert as_script(load_statements(dataclasses.replace(orders_table, load_mode="append"))) == APPEND_SQL


def test_replace_load_sql_is_exact_and_never_truncates(orders_table: TableSpec) -> None:
    sql = as_script(load_statements(dataclasses.replace(orders_table, load_mode="replace")))
    assert sql == REPLACE_SQL
    assert "TRUNCATE" not in sql.upper()


def test_merge_on_several_keys_matches_every_key(orders_table: TableSpec) -> None:
    table = dataclasses.replace(orders_table, keys=("order_id", "placed_at"))
    assert load_statements(table)[3] == (
        "DELETE FROM sales.orders USING stage_orders WHERE sales.orders.order_id = stage_orders.order_id "
        "AND sales.orders.placed_at = stage_orders.placed_at"
    )


@pytest.mark.parametrize("mode", ["append", "merge", "replace"])
def test_every_load_statement_parses_as_redshift(orders_table: TableSpec, mode: str) -> None:
    for statement in load_statements(dataclasses.replace(orders_table, load_mode=mode)):
        parsed = sqlglot.parse_one(statement, read="redshift")
        assert not isinstance(parsed, exp.Command), statement
    first, *_, last = load_statements(dataclasses.replace(orders_table, load_mode=mode))
    assert (first, last) == ("BEGIN", "COMMIT")


def test_render_substitutes_checked_values(orders_table: TableSpec) -> None:
    sql = render_load_sql(APPEND_SQL, "s3://onboard-processed/_manifests/orders/b1.manifest", ROLE)
    assert sql.splitlines()[2] == (
        "COPY sales.orders FROM 's3://onboard-processed/_manifests/orders/b1.manifest' "
        f"IAM_ROLE '{ROLE}' FORMAT AS PARQUET MANIFEST;"
    )
    assert render_load_sql(APPEND_SQL, "/lake/m.manifest", "").splitlines()[2] == (
        "COPY sales.orders FROM '/lake/m.manifest' IAM_ROLE '' FORMAT AS PARQUET MANIFEST;"
    )
    assert "file:///lake/m.manifest" in render_load_sql(APPEND_SQL, "file:///lake/m.manifest", "")


@pytest.mark.parametrize(
    "arn",
    [ROLE, "arn:aws-us-gov:iam::123456789012:role/path/to/r", "arn:aws-cn:iam::123456789012:role/a+=,.@_-b"],
)
def test_iam_role_arn_patterns_accepted(arn: str) -> None:
    assert arn in render_load_sql(APPEND_SQL, "s3://bucket/key.manifest", arn)


MANIFEST_ERROR = (
    "manifest_uri is not valid: expected an s3://bucket/key URI, an absolute local path or a file:/// URI, "
    "without quotes, backslashes or control characters"
)
ROLE_ERROR = "iam_role_arn is not valid: expected arn:aws:iam::<12-digit account>:role/<name>"


@pytest.mark.parametrize(
    ("manifest", "role", "message"),
    [
        ("s3://bucket/it's.manifest", ROLE, MANIFEST_ERROR),
        ("/lake/x'; DROP TABLE sales.orders; --", "", MANIFEST_ERROR),
        ('/lake/"m".manifest', "", MANIFEST_ERROR),
        ("/lake/m\\.manifest", "", MANIFEST_ERROR),
        ("/lake/m\n.manifest", "", MANIFEST_ERROR),
        ("/lake/${iam_role_arn}", "", MANIFEST_ERROR),
        ("relative/m.manifest", "", MANIFEST_ERROR),
        ("file://host/m.manifest", "", MANIFEST_ERROR),
        ("https://bucket.s3.amazonaws.com/m", ROLE, MANIFEST_ERROR),
        ("s3://Bucket/m.manifest", ROLE, MANIFEST_ERROR),
        ("s3://bucket/", ROLE, MANIFEST_ERROR),
        ("/", "", MANIFEST_ERROR),
        ("s3://bucket/m.manifest", "", "iam_role_arn is required when the manifest is on S3"),
        ("s3://bucket/m.manifest", "arn:aws:iam::123:role/r", ROLE_ERROR),
        ("s3://bucket/m.manifest", "AKIA" + "IOSFODNN7EXAMPLE", ROLE_ERROR),
        ("s3://bucket/m.manifest", ROLE + "' --", ROLE_ERROR),
        ("/lake/m.manifest", "arn:aws:iam::123456789012:user/u", ROLE_ERROR),
    ],
)
def test_render_rejects_bad_values_without_echoing_them(manifest: str, role: str, message: str) -> None:
    # The exact, value-free message is the whole error: nothing of the rejected value is echoed.
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        render_load_sql(APPEND_SQL, manifest, role)
