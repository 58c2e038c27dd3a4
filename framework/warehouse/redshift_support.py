"""Redshift SQL on DuckDB: right or refused, never silently wrong.

``adapt`` first refuses what the local warehouse cannot answer the way Redshift does, then rewrites the
constructs sqlglot's Redshift-to-DuckDB transpilation gets wrong. What is right, refused and rewritten is
decided by the conformance corpus (tests/sql_corpus/, summarised in docs/sql-support.md): each construct
there runs through ``onboard query`` against the result Redshift's SQL reference documents for it.

A function sqlglot does not know (``exp.Anonymous``) reaches DuckDB by name only, so it is refused unless
the corpus showed that DuckDB's function of that name returns what Redshift's does. A function in FROM
(a table function) passes: Redshift has none an analyst could mean, and DuckDB's catalog functions
(``duckdb_columns()``) are how the local tools inspect the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from framework.warehouse import redshift_rewrites_text
from framework.warehouse.errors import NotSupportedLocally

# Functions sqlglot passes through by name whose DuckDB namesake the corpus checked against Redshift's.
SAME_IN_DUCKDB: frozenset[str] = frozenset({
}) | redshift_rewrites_text.REWRITTEN_FUNCTIONS

# Constructs refused wherever they appear: the expression type and the name the refusal gives it.
REFUSED: dict[type[exp.Expression], str] = {
    exp.Soundex: "SOUNDEX()",
    exp.FromBase: "STRTOL()",
    exp.ToNumber: "TO_NUMBER()",
    exp.Cbrt: "CBRT()",  # DuckDB's is not the correctly rounded cube root: CBRT(27) = 3.0000000000000004
}

# Rewrites of a parsed Redshift statement (in place), applied in order after the refusals.
REWRITES: tuple[Callable[[exp.Expression], None], ...] = (
    *redshift_rewrites_text.REWRITES,
)


def refuse_unsupported(expression: exp.Expression) -> None:
    """Raise NotSupportedLocally for the first construct of ``expression`` the local warehouse refuses."""
    for node in expression.walk():
        construct = REFUSED.get(type(node))
        if construct is not None:
            raise NotSupportedLocally(construct)
        if isinstance(node, exp.Anonymous) and node.name.upper() not in SAME_IN_DUCKDB \
                and not isinstance(node.parent, exp.Table):
            raise NotSupportedLocally(f"{node.name.upper()}()")


def adapt(expression: exp.Expression) -> None:
    """Refuse what cannot be answered as Redshift would, then apply the rewrites (``expression`` is changed)."""
    refuse_unsupported(expression)
    for rewrite in REWRITES:
        rewrite(expression)
