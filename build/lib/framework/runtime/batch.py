"""A batch: the unit that is landed, transformed and loaded together."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

RAW_EXTENSIONS = {"csv": "csv", "json": "json", "jsonl": "jsonl", "parquet": "parquet", "xlsx": "xlsx"}


def new_batch_id(now: datetime, *identity: str) -> str:
    """`20241116T100000Z-1a2b3c4d`: sortable by time; the suffix hashes what the batch came from."""
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:8]
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest}"


@dataclass
class LandedObject:
    bucket: str
    key: str
    uri: str
    origin: str
    etag: str | None = None
    size: int | None = None


@dataclass
class Batch:
    source: str
    batch_id: str
    ingest_time: str
    objects: list[LandedObject] = field(default_factory=list)
    status: str = "landed"
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
