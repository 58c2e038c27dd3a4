"""Header names as the readers match them: a declared column's `source` against a file's header row."""

from __future__ import annotations


def normal_name(name: str) -> str:
    """A header cell as it is compared: BOM and surrounding blanks removed, case folded."""
    return name.replace("\ufeff", "").strip().casefold()


def header_position(header: tuple[str, ...], source: str) -> int | None:
    """Where `source` sits in a header of normal names, or None when the header lacks it."""
    wanted = normal_name(source)
    return next((i for i, name in enumerate(header) if name == wanted), None)
