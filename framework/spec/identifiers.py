"""Redshift's rules for identifiers, checked before any name reaches SQL."""

from __future__ import annotations

import re

# Redshift reserved words (Amazon Redshift Database Developer Guide, "Reserved words").
RESERVED_WORDS = frozenset("""
aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup
between binary blanksasnull both bytedict bzip2 case cast check collate column constraint create
credentials cross current_date current_time current_timestamp current_user current_user_id default
deferrable deflate defrag delta delta32k desc disable distinct do else emptyasnull enable encode
encrypt encryption end except explicit false for foreign freeze from full globaldict256
globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval
into is isnull join language leading left like limit localtime localtimestamp lun luns lzo lzop
minus mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on
only open or order outer overlaps parallel partition percent permissions pivot placing primary raw
readratio recover references rejectlog resort respect restore right select session_user similar
snapshot some sysdate system table tag tdes text255 text32k then timestamp to top trailing true
truncatecolumns union unique unnest unpivot user using verbose wallet when where with without
""".split())

LINEAGE_COLUMNS = ("_batch_id", "_ingested_at")
# Names the Glue job itself uses: lineage, quarantine record fields and derived partition folders.
RESERVED_COLUMNS = (*LINEAGE_COLUMNS, "_record", "_reason", "year", "month", "day", "hour")

# Unquoted identifiers: start with a letter or underscore, then letters, digits, underscores or $.
# Multibyte UTF-8 letters are allowed by Redshift; we accept ASCII only, which also keeps every
# generated AWS resource name valid.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def identifier_problem(name: str) -> str | None:
    """Why `name` cannot be a Redshift table, schema or column name, or None when it can."""
    if not name:
        return "must not be empty"
    if len(name.encode("utf-8")) > 127:
        return f"'{name[:20]}...' is {len(name.encode('utf-8'))} bytes; Redshift allows at most 127"
    if not _IDENTIFIER.match(name):
        return (f"'{name}' is not a valid Redshift identifier: start with a letter or '_', then use only "
                "letters, digits, '_' or '$'")
    if name.lower() in RESERVED_WORDS:
        return f"'{name}' is a Redshift reserved word; pick another name"
    return None


def source_name_problem(name: str) -> str | None:
    """Why `name` cannot name a source (it becomes S3 prefixes, Glue and Lambda names)."""
    if not _SOURCE_NAME.match(name):
        return f"'{name}' must be lower-case snake_case: a letter, then letters, digits or '_'"
    if len(name) > 48:
        return f"'{name}' is {len(name)} characters; at most 48 (AWS resource names are built from it)"
    return None


def fold(name: str) -> str:
    """Redshift folds unquoted identifiers to lower case."""
    return name.lower()
