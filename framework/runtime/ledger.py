"""The run ledger: what Onboard remembers about each source between runs.

Records are addressed by `(source, record)`: today only `record = "state"` (a source's incremental
cursor); per-batch records (`batch#<batch_id>`) can be added beside it with `get_record`/`put_record`.
Deployed, the ledger is a DynamoDB table (partition key `source`, sort key `record`, both strings;
the record's JSON in `body`); locally an SQLite file under `.onboard/`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

STATE_RECORD = "state"


class Ledger(Protocol):
    def get_record(self, source: str, record: str) -> dict[str, Any] | None: ...
    def put_record(self, source: str, record: str, body: dict[str, Any]) -> None: ...


def get_state(ledger: Ledger, source: str) -> dict[str, Any] | None:
    """The source's incremental state (`{"cursor": ..., "batch_id": ...}`), or None before its first batch."""
    return ledger.get_record(source, STATE_RECORD)


def put_state(ledger: Ledger, source: str, state: dict[str, Any]) -> None:
    ledger.put_record(source, STATE_RECORD, state)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalLedger:
    """An SQLite file; every write is its own transaction."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS ledger (source TEXT NOT NULL, record TEXT NOT NULL, "
                       "body TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (source, record))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_record(self, source: str, record: str) -> dict[str, Any] | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT body FROM ledger WHERE source = ? AND record = ?", (source, record)).fetchone()
        return json.loads(row[0]) if row else None

    def put_record(self, source: str, record: str, body: dict[str, Any]) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO ledger (source, record, body, updated_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (source, record) DO UPDATE SET body = excluded.body, "
                       "updated_at = excluded.updated_at", (source, record, json.dumps(body), _now()))


class DynamoDBLedger:
    """A DynamoDB table through boto3 (strongly consistent reads)."""

    def __init__(self, table: str, client: Any = None):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table
        self.client = client

    def get_record(self, source: str, record: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, ConsistentRead=True,
                                    Key={"source": {"S": source}, "record": {"S": record}}).get("Item")
        return json.loads(item["body"]["S"]) if item else None

    def put_record(self, source: str, record: str, body: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.table, Item={
            "source": {"S": source}, "record": {"S": record}, "body": {"S": json.dumps(body)},
            "updated_at": {"S": _now()},
        })


def ledger_from_env() -> Ledger:
    """`ONBOARD_LEDGER_PATH` (local runs) or `ONBOARD_LEDGER_TABLE` (deployed)."""
    if os.environ.get("ONBOARD_LEDGER_PATH"):
        return LocalLedger(os.environ["ONBOARD_LEDGER_PATH"])
    if os.environ.get("ONBOARD_LEDGER_TABLE"):
        return DynamoDBLedger(os.environ["ONBOARD_LEDGER_TABLE"])
    raise LookupError("no run ledger configured: set ONBOARD_LEDGER_TABLE (deployed) or ONBOARD_LEDGER_PATH (local)")
