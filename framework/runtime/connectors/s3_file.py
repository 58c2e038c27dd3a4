"""`s3_file`: an object uploaded under the source's prefix lands unchanged in the raw zone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from framework.runtime import references
from framework.runtime.batch import RAW_EXTENSIONS, Batch, LandedObject, batch_time, new_batch_id
from framework.runtime.connectors.base import Connector
from framework.runtime.events import ObjectRef, objects_in_event
from framework.runtime.lake import raw_key

log = logging.getLogger(__name__)
GZIP_MAGIC = b"\x1f\x8b"


class S3FileConnector(Connector):
    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        """One batch per new object that matches the prefix (and suffix); others are skipped.

        With a run ledger, an object (bucket/key + ETag) is claimed before it lands: delivered again (the same
        event twice, or the same file uploaded again) it is skipped and listed in `self.skipped`."""
        settings = self.config["config"]
        bucket = references.resolve(settings["bucket"])
        batches = []
        for obj in objects_in_event(event):
            if obj.bucket != bucket or not self._matches(obj.key, settings):
                log.info("skipping s3://%s/%s: outside this source's prefix", obj.bucket, obj.key)
                continue
            batch = self._land(obj)
            if batch is not None:
                batches.append(batch)
        return batches

    @staticmethod
    def _matches(key: str, settings: dict[str, Any]) -> bool:
        suffix = settings.get("suffix") or ""
        return key.startswith(settings["prefix"]) and key.endswith(suffix) and not key.endswith("/")

    def _land(self, obj: ObjectRef) -> Batch | None:
        now = self.clock()
        batch_id = new_batch_id(now, obj.bucket, obj.key, obj.etag or "")
        origin = f"{obj.bucket}/{obj.key}"
        if self.runs is None:
            return self._copy_to_raw(obj, batch_id, now)
        claimed = self.claim(origin, obj.etag, batch_id)
        if not claimed.land:
            log.info("skipping s3://%s: already processed as batch %s", origin, claimed.batch_id)
            self.skipped.append({"origin": origin, "etag": obj.etag or "", "batch_id": claimed.batch_id})
            return None
        if claimed.batch_id != batch_id:  # landing again as the batch whose handoff failed: its time and keys
            batch_id, now = claimed.batch_id, batch_time(claimed.batch_id)
        try:
            return self._copy_to_raw(obj, batch_id, now)
        except Exception:
            self.release(origin, obj.etag, batch_id)
            raise

    def _copy_to_raw(self, obj: ObjectRef, batch_id: str, now: datetime) -> Batch:
        extension = RAW_EXTENSIONS[self.format] + (".gz" if self._is_gzip(obj) else "")
        key = raw_key(self.source, batch_id, now, extension)
        self.storage.copy(obj.bucket, obj.key, self.raw_bucket, key)
        log.info("landed s3://%s/%s as %s", obj.bucket, obj.key, key)
        landed = LandedObject(self.raw_bucket, key, self.storage.uri(self.raw_bucket, key),
                              f"{obj.bucket}/{obj.key}", obj.etag, obj.size)
        return Batch(self.source, batch_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), [landed])

    def _is_gzip(self, obj: ObjectRef) -> bool:
        with self.storage.open(obj.bucket, obj.key, first_bytes=2) as head:
            return head.read(2) == GZIP_MAGIC
