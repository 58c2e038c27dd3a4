"""Reading a Redshift COPY manifest whose files are local (the embedded warehouse's lake)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from framework.warehouse.errors import RedshiftRuleError

_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class ManifestEntry:
    path: Path
    mandatory: bool
    content_length: int | None


def local_path(uri: str, what: str) -> Path:
    """An absolute local path from ``/abs/path`` or ``file:///abs/path``; anything else fails."""
    path = uri.removeprefix("file://")
    if not path.startswith("/"):
        raise RedshiftRuleError(f"{what} must be an absolute local path or a file:/// URI, got {uri}")
    return Path(path)


def _entry(raw: object, number: int) -> ManifestEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise RedshiftRuleError(f"manifest entry {number} has no url")
    url = raw["url"]
    mandatory = raw.get("mandatory", False)
    if not isinstance(mandatory, bool):
        raise RedshiftRuleError(f"manifest entry {number}: mandatory must be true or false")
    meta = raw.get("meta")
    length = meta.get("content_length") if isinstance(meta, dict) else None
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 0):
        raise RedshiftRuleError(f"manifest entry {number}: meta.content_length must be a byte count")
    path = local_path(url, f"manifest entry {number} url")
    if _GLOB_CHARACTERS & set(str(path)):
        raise RedshiftRuleError(f"manifest entry {number}: file name {path} contains a glob character")
    return ManifestEntry(path=path, mandatory=mandatory, content_length=length)


def read_manifest(uri: str) -> list[ManifestEntry]:
    """The manifest's entries, in order. Fails when the manifest is missing or malformed."""
    path = local_path(uri, "manifest")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RedshiftRuleError(f"manifest {path} not found") from None
    except json.JSONDecodeError as exc:
        raise RedshiftRuleError(f"manifest {path} is not valid JSON: {exc.msg}") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RedshiftRuleError(f"manifest {path} has no entries list")
    return [_entry(raw, number) for number, raw in enumerate(entries, start=1)]


def parquet_files(entries: list[ManifestEntry], table: str) -> list[Path]:
    """Files a Parquet COPY into ``table`` loads, after Redshift's manifest checks.

    A Parquet entry needs ``meta.content_length`` equal to the file's size; a missing mandatory file
    fails; a missing optional one is skipped; COPY fails when no file is found at all.
    """
    files = []
    for entry in entries:
        if not entry.path.is_file():
            if entry.mandatory:
                raise RedshiftRuleError(f"COPY into {table} failed: mandatory file {entry.path} not found")
            continue
        if entry.content_length is None:
            raise RedshiftRuleError(
                f"COPY into {table} failed: manifest entry for {entry.path} lacks meta.content_length, "
                "which Parquet requires"
            )
        size = os.path.getsize(entry.path)
        if size != entry.content_length:
            raise RedshiftRuleError(
                f"COPY into {table} failed: file {entry.path} has {size} bytes but the manifest says "
                f"content_length {entry.content_length}"
            )
        files.append(entry.path)
    if not files:
        raise RedshiftRuleError(f"COPY into {table} failed: no files found from the manifest")
    return files
