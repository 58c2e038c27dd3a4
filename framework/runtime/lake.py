"""The lake's layout: where each zone keeps a source's objects. One place, used everywhere."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
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


def lake_areas(source: str, processed_bucket: str, processed_prefix: str | None = None) -> dict[str, dict[str, str]]:
    """Every folder Onboard writes for a source, `{area: {"bucket", "prefix"}}`: the manifest's `lake` block.

    `processed_bucket`/`processed_prefix` come from the source's `destination` (default prefix `<source>/`).
    """
    return {
        "raw": {"bucket": ZONE_BUCKETS["raw"], "prefix": raw_prefix(source)},
        "processed": {"bucket": processed_bucket, "prefix": processed_prefix or f"{source}/"},
        "manifests": {"bucket": processed_bucket, "prefix": manifest_prefix(source)},
        "quarantine": {"bucket": ZONE_BUCKETS["quarantine"], "prefix": quarantine_prefix(source)},
    }


def lake_from_env(environ: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """The source's lake locations, `{area: (bucket, prefix)}`, from `ONBOARD_LAKE`.

    `ONBOARD_LAKE` is the `lake` block of the source's manifest.json (set on the deployed Lambdas);
    `${BUCKET:zone}` references in it resolve through `ONBOARD_BUCKET_<ZONE>`.
    """
    from framework.runtime.references import resolve

    environ = os.environ if environ is None else environ
    if "ONBOARD_LAKE" not in environ:
        raise LookupError("ONBOARD_LAKE is not set: it holds the lake block of the source's manifest.json")
    areas = json.loads(environ["ONBOARD_LAKE"])
    return {area: (resolve(spot["bucket"], environ=environ), spot["prefix"]) for area, spot in areas.items()}


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def quality_score(rows_in: int, rows_quarantined: int) -> float:
    """A batch's quality score: the share of valid (not quarantined) rows, 1.0 for an empty batch."""
    return round((rows_in - rows_quarantined) / rows_in, 4) if rows_in else 1.0
