"""Header names as the readers match them: a declared column's `source` against a file's header row."""

from __future__ import annotations

from collections.abc import Sequence

from onboard_glue.config import ColumnSpec


def normal_name(name: str) -> str:
    """A header cell as it is compared: BOM and surrounding blanks removed, case folded."""
    return name.replace("\ufeff", "").strip().casefold()


def header_position(header: tuple[str, ...], source: str) -> int | None:
    """Where `source` sits in a header of normal names, or None when the header lacks it."""
    wanted = normal_name(source)
    return next((i for i, name in enumerate(header) if name == wanted), None)


class MissingColumnsError(ValueError):
    """A file's header lacks declared columns (and the source did not set allow_missing_columns)."""


def check_header(file_name: str, header: tuple[str, ...], columns: Sequence[ColumnSpec],
                 positions: Sequence[int | None], allow_missing: bool) -> None:
    """Refuse a header without a declared column's `source`, naming the columns and the header found."""
    if allow_missing:
        return
    missing = [c.name if normal_name(c.source) == c.name else f"{c.name} (source '{c.source}')"
               for c, position in zip(columns, positions, strict=True) if position is None]
    if missing:
        raise MissingColumnsError(
            f"{file_name}: the header has no column {', '.join(missing)}; found: {', '.join(header)}. Map the "
            "column to a header name (schema.mapping), or set schema.allow_missing_columns: true to load it as null")
