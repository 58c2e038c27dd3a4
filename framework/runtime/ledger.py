"""The run ledger: what Onboard remembers about each source between runs.

Records are addressed by `(source, batch_id)`, the keys of the platform's ledger table, where the state
machine keeps one item per batch. Deployed, the ledger is that DynamoDB table; locally an SQLite file under
`.onboard/` (`ledger.sqlite`). Two uses share it:

- Incremental state (REST sources): the record `batch_id = "#state"` (sorted before every batch id), its
  JSON in `body` (`Ledger`, `get_state`/`put_state`, `LocalLedger`, `DynamoDBLedger`, `ledger_from_env`).
- Runs and object claims: one `RunRecord` per batch (the same items the state machine writes: `status`,
  `rows` as JSON text, `error`, plus `stage`, `objects`, `seconds`, `quality_score`), and the claims that
  make an object (key + ETag) land only once, under the partition `<source>#objects` with the sort key
  `<bucket>/<key>#<etag>`, so listing a source's runs never meets them (`RunLedger`, `SqliteRunLedger`,
  `DynamoRunLedger`, `run_ledger_from_env`). Batch ids starting with `#` are not runs.
  Pending micro-batches of the buffered kinds (stream, http_push) wait under the partition `<source>#pending`,
  keyed by their batch id, until a flush claims them (`flush` = the flush batch's id, `flushed_at`) and, once
  that batch's execution started, drops them (`put_pending`, `pending`, `claim_pending`, `drop_pending`).
  A connector's claim says whether its batch was handed off (its execution started): `handed_off` is false
  from the claim until the connector marks it after StartExecution, so a retry after a failure in between
  lands the object again as the claiming batch and starts (or finds) that batch's execution. A claim written
  without the flag (the state machine's own re-claim, or before it existed) counts as handed off.

Standard library and boto3 only: this module ships inside the Lambda assets.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
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


# -- runs and object claims ----------------------------------------------------------------------

STAGES = ("land", "transform", "load")
_JSON_FIELDS = ("objects", "folder", "rows", "seconds", "warnings")


@dataclass
class RunRecord:
    """What the ledger knows about one batch. `stage` is the stage running, failed, or `done`."""

    source: str
    batch_id: str
    status: str  # running | succeeded | failed | skipped
    stage: str = "land"
    ingest_time: str | None = None
    objects: list[dict[str, Any]] = field(default_factory=list)  # {bucket, key, uri, origin, etag, size}
    folder: dict[str, Any] | None = None  # a batch landed as a folder of objects (REST pages)
    rows: dict[str, int] = field(default_factory=dict)  # rows_in, rows_loaded, rows_quarantined, rows_duplicate
    seconds: dict[str, float] = field(default_factory=dict)
    quality_score: float | None = None  # share of valid rows: (rows_in - rows_quarantined) / rows_in
    warnings: dict[str, int] | None = None  # rows that broke each `warn` quality rule (loaded all the same)
    error: str | None = None
    updated_at: str = ""
    stage_started_at: str | None = None  # deployed: when the current stage began (its seconds end at the next)
    reprocess_of: str | None = None  # `onboard run --reprocess`: the batch whose raw objects this one ran again

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _now_precise() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_claim_key(origin: str, etag: str | None) -> str:
    """The identity of a delivered object: where it came from and its content tag."""
    return f"{origin}#{(etag or '').strip(chr(34))}"


def message_claim_origin(identity: str) -> str:
    """The claim origin of a delivered message (email): `message/<sha256 of its Message-ID>`.

    Claimed with `claim_object(source, origin, None, batch_id)`, a message shares the object claims' partition
    (and the connector's permission on it); the conditional write makes concurrent deliveries land it once."""
    return "message/" + hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ObjectClaim:
    batch_id: str  # the batch that claimed the object
    handed_off: bool  # whether that batch reached its pipeline (the connector marks it after StartExecution)


@dataclass(frozen=True)
class PendingBatch:
    """A landed micro-batch waiting for its flush: `body` is `{"ingest_time", "objects", "rejected", "bytes"}`."""

    batch_id: str
    body: dict[str, Any]
    flush: str | None = None  # the flush batch that claimed it
    flushed_at: str | None = None  # when it was claimed (a claim left long behind was never handed off)


class RunLedger:
    """The interface both stores implement."""

    def put_pending(self, source: str, batch_id: str, body: dict[str, Any]) -> None:
        """Mark a landed micro-batch pending."""
        raise NotImplementedError

    def pending(self, source: str) -> list[PendingBatch]:
        """Every pending micro-batch of the source (claimed by a flush or not), by batch id."""
        raise NotImplementedError

    def claim_pending(self, source: str, batch_id: str, flush: str, at: str) -> bool:
        """Claim a pending micro-batch for the flush batch `flush`: False when another flush has it (or it is gone)."""
        raise NotImplementedError

    def drop_pending(self, source: str, batch_id: str, flush: str) -> None:
        """Forget a micro-batch once the flush that claimed it was handed to its pipeline."""
        raise NotImplementedError

    def claim_object(self, source: str, origin: str, etag: str | None, batch_id: str,
                     handed_off: bool = True) -> str | None:
        """Claim an object for a batch: None when this call claimed it, else the batch that already has it.

        A connector claims with `handed_off=False` and marks the claim (`mark_handed_off`) once its batch's
        execution started."""
        raise NotImplementedError

    def object_claim(self, source: str, origin: str, etag: str | None) -> ObjectClaim | None:
        """The object's claim, or None when it is not claimed."""
        raise NotImplementedError

    def mark_handed_off(self, source: str, origin: str, etag: str | None, batch_id: str) -> None:
        """Record that `batch_id`, which claimed the object, was handed to its pipeline (if it still has it)."""
        raise NotImplementedError

    def release_object(self, source: str, origin: str, etag: str | None, batch_id: str | None = None) -> None:
        """Forget a claim whose landing failed, so a redelivery is processed (only `batch_id`'s claim, if given)."""
        raise NotImplementedError

    def put(self, record: RunRecord) -> None:
        raise NotImplementedError

    def get(self, source: str, batch_id: str) -> RunRecord | None:
        raise NotImplementedError

    def recent(self, source: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (newest first by batch id, which starts with the ingest time)."""
        raise NotImplementedError


class SqliteRunLedger(RunLedger):
    """The local ledger: one SQLite file, safe for several processes of one machine."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # one caller at a time, from any thread (`onboard serve` handles each request in its own thread)
        self._connection = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._connection.executescript("""
            CREATE TABLE IF NOT EXISTS runs (source TEXT NOT NULL, batch_id TEXT NOT NULL, record TEXT NOT NULL,
                                             PRIMARY KEY (source, batch_id));
            CREATE TABLE IF NOT EXISTS object_claims (source TEXT NOT NULL, object TEXT NOT NULL,
                                                      batch_id TEXT NOT NULL, PRIMARY KEY (source, object));
        """)
        self._connection.execute("CREATE TABLE IF NOT EXISTS pending (source TEXT NOT NULL, batch_id TEXT NOT NULL, "
                                 "body TEXT NOT NULL, flush TEXT, flushed_at TEXT, PRIMARY KEY (source, batch_id))")
        columns = [row[1] for row in self._connection.execute("PRAGMA table_info(object_claims)")]
        if "handed_off" not in columns:  # a ledger from before the flag: its claims were handed off
            self._connection.execute("ALTER TABLE object_claims ADD COLUMN handed_off INTEGER NOT NULL DEFAULT 1")

    def claim_object(self, source: str, origin: str, etag: str | None, batch_id: str,
                     handed_off: bool = True) -> str | None:
        key = object_claim_key(origin, etag)
        inserted = self._connection.execute(
            "INSERT OR IGNORE INTO object_claims (source, object, batch_id, handed_off) VALUES (?, ?, ?, ?)",
            (source, key, batch_id, int(handed_off))).rowcount
        if inserted:
            return None
        row = self._connection.execute(
            "SELECT batch_id FROM object_claims WHERE source = ? AND object = ?", (source, key)).fetchone()
        return row[0]

    def put_pending(self, source: str, batch_id: str, body: dict[str, Any]) -> None:
        self._connection.execute("INSERT OR IGNORE INTO pending (source, batch_id, body) VALUES (?, ?, ?)",
                                 (source, batch_id, json.dumps(body, sort_keys=True)))

    def pending(self, source: str) -> list[PendingBatch]:
        rows = self._connection.execute("SELECT batch_id, body, flush, flushed_at FROM pending WHERE source = ? "
                                        "ORDER BY batch_id", (source,)).fetchall()
        return [PendingBatch(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]

    def claim_pending(self, source: str, batch_id: str, flush: str, at: str) -> bool:
        return bool(self._connection.execute(
            "UPDATE pending SET flush = ?, flushed_at = ? WHERE source = ? AND batch_id = ? AND flush IS NULL",
            (flush, at, source, batch_id)).rowcount)

    def drop_pending(self, source: str, batch_id: str, flush: str) -> None:
        self._connection.execute("DELETE FROM pending WHERE source = ? AND batch_id = ? AND flush = ?",
                                 (source, batch_id, flush))

    def object_claim(self, source: str, origin: str, etag: str | None) -> ObjectClaim | None:
        row = self._connection.execute("SELECT batch_id, handed_off FROM object_claims WHERE source = ? AND "
                                       "object = ?", (source, object_claim_key(origin, etag))).fetchone()
        return ObjectClaim(row[0], bool(row[1])) if row else None

    def mark_handed_off(self, source: str, origin: str, etag: str | None, batch_id: str) -> None:
        self._connection.execute("UPDATE object_claims SET handed_off = 1 WHERE source = ? AND object = ? AND "
                                 "batch_id = ?", (source, object_claim_key(origin, etag), batch_id))

    def release_object(self, source: str, origin: str, etag: str | None, batch_id: str | None = None) -> None:
        self._connection.execute("DELETE FROM object_claims WHERE source = ? AND object = ? AND batch_id = "
                                 "coalesce(?, batch_id)", (source, object_claim_key(origin, etag), batch_id))

    def put(self, record: RunRecord) -> None:
        record.updated_at = _now_precise()
        self._connection.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)",
                                 (record.source, record.batch_id, json.dumps(record.to_json(), sort_keys=True)))

    def get(self, source: str, batch_id: str) -> RunRecord | None:
        row = self._connection.execute(
            "SELECT record FROM runs WHERE source = ? AND batch_id = ?", (source, batch_id)).fetchone()
        return RunRecord(**json.loads(row[0])) if row else None

    def recent(self, source: str | None = None, limit: int = 20) -> list[RunRecord]:
        if source is None:
            rows = self._connection.execute(
                "SELECT record FROM runs ORDER BY batch_id DESC, source LIMIT ?", (limit,)).fetchall()
        else:
            rows = self._connection.execute(
                "SELECT record FROM runs WHERE source = ? ORDER BY batch_id DESC LIMIT ?", (source, limit)).fetchall()
        return [RunRecord(**json.loads(r[0])) for r in rows]

    def close(self) -> None:
        self._connection.close()


class DynamoRunLedger(RunLedger):
    """The deployed ledger: the platform stack's DynamoDB table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client

    def claim_object(self, source: str, origin: str, etag: str | None, batch_id: str,
                     handed_off: bool = True) -> str | None:
        key = {"source": {"S": f"{source}#objects"}, "batch_id": {"S": object_claim_key(origin, etag)}}
        flag = {} if handed_off else {"handed_off": {"BOOL": False}}
        try:
            self.client.put_item(TableName=self.table, Item={**key, "claimed_by": {"S": batch_id}, **flag},
                                 ConditionExpression="attribute_not_exists(batch_id)")
            return None
        except self.client.exceptions.ConditionalCheckFailedException:
            item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item", {})
            return item.get("claimed_by", {}).get("S", "?")

    def put_pending(self, source: str, batch_id: str, body: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.table, Item={
            "source": {"S": f"{source}#pending"}, "batch_id": {"S": batch_id},
            "body": {"S": json.dumps(body, sort_keys=True)}})

    def pending(self, source: str) -> list[PendingBatch]:
        found, kwargs = [], {"TableName": self.table, "ConsistentRead": True, "KeyConditionExpression": "#s = :s",
                             "ExpressionAttributeNames": {"#s": "source"},
                             "ExpressionAttributeValues": {":s": {"S": f"{source}#pending"}}}
        while True:
            page = self.client.query(**kwargs)
            found += [PendingBatch(i["batch_id"]["S"], json.loads(i["body"]["S"]), i.get("flush", {}).get("S"),
                                   i.get("flushed_at", {}).get("S")) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim_pending(self, source: str, batch_id: str, flush: str, at: str) -> bool:
        key = {"source": {"S": f"{source}#pending"}, "batch_id": {"S": batch_id}}
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if not item or "flush" in item:
            return False
        try:  # a conditional PutItem (no UpdateItem in the grants): the same body, now claimed
            self.client.put_item(TableName=self.table, Item={**item, "flush": {"S": flush}, "flushed_at": {"S": at}},
                                 ConditionExpression="attribute_exists(batch_id) AND attribute_not_exists(flush)")
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def drop_pending(self, source: str, batch_id: str, flush: str) -> None:
        try:
            self.client.delete_item(TableName=self.table, Key={"source": {"S": f"{source}#pending"},
                                                               "batch_id": {"S": batch_id}},
                                    ConditionExpression="flush = :f", ExpressionAttributeValues={":f": {"S": flush}})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # gone already

    def object_claim(self, source: str, origin: str, etag: str | None) -> ObjectClaim | None:
        key = {"source": {"S": f"{source}#objects"}, "batch_id": {"S": object_claim_key(origin, etag)}}
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if not item:
            return None
        return ObjectClaim(item.get("claimed_by", {}).get("S", "?"), item.get("handed_off", {}).get("BOOL", True))

    def mark_handed_off(self, source: str, origin: str, etag: str | None, batch_id: str) -> None:
        """A conditional PutItem (the connector's grant has no UpdateItem): the claim without the flag."""
        key = {"source": {"S": f"{source}#objects"}, "batch_id": {"S": object_claim_key(origin, etag)}}
        try:
            self.client.put_item(TableName=self.table, Item={**key, "claimed_by": {"S": batch_id}},
                                 ConditionExpression="claimed_by = :b",
                                 ExpressionAttributeValues={":b": {"S": batch_id}})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # released meanwhile (its run failed), or another batch has it now

    def release_object(self, source: str, origin: str, etag: str | None, batch_id: str | None = None) -> None:
        key = {"source": {"S": f"{source}#objects"}, "batch_id": {"S": object_claim_key(origin, etag)}}
        if batch_id is None:
            self.client.delete_item(TableName=self.table, Key=key)
            return
        try:
            self.client.delete_item(TableName=self.table, Key=key, ConditionExpression="claimed_by = :b",
                                    ExpressionAttributeValues={":b": {"S": batch_id}})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # another batch has it now

    def put(self, record: RunRecord) -> None:
        record.updated_at = _now_precise()
        item: dict[str, Any] = {}
        for name, value in record.to_json().items():
            if name in _JSON_FIELDS:
                item[name] = {"S": json.dumps(value, sort_keys=True)}
            elif value != "":
                item[name] = {"S": str(value)}
        self.client.put_item(TableName=self.table, Item=item)

    def get(self, source: str, batch_id: str) -> RunRecord | None:
        item = self.client.get_item(TableName=self.table, Key={"source": {"S": source}, "batch_id": {"S": batch_id}},
                                    ConsistentRead=True).get("Item")
        return _record_from_item(item) if item else None

    def recent(self, source: str | None = None, limit: int = 20) -> list[RunRecord]:
        if source is not None:
            items = self.client.query(
                TableName=self.table, KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "source"},
                ExpressionAttributeValues={":s": {"S": source}}, ScanIndexForward=False, Limit=limit + 1)["Items"]
            items = [i for i in items if not i["batch_id"]["S"].startswith("#")][:limit]
        else:
            items, kwargs = [], {"TableName": self.table}
            while True:
                page = self.client.scan(**kwargs)
                items += [i for i in page["Items"]
                          if "#" not in i["source"]["S"] and not i["batch_id"]["S"].startswith("#")]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            items.sort(key=lambda i: (i["batch_id"]["S"], i["source"]["S"]), reverse=True)
            items = items[:limit]
        return [_record_from_item(i) for i in items]


def _record_from_item(item: dict[str, Any]) -> RunRecord:
    """A ledger item as a record; the state machine's items (status, rows, error, execution) read too."""
    values = {name: value.get("S") for name, value in item.items()}
    known = RunRecord.__dataclass_fields__
    data: dict[str, Any] = {k: v for k, v in values.items() if k in known and v is not None}
    for name in _JSON_FIELDS:
        if name in data:
            data[name] = json.loads(data[name])
    if "quality_score" in data:
        data["quality_score"] = float(data["quality_score"])
    data.setdefault("status", "running")
    if "stage" not in data:
        data["stage"] = "done" if data["status"] == "succeeded" else "transform"
    return RunRecord(**data)


def run_ledger_from_env() -> RunLedger | None:
    """ONBOARD_LEDGER_PATH (SQLite, local) or ONBOARD_LEDGER_TABLE (DynamoDB, deployed); None without either."""
    path = os.environ.get("ONBOARD_LEDGER_PATH")
    if path:
        return SqliteRunLedger(path)
    table = os.environ.get("ONBOARD_LEDGER_TABLE")
    if table:
        return DynamoRunLedger(table)
    return None
