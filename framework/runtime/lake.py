"""The lake's layout: where each zone keeps a source's objects. One place, used everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

ZONE_BUCKETS = {"raw": "${BUCKET:raw}", "processed": "${BUCKET:processed}",
                "curated": "${BUCKET:curated}", "quarantine": "${BUCKET:quarantine}"}


def raw_prefix(source: str) -> str:
    return f"{source}/"


def raw_key(source: str, batch_id: str, now: datetime, extension: str) -> str:
    """Where a batch's input lands in the raw zone, unchanged."""
    return f"{source}/ingest_date={now.astimezone(UTC):%Y-%m-%d}/{batch_id}.{extension}"


def raw_batch_prefix(source: str, batch_id: str, now: datetime) -> str:
    """The folder of a batch that lands as several objects (e.g. one per API page)."""
    return f"{source}/ingest_date={now.astimezone(UTC):%Y-%m-%d}/{batch_id}/"


def raw_part_key(source: str, batch_id: str, now: datetime, number: int, extension: str) -> str:
    """Object `number` (1-based) of a multi-object batch; zero-padded so names sort in arrival order."""
    return f"{raw_batch_prefix(source, batch_id, now)}part-{number:06d}.{extension}"


def raw_batch_marker_key(source: str, batch_id: str, now: datetime) -> str:
    """Written last: a multi-object batch folder without it was abandoned part-way and is never handed on.
    Its leading `_` keeps it out of the Glue job's input listing."""
    return f"{raw_batch_prefix(source, batch_id, now)}_batch.json"


def manifest_prefix(source: str) -> str:
    return f"_manifests/{source}/"


def manifest_key(source: str, batch_id: str) -> str:
    """The COPY manifest of one batch, in the processed zone (outside the crawled prefix)."""
    return f"{manifest_prefix(source)}{batch_id}.manifest"


def summary_key(source: str, batch_id: str) -> str:
    return f"{manifest_prefix(source)}{batch_id}.summary.json"


def quarantine_prefix(source: str, batch_id: str | None = None) -> str:
    return f"{source}/{batch_id}/" if batch_id else f"{source}/"
