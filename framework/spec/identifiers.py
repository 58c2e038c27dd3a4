"""Redshift's rules for identifiers, checked before any name reaches SQL."""

from __future__ import annotations

import re

from framework.runtime.redshift_names import RESERVED_WORDS
from framework.spec.models import PARTITION_PARTS

LINEAGE_COLUMNS = ("_batch_id", "_ingested_at")


def partition_folder(part: str) -> str:
    """The folder name of a `destination.partitionBy` part: `year` -> `onboard_year`. The lake's partition
    folders (`onboard_year=2024/onboard_month=01/...`, glue/config.py's PARTITION_FOLDERS) are layout only, named
    so that no data column (`year` is a common one) collides with them."""
    return f"onboard_{part}"


PARTITION_FOLDERS = tuple(partition_folder(part) for part in PARTITION_PARTS)

# Names the Glue job itself uses: lineage, quarantine record fields and the partition folders.
RESERVED_COLUMNS = (*LINEAGE_COLUMNS, "_record", "_reason", *PARTITION_FOLDERS)

# Unquoted identifiers: start with a letter or underscore, then letters, digits, underscores or $.
# Multibyte UTF-8 letters are allowed by Redshift; we accept ASCII only, which also keeps every
# generated AWS resource name valid.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def identifier_problem(name: str, *, column: bool = False) -> str | None:
    """Why `name` cannot be a Redshift table, schema or (``column``) column name, or None when it can.

    A column may be a Redshift reserved word (`user`, `order`, `timestamp`): generated SQL quotes it."""
    if not name:
        return "must not be empty"
    if len(name.encode("utf-8")) > 127:
        return f"'{name[:20]}...' is {len(name.encode('utf-8'))} bytes; Redshift allows at most 127"
    if not _IDENTIFIER.match(name):
        return (f"'{name}' is not a valid Redshift identifier: start with a letter or '_', then use only "
                "letters, digits, '_' or '$'")
    if name.lower() in RESERVED_WORDS and not column:
        return f"'{name}' is a Redshift reserved word; pick another name (columns may use reserved words)"
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
