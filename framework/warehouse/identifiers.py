"""Redshift identifier rules, checked again right before a name is written into SQL, and how names are written.

The spec layer validates names with friendly, positioned errors; this module is defence in depth: only a
lower-case Redshift identifier ever reaches generated SQL, and it is written quoted exactly when it needs
quotes (a Redshift reserved word such as ``user``, or a name that is not plain; see
``framework.runtime.redshift_names``). Ordinary names are written as they are.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift

from framework.runtime import redshift_names

MAX_IDENTIFIER_BYTES = 127

# Redshift: start with an ASCII letter, an underscore or a multibyte UTF-8 character; continue with
# ASCII letters/digits, underscores, dollar signs or multibyte characters. Lower-case only here,
# because unquoted names fold to lower case and the spec layer hands us folded names.
_UNQUOTED_IDENTIFIER = re.compile(r"[a-z_\u0080-\U0010ffff][a-z0-9_$\u0080-\U0010ffff]*")


# Not Redshift reserved words, but sqlglot's Redshift reader takes them for syntax where a column name stands
# (`variadic x VARCHAR` in CREATE TABLE, `exclude` and `current_schema` too), so the local warehouse could not
# run generated SQL that holds them unquoted. Redshift reads them quoted just as well. Found by
# tests/warehouse/test_reserved_words.py, which tries every keyword sqlglot and DuckDB know.
SQLGLOT_MISREAD = frozenset({"current_schema", "exclude", "variadic"})
QUOTED_WORDS = redshift_names.RESERVED_WORDS | SQLGLOT_MISREAD


class OnboardRedshift(Redshift):
    """sqlglot's Redshift dialect, quoting exactly ``QUOTED_WORDS``: Redshift's documented reserved words (and
    the few names sqlglot misreads). sqlglot's own list is not Redshift's (it has ``type``), so it would quote
    names Redshift does not reserve; rendered with this dialect, one list decides everywhere."""

    class Generator(Redshift.Generator):
        RESERVED_KEYWORDS = set(QUOTED_WORDS)


DIALECT = OnboardRedshift


def check_identifier(name: str, what: str) -> str:
    """Return ``name`` if it is a valid lower-case Redshift identifier, else raise ValueError.

    Reserved words are valid: they are written quoted. ``what`` names the role of the identifier in the
    message (e.g. ``"column"``); the message quotes the name because identifiers are never secret.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} name must be a non-empty string")
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        raise ValueError(f"{what} name {name!r} is longer than {MAX_IDENTIFIER_BYTES} bytes")
    if not _UNQUOTED_IDENTIFIER.fullmatch(name) or not name.isprintable() or name != name.lower():
        raise ValueError(
            f"{what} name {name!r} is not a lower-case Redshift identifier "
            "(letters, digits, '_' or '$', not starting with a digit or '$')"
        )
    return name


def needs_quotes(name: str) -> bool:
    """True when generated SQL writes ``name`` quoted (see ``framework.runtime.redshift_names.needs_quotes``)."""
    return name in SQLGLOT_MISREAD or redshift_names.needs_quotes(name)


def quote_identifier(name: str) -> str:
    """``name`` as generated Redshift SQL writes it: as is, or in double quotes when it needs them."""
    return '"' + name.replace('"', '""') + '"' if needs_quotes(name) else name


def sql_identifier(name: str) -> exp.Identifier:
    """``name`` as a sqlglot identifier, quoted exactly when Redshift needs quotes for it."""
    return exp.Identifier(this=name, quoted=needs_quotes(name))


def sql_name(*parts: str) -> str:
    """A (possibly qualified) name as Redshift SQL text: ``s.t``, ``s."order"``."""
    return ".".join(quote_identifier(part) for part in parts)


def truncate_identifier(name: str, limit: int = MAX_IDENTIFIER_BYTES) -> str:
    """Shorten ``name`` (by whole characters) until it fits ``limit`` UTF-8 bytes."""
    while len(name.encode("utf-8")) > limit:
        name = name[:-1]
    return name
