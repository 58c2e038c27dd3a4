"""What every connector shares: its configuration, storage and clock."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from framework.runtime import references
from framework.runtime.batch import Batch, utc_now
from framework.runtime.ledger import RunLedger, run_ledger_from_env
from framework.runtime.storage import Storage, storage_from_env

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """The outcome of claiming an object: land it as `batch_id`, or (`land` false) `batch_id` has it already."""

    batch_id: str
    land: bool


class Connector:
    """Turns a trigger event into landed batches in the raw zone."""

    def __init__(self, config: dict[str, Any], storage: Storage | None = None,
                 clock: Callable[[], datetime] = utc_now, runs: RunLedger | None = None):
        self.config = config
        self.source: str = config["source"]
        self.format: str = config["format"]
        self.storage = storage or storage_from_env()
        self.clock = clock
        self.runs = runs if runs is not None else run_ledger_from_env()  # claims objects so they land once
        self.skipped: list[dict[str, str]] = []  # objects delivered again: {origin, etag, batch_id}
        self.raw_bucket = references.resolve(config["raw_bucket"])
        self._claims: dict[str, list[tuple[str, str | None]]] = {}  # batch id -> claims it holds, not handed off
        self.flush_due = False  # buffered kinds: pending data passed buffer.megabytes

    def claim(self, origin: str, etag: str | None, batch_id: str) -> Claimed:
        """Claim a delivered object (needs a run ledger) before landing it as `batch_id`.

        The claim stays "not handed off" until `commit` marks it, after the batch's execution started. Found
        claimed by a batch that never got that far (a failure or timeout between the claim and StartExecution),
        the object lands again as that batch: its execution, named by the batch id, is then started, or found
        (ExecutionAlreadyExists) when only the mark was missing. Otherwise the object was processed: skip it."""
        assert self.runs is not None
        owner = self.runs.claim_object(self.source, origin, etag, batch_id, handed_off=False)
        if owner is None:
            self._claims.setdefault(batch_id, []).append((origin, etag))
            return Claimed(batch_id, True)
        claim = self.runs.object_claim(self.source, origin, etag)
        if claim is None:  # released since (its run failed): this delivery may land it
            return self.claim(origin, etag, batch_id)
        if claim.handed_off:
            return Claimed(claim.batch_id, False)
        log.warning("%s was claimed by batch %s, which was never handed to its pipeline: landing it again as "
                    "that batch", origin, claim.batch_id)
        self._claims.setdefault(claim.batch_id, []).append((origin, etag))
        return Claimed(claim.batch_id, True)

    def release(self, origin: str, etag: str | None, batch_id: str) -> None:
        """Forget `batch_id`'s claim whose landing failed, so a redelivery is processed."""
        if self.runs is not None:
            self.runs.release_object(self.source, origin, etag, batch_id)
        held = self._claims.get(batch_id, [])
        if (origin, etag) in held:
            held.remove((origin, etag))

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        """Land what the event announces; `context` is Lambda's (for its remaining time), or None."""
        raise NotImplementedError

    def buffered(self, batch: Batch) -> list[Batch]:
        """A buffered kind's landed micro-batch (config `buffer`, with a run ledger): marked pending in the ledger,
        status `pending` (the handler starts nothing for it); a flush (framework.runtime.buffer) loads it with the
        others. Past `buffer.megabytes` of pending data the flush Lambda is asked to run now
        (`ONBOARD_FLUSH_FUNCTION`; without one, `flush_due` tells a local runner)."""
        settings = self.config.get("buffer")
        if not settings or self.runs is None:
            return [batch]
        from framework.runtime.buffer import PendingBuffer

        buffer = PendingBuffer(self.runs, self.source, self.clock)
        buffer.add(batch)
        batch.status = "pending"
        if buffer.due(settings["megabytes"]):
            function = os.environ.get("ONBOARD_FLUSH_FUNCTION")
            if function:
                from framework.runtime.flush import request_flush

                request_flush(function, self.source)
            self.flush_due = True
        return [batch]

    def commit(self, batch: Batch) -> None:
        """Called once `batch` has been handed on to its pipeline: its object claims are marked handed off
        (kinds that remember more extend this)."""
        for origin, etag in self._claims.pop(batch.batch_id, []):
            self.runs.mark_handed_off(self.source, origin, etag, batch.batch_id)  # type: ignore[union-attr]

    def respond(self, batches: list[Batch]) -> dict[str, Any]:
        """What the Lambda returns for the event just handled (kinds with a protocol override this)."""
        return {"source": self.source, "batches": [b.to_dict() for b in batches], "skipped": self.skipped}
