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


def batch_time(batch_id: str) -> datetime:
    """The landing time a batch id starts with (`20241116T100000Z-...` is 2024-11-16 10:00:00 UTC)."""
    return datetime.strptime(batch_id.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@dataclass
class LandedObject:
    bucket: str
    key: str
    uri: str
    origin: str
    etag: str | None = None
    size: int | None = None


@dataclass
class LandedFolder:
    """The raw folder of a batch that landed as several objects (listed by the reader, not in the batch,
    so a batch of thousands of pages still fits a Step Functions payload)."""

    bucket: str
    prefix: str
    uri: str
    objects: int
    bytes: int


@dataclass
class Batch:
    source: str
    batch_id: str
    ingest_time: str
    objects: list[LandedObject] = field(default_factory=list)
    status: str = "landed"
    reason: str | None = None
    folder: LandedFolder | None = None
    state: dict[str, Any] | None = None  # the source's incremental state once this batch is handed on
    rejected: int = 0  # records the connector itself quarantined (stream: undecodable), not handed on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Batch:
        values = dict(data)
        values["objects"] = [LandedObject(**o) for o in values.get("objects") or []]
        values["folder"] = LandedFolder(**values["folder"]) if values.get("folder") else None
        return cls(**values)

    def input_uris(self) -> list[str]:
        """What the Glue job reads (its `--input`): the batch's folder, or its objects."""
        return [self.folder.uri] if self.folder else [o.uri for o in self.objects]

    @property
    def files_landed(self) -> int:
        return self.folder.objects if self.folder else len(self.objects)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
