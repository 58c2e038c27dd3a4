"""Micro-batches of the buffered kinds (stream, http_push) wait in the run ledger and load together.

A connector invocation lands its micro-batch in the raw zone as before, then marks it pending (`PendingBuffer.add`)
instead of starting the source's state machine: one execution per micro-batch would queue Glue runs behind
`MaxConcurrentRuns` 1 at any steady rate. A flush (`flush`: the scheduled flush Lambda, `framework.runtime.flush`,
every `buffer.seconds`; or as soon as pending data passes `buffer.megabytes`) takes every pending micro-batch as
one batch (`take`): one Glue run over all their raw objects (its `--input` is their list), one load.

Hand-off without loss, as for object claims: `take` claims each pending item for the flush batch (a conditional
write), the caller starts the batch's execution (named by the flush batch id), and `done` drops the items. A
flush that failed in between leaves its items claimed: once the claim is older than `grace_seconds` a later
flush takes the same items as the same batch again, and starts (or finds) that execution.

Standard library only (the run ledger brings boto3): this module ships inside the Lambda assets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from framework.runtime.batch import Batch, LandedObject, batch_time, new_batch_id, utc_now
from framework.runtime.ledger import PendingBatch, RunLedger

GRACE_SECONDS = 900  # longer than a flush (or connector) invocation may run: its claim was abandoned
MAX_OBJECTS = 200  # micro-batches per flush batch: the execution input stays below Step Functions' 256 KiB
MEGABYTE = 1024 * 1024
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def buffer_settings(config: dict[str, Any]) -> dict[str, int] | None:
    """The connector config's `buffer` (`{"seconds", "megabytes"}`), or None for a kind that does not buffer."""
    return config.get("buffer")


class PendingBuffer:
    def __init__(self, ledger: RunLedger, source: str, clock: Callable[[], datetime] = utc_now,
                 grace_seconds: float = GRACE_SECONDS) -> None:
        self.ledger, self.source, self.clock, self.grace = ledger, source, clock, grace_seconds
        self._taken: dict[str, list[str]] = {}  # flush batch id -> the micro-batch ids it took

    def add(self, batch: Batch) -> None:
        """Mark a landed (or wholly quarantined) micro-batch pending."""
        self.ledger.put_pending(self.source, batch.batch_id, {
            "ingest_time": batch.ingest_time, "objects": [asdict(o) for o in batch.objects],
            "rejected": batch.rejected, "bytes": sum(o.size or 0 for o in batch.objects),
            "landed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})

    def pending_bytes(self) -> int:
        """Raw bytes of the micro-batches no flush has claimed yet."""
        return sum(int(p.body.get("bytes") or 0) for p in self.ledger.pending(self.source) if p.flush is None)

    def due(self, megabytes: int) -> bool:
        """Whether pending data passed the size that starts a flush before the schedule does."""
        return self.pending_bytes() >= megabytes * MEGABYTE

    def take(self) -> Batch | None:
        """The next flush batch: an abandoned flush's items again, else every unclaimed pending micro-batch (at
        most MAX_OBJECTS); None when nothing waits."""
        # in landing order: the Glue job's input order decides which of two rows with one key wins
        items = sorted(self.ledger.pending(self.source), key=lambda i: (i.body.get("landed_at") or "", i.batch_id))
        now = self.clock()
        abandoned: dict[str, list[PendingBatch]] = {}
        for item in items:
            if item.flush and item.flushed_at and \
                    (now - datetime.strptime(item.flushed_at, STAMP).replace(tzinfo=now.tzinfo)).total_seconds() \
                    >= self.grace:
                abandoned.setdefault(item.flush, []).append(item)
        if abandoned:
            flush = min(abandoned)
            return self._batch(flush, abandoned[flush])
        free = [i for i in items if i.flush is None][:MAX_OBJECTS]
        if not free:
            return None
        flush = new_batch_id(now, self.source, "flush", free[0].batch_id, free[-1].batch_id)
        claimed = [i for i in free if self.ledger.claim_pending(self.source, i.batch_id, flush, now.strftime(STAMP))]
        return self._batch(flush, claimed) if claimed else None

    def done(self, batch: Batch) -> None:
        """The flush batch was handed to its pipeline (or had nothing to hand on): forget its micro-batches."""
        for batch_id in self._taken.pop(batch.batch_id, []):
            self.ledger.drop_pending(self.source, batch_id, batch.batch_id)

    def _batch(self, flush: str, items: list[PendingBatch]) -> Batch:
        self._taken[flush] = [i.batch_id for i in items]
        objects = [LandedObject(**o) for i in items for o in i.body.get("objects") or []]
        batch = Batch(self.source, flush, batch_time(flush).strftime(STAMP), objects,
                      rejected=sum(int(i.body.get("rejected") or 0) for i in items))
        if not objects:
            batch.status = "quarantined"
            batch.reason = f"{batch.rejected} record(s) quarantined by the connector; none left to load"
        return batch


def flush(ledger: RunLedger, source: str, start: Callable[[Batch], Any], clock: Callable[[], datetime] = utc_now,
          rounds: int = 10) -> list[Batch]:
    """Take pending micro-batches as flush batches (at most `rounds`), start each landed one with `start`, drop
    what each took; the batches, in order."""
    buffer = PendingBuffer(ledger, source, clock)
    batches: list[Batch] = []
    for _ in range(rounds):
        batch = buffer.take()
        if batch is None:
            break
        if batch.status == "landed":
            start(batch)
        buffer.done(batch)
        batches.append(batch)
    return batches
