"""Redshift's reserved words and when a name must be quoted in SQL (standard library only).

The one list of reserved words: the spec layer checks names against it and every generated statement
quotes exactly the identifiers that need it, so a column may be called ``user``, ``order`` or ``timestamp``
(analysts then write ``"user"``, as Redshift requires).
"""

from __future__ import annotations

import re

# Amazon Redshift Database Developer Guide, "Reserved words" (docs.aws.amazon.com/redshift/latest/dg/
# r_pg_keywords.html): "You can use the reserved words with delimited identifiers (double quotation marks)."
# `type`, `date`, `year` and `language` are not on it.
RESERVED_WORDS = frozenset("""
aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup
between binary blanksasnull both bytedict bzip2 case cast check collate column constraint create
credentials cross current_date current_time current_timestamp current_user current_user_id default
deferrable deflate defrag delta delta32k desc disable distinct do else emptyasnull enable encode
encrypt encryption end except explicit false for foreign freeze from full globaldict256
globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval
into is isnull join leading left like limit localtime localtimestamp lun luns lzo lzop
minus mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on
only open or order outer overlaps parallel partition percent permissions pivot placing primary raw
readratio recover references rejectlog resort respect restore right select session_user similar
snapshot some sysdate system table tag tdes text255 text32k then timestamp to top trailing true
truncatecolumns union unique unnest unpivot user using verbose wallet when where with without
""".split())

# What Redshift reads unquoted as exactly this name: lower case (unquoted names fold to it), ASCII.
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def needs_quotes(name: str) -> bool:
    """True when ``name`` must be written as a delimited identifier: a reserved word, or not a plain
    lower-case identifier (upper case, non-ASCII, a leading digit or ``$``, any other character)."""
    return name in RESERVED_WORDS or not _PLAIN.fullmatch(name)


