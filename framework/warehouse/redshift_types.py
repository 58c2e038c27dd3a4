"""The type Redshift gives an expression inside a statement, from the warehouse's own column types.

Some Redshift results take their type from the argument's (AVG of an integer column is a truncated BIGINT).
sqlglot types an expression through the whole statement (CTEs, subqueries, joins) once it is qualified
against the tables' columns; the local warehouse passes those with ``column_types`` while it translates.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

Tables = Mapping[str, Mapping[str, Mapping[str, str]]]  # schema -> table -> column -> DuckDB type

_TABLES: ContextVar[Callable[[], Tables] | None] = ContextVar("onboard_warehouse_tables", default=None)
_MARK = "onboard_typed"


@contextmanager
def column_types(tables: Callable[[], Tables]) -> Iterator[None]:
    """Within the block, ``expression_type`` knows the columns ``tables()`` returns (asked once, when first
    needed: most statements need no types)."""
    token = _TABLES.set(functools.cache(tables))
    try:
        yield
    finally:
        _TABLES.reset(token)


def expression_type(node: exp.Expression) -> exp.DType | None:
    """The type of ``node`` within its statement (None when sqlglot cannot tell)."""
    node.meta[_MARK] = True
    try:
        statement = node.root().copy()
    finally:
        del node.meta[_MARK]
    tables = _TABLES.get()
    schema = MappingSchema(tables() if tables else {}, dialect="duckdb")
    try:
        typed = annotate_types(qualify(statement, dialect="redshift", schema=schema, validate_qualify_columns=False,
                                       identify=False), schema=schema, dialect="redshift")
    except SqlglotError:
        return None
    found = next((n for n in typed.walk() if n.meta.get(_MARK)), None)
    kind = found.type.this if found is not None and found.type is not None else None
    return None if kind in (None, exp.DType.UNKNOWN) else kind
