"""Redshift identifier rules, checked again right before a name is written into SQL.

The spec layer validates names with friendly, positioned errors; this module is defence in depth:
nothing that is not a plain, unquoted, lower-case Redshift identifier ever reaches generated SQL.
"""

from __future__ import annotations

import re

from sqlglot import Dialect

MAX_IDENTIFIER_BYTES = 127

# Redshift: start with an ASCII letter, an underscore or a multibyte UTF-8 character; continue with
# ASCII letters/digits, underscores, dollar signs or multibyte characters. Lower-case only here,
# because unquoted names fold to lower case and the spec layer hands us folded names.
_UNQUOTED_IDENTIFIER = re.compile(r"[a-z_\u0080-\U0010ffff][a-z0-9_$\u0080-\U0010ffff]*")

REDSHIFT_RESERVED_WORDS: frozenset[str] = frozenset(Dialect.get_or_raise("redshift").generator_class.RESERVED_KEYWORDS)


def check_identifier(name: str, what: str) -> str:
    """Return ``name`` if it is a valid unquoted lower-case Redshift identifier, else raise ValueError.

    ``what`` names the role of the identifier in the message (e.g. ``"column"``); the message quotes
    the name because identifiers are never secret.
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
    if name in REDSHIFT_RESERVED_WORDS:
        raise ValueError(f"{what} name {name!r} is a Redshift reserved word")
    return name


def truncate_identifier(name: str, limit: int = MAX_IDENTIFIER_BYTES) -> str:
    """Shorten ``name`` (by whole characters) until it fits ``limit`` UTF-8 bytes."""
    while len(name.encode("utf-8")) > limit:
        name = name[:-1]
    return name
