"""Landing a batch that arrives as a stream of objects (API pages), all or nothing.

Objects are written to the batch's raw folder as they arrive, so memory holds one object at a time.
The batch becomes real only when `commit` writes the folder's `_batch.json` marker and returns the
folder; `discard` deletes whatever was written, so a failure part-way hands nothing on.
"""

from __future__ import annotations

import itertools
import json
import logging
from datetime import datetime
from typing import Any

from framework.runtime.batch import LandedFolder
from framework.runtime.lake import raw_batch_marker_key, raw_batch_prefix, raw_part_key
from framework.runtime.storage import Storage

log = logging.getLogger(__name__)


class BatchWriter:
    """Writes one batch's objects; keeps counts only, so its memory does not grow with the batch."""

    def __init__(self, storage: Storage, bucket: str, source: str, batch_id: str, now: datetime):
        self.storage, self.bucket = storage, bucket
        self.source, self.batch_id, self.now = source, batch_id, now
        self.prefix = raw_batch_prefix(source, batch_id, now)
        self.objects = 0
        self.bytes = 0
        self.extensions: set[str] = set()

    def add(self, body: bytes, extension: str) -> str:
        """Write the next object of the batch; returns its key."""
        self.objects += 1
        self.extensions.add(extension)
        key = raw_part_key(self.source, self.batch_id, self.now, self.objects, extension)
        self.storage.put(self.bucket, key, body)
        self.bytes += len(body)
        return key

    def commit(self, summary: dict[str, Any]) -> LandedFolder:
        """Seal the batch: write the marker (with `summary`) and describe the folder."""
        marker = {"source": self.source, "batch_id": self.batch_id, "objects": self.objects,
                  "bytes": self.bytes, **summary}
        self.storage.put(self.bucket, raw_batch_marker_key(self.source, self.batch_id, self.now),
                         json.dumps(marker, sort_keys=True).encode())
        return LandedFolder(self.bucket, self.prefix, self.storage.uri(self.bucket, self.prefix), self.objects,
                            self.bytes)

    def discard(self) -> None:
        """Delete every object written so far, and the marker (best effort: a folder without a marker is
        never handed on). Keys are rebuilt from the count: no listing, no memory per object."""
        parts = (raw_part_key(self.source, self.batch_id, self.now, n, extension)
                 for n in range(1, self.objects + 1) for extension in sorted(self.extensions))
        for key in itertools.chain(parts, [raw_batch_marker_key(self.source, self.batch_id, self.now)]):
            try:
                self.storage.delete(self.bucket, key)
            except Exception as exc:  # noqa: BLE001 - keep deleting the rest
                log.warning("could not delete abandoned %s/%s: %s", self.bucket, key, type(exc).__name__)
        self.objects = 0
