"""TableSpec/ColumnSpec: the Redshift limits and combinations they refuse, and what they derive."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest

from framework.warehouse import LINEAGE_COLUMNS, ColumnSpec, TableSpec, check_identifier

ID = ColumnSpec("id", "bigint", nullable=False)
DOC = ColumnSpec("doc", "json")


def table(**changes: object) -> TableSpec:
    base = {"schema": "s", "table": "t", "columns": (ID, DOC)}
    return TableSpec(**{**base, **changes})  # type: ignore[arg-type]


def test_all_columns_end_with_lineage_columns_in_order() -> None:
    columns = table().all_columns()
    assert [(c.name, c.redshift_type) for c in columns] == [
        ("id", "BIGINT"),
        ("doc", "SUPER"),
        ("_batch_id", "VARCHAR(64)"),
        ("_ingested_at", "TIMESTAMP"),
    ]
    assert columns[2:] == LINEAGE_COLUMNS


@pytest.mark.parametrize(
    ("column", "redshift_type"),
    [
        (ColumnSpec("c", "string"), "VARCHAR(256)"),
        (ColumnSpec("c", "string", max_length=65535), "VARCHAR(65535)"),
        (ColumnSpec("c", "decimal", precision=10), "DECIMAL(10, 0)"),
        (ColumnSpec("c", "decimal", precision=38, scale=2), "DECIMAL(38, 2)"),
        (ColumnSpec("c", "timestamptz"), "TIMESTAMP WITH TIME ZONE"),
    ],
)
def test_column_types(column: ColumnSpec, redshift_type: str) -> None:
    assert column.redshift_type == redshift_type


def test_defaults_and_list_inputs_are_normalised() -> None:
    spec = table(sortkey="id", keys=["id"], load_mode="merge")
    assert spec.sortkey == ("id",)
    assert spec.keys == ("id",)
    assert spec.effective_diststyle == "auto"
    assert table(distkey="id").effective_diststyle == "key"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: table(sortkey=("doc",)), "table s.t: sortkey column doc is SUPER (json)"),
        (lambda: table(distkey="doc"), "table s.t: distkey doc is SUPER (json)"),
        (lambda: table(load_mode="merge", keys=("doc",)), "table s.t: key doc is SUPER (json)"),
        (
            lambda: ColumnSpec("amount", "decimal", precision=39),
            "column amount: decimal precision must be between 1 and 38, got 39",
        ),
        (
            lambda: ColumnSpec("amount", "decimal", precision=10, scale=11),
            "column amount: decimal scale must be between 0 and the precision (10), got 11",
        ),
        (lambda: ColumnSpec("amount", "decimal"), "column amount: decimal needs a precision"),
        (
            lambda: ColumnSpec("name", "string", max_length=70000),
            "column name: max_length must be between 1 and 65535 bytes (Redshift VARCHAR limit), got 70000",
        ),
        (lambda: ColumnSpec("name", "string", max_length=0), "column name: max_length must be between 1"),
        (lambda: ColumnSpec("n", "integer", max_length=5), "column n: max_length applies only to string columns"),
        (lambda: ColumnSpec("n", "integer", precision=5), "column n: precision/scale apply only to decimal"),
        (lambda: ColumnSpec("n", "text"), "column n: unknown type 'text'; valid types: string, integer, bigint"),
        (
            lambda: table(columns=tuple(ColumnSpec(f"c{i}", "integer") for i in range(1599))),
            "table s.t: 1601 columns (including 2 lineage columns); Redshift allows at most 1600",
        ),
        (lambda: table(columns=(ID, ID)), "table s.t: column id is declared twice"),
        (lambda: table(columns=(ColumnSpec("_batch_id", "string"),)), "table s.t: column _batch_id is reserved"),
        (lambda: table(columns=()), "table s.t: at least one column is required"),
        (lambda: table(diststyle="all", distkey="id"), "table s.t: a distkey needs diststyle key (or none), not all"),
        (lambda: table(diststyle="key"), "table s.t: diststyle key needs a distkey"),
        (lambda: table(diststyle="random"), "table s.t: unknown diststyle 'random'; valid: auto, even, key, all"),
        (lambda: table(distkey="nope"), "table s.t: distkey nope is not a column of the table"),
        (lambda: table(sortkey=("id", "id")), "table s.t: sortkey repeats a column"),
        (lambda: table(sortstyle="zorder"), "table s.t: unknown sortstyle 'zorder'"),
        (
            lambda: table(
                columns=tuple(ColumnSpec(f"c{i}", "integer") for i in range(9)),
                sortkey=tuple(f"c{i}" for i in range(9)),
                sortstyle="interleaved",
            ),
            "table s.t: interleaved sort keys allow at most 8 columns",
        ),
        (lambda: table(load_mode="merge"), "table s.t: load mode merge needs keys"),
        (lambda: table(load_mode="upsert"), "table s.t: unknown load mode 'upsert'; valid: append, merge, replace"),
        (lambda: table(load_mode="merge", keys=("_batch_id",)), "table s.t: key _batch_id is not a column"),
        (lambda: table(order_by="missing"), "table s.t: order_by missing is not a column of the table"),
    ],
)
def test_invalid_combinations_raise(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Customer", "column name 'Customer' is not a lower-case Redshift identifier"),
        ("1st", "column name '1st' is not a lower-case Redshift identifier"),
        ("$x", "column name '$x' is not a lower-case Redshift identifier"),
        ("a b", "column name 'a b' is not a lower-case Redshift identifier"),
        ('a"; drop table x; --', "column name 'a\"; drop table x; --' is not a lower-case Redshift identifier"),
        ("a\u00a0b", "column name 'a\\xa0b' is not a lower-case Redshift identifier"),
        ("x" * 128, "column name 'xxxxxxxxxx"),
        ("é" * 64, "column name 'éééééééééé"),
        ("", "column name must be a non-empty string"),
    ],
)
def test_bad_identifiers_raise(name: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ColumnSpec(name, "string")


@pytest.mark.parametrize("name", ["customer_id", "_x", "a$b", "élan", "x" * 127, "date", "name", "select", "user"])
def test_good_identifiers_pass(name: str) -> None:
    assert check_identifier(name, "column") == name


@pytest.mark.parametrize(("field", "value"), [("schema", "Sales"), ("table", "or-der"), ("schema", "a.b")])
def test_bad_schema_or_table_names_raise(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} name"):
        table(**{field: value})


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        table().table = "other"  # type: ignore[misc]
