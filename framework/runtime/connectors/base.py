"""What every connector shares: its configuration, storage and clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from framework.runtime import references
from framework.runtime.batch import Batch, utc_now
from framework.runtime.ledger import RunLedger, run_ledger_from_env
from framework.runtime.storage import Storage, storage_from_env


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

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        """Land what the event announces; `context` is Lambda's (for its remaining time), or None."""
        raise NotImplementedError

    def commit(self, batch: Batch) -> None:
        """Called once `batch` has been handed on to its pipeline: remember what it covered (no-op by default)."""

    def respond(self, batches: list[Batch]) -> dict[str, Any]:
        """What the Lambda returns for the event just handled (kinds with a protocol override this)."""
        return {"source": self.source, "batches": [b.to_dict() for b in batches], "skipped": self.skipped}
