"""The run ledger: what Onboard remembers about each source between runs.

Records are addressed by `(source, batch_id)`, the keys of the platform's ledger table, where the state
machine keeps one item per batch. A source's incremental state is the record `batch_id = "#state"`
(sorted before every batch id), its JSON in `body`. Deployed, the ledger is that DynamoDB table; locally
an SQLite file under `.onboard/`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

STATE_KEY = "#state"


class Ledger(Protocol):
    def get_record(self, source: str, batch_id: str) -> dict[str, Any] | None: ...
    def put_record(self, source: str, batch_id: str, body: dict[str, Any]) -> None: ...


def get_state(ledger: Ledger, source: str) -> dict[str, Any] | None:
    """The source's incremental state (`{"cursor": ..., "batch_id": ...}`), or None before its first batch."""
    return ledger.get_record(source, STATE_KEY)


def put_state(ledger: Ledger, source: str, state: dict[str, Any]) -> None:
    ledger.put_record(source, STATE_KEY, state)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalLedger:
    """An SQLite file; every write is its own transaction."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS ledger (source TEXT NOT NULL, batch_id TEXT NOT NULL, "
                       "body TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (source, batch_id))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_record(self, source: str, batch_id: str) -> dict[str, Any] | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT body FROM ledger WHERE source = ? AND batch_id = ?",
                             (source, batch_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put_record(self, source: str, batch_id: str, body: dict[str, Any]) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO ledger (source, batch_id, body, updated_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (source, batch_id) DO UPDATE SET body = excluded.body, "
                       "updated_at = excluded.updated_at", (source, batch_id, json.dumps(body), _now()))


class DynamoDBLedger:
    """A DynamoDB table through boto3 (strongly consistent reads)."""

    def __init__(self, table: str, client: Any = None):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table
        self.client = client

    def get_record(self, source: str, batch_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, ConsistentRead=True,
                                    Key={"source": {"S": source}, "batch_id": {"S": batch_id}}).get("Item")
        return json.loads(item["body"]["S"]) if item else None

    def put_record(self, source: str, batch_id: str, body: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.table, Item={
            "source": {"S": source}, "batch_id": {"S": batch_id}, "body": {"S": json.dumps(body)},
            "updated_at": {"S": _now()},
        })


def ledger_from_env() -> Ledger:
    """`ONBOARD_LEDGER_PATH` (local runs) or `ONBOARD_LEDGER_TABLE` (deployed)."""
    if os.environ.get("ONBOARD_LEDGER_PATH"):
        return LocalLedger(os.environ["ONBOARD_LEDGER_PATH"])
    if os.environ.get("ONBOARD_LEDGER_TABLE"):
        return DynamoDBLedger(os.environ["ONBOARD_LEDGER_TABLE"])
    raise LookupError("no run ledger configured: set ONBOARD_LEDGER_TABLE (deployed) or ONBOARD_LEDGER_PATH (local)")
