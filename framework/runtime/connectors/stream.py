"""`stream`: a Kinesis or Kafka (MSK, self-managed) event batch lands as one JSONL micro-batch.

Every record's data is base64: it must decode to a JSON object. A record that does not is quarantined with
its reason, while the others land. A quarantined record is handled: it is not reported in `batchItemFailures`
(the partial batch response), since Lambda re-delivers a shard from the lowest reported record on, and every
record after it would land again. Only a record that could not be handled at all is reported: when its
quarantine write fails, the records before it land and Lambda re-delivers from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any

from framework.runtime import references
from framework.runtime.batch import Batch, LandedObject, new_batch_id
from framework.runtime.connectors.base import Connector
from framework.runtime.lake import ZONE_BUCKETS, quarantine_prefix, raw_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamRecord:
    identifier: str  # what batchItemFailures names: the Kinesis sequence number, or topic-partition@offset
    data: str  # base64, as delivered


def stream_records(event: dict[str, Any]) -> list[StreamRecord]:
    """The records of a Kinesis event (`Records`) or a Kafka event (`records` by topic-partition)."""
    found = [StreamRecord(r["kinesis"]["sequenceNumber"], r["kinesis"]["data"])
             for r in event.get("Records", []) if r.get("eventSource") == "aws:kinesis"]
    for partition in (event.get("records") or {}).values():
        found += [StreamRecord(f"{r['topic']}-{r['partition']}@{r['offset']}", r.get("value") or "")
                  for r in partition]
    return found


def decode(record: StreamRecord) -> dict[str, Any]:
    """The record's JSON object; ValueError names why it cannot be read."""
    try:
        text = base64.b64decode(record.data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ValueError("malformed: data is not base64 of UTF-8 text") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed: invalid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"malformed: a record must be a JSON object, not {type(value).__name__}")
    return value


class StreamConnector(Connector):
    def __init__(self, config: dict[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.quarantine_bucket = references.resolve(ZONE_BUCKETS["quarantine"])
        self.failures: list[str] = []

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        records = stream_records(event)
        if not records:
            return []
        now = self.clock()
        batch = Batch(self.source, new_batch_id(now, self.source, records[0].identifier, records[-1].identifier),
                      now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        lines: list[tuple[int, str]] = []
        rejected: list[tuple[int, dict[str, Any]]] = []
        for position, record in enumerate(records):
            try:
                lines.append((position, json.dumps(decode(record), ensure_ascii=False, separators=(",", ":")) + "\n"))
            except ValueError as exc:
                rejected.append((position, {"itemIdentifier": record.identifier, "data": record.data,
                                            "_reason": str(exc), "_batch_id": batch.batch_id}))
        if rejected:
            key = quarantine_prefix(self.source, batch.batch_id) + "records.jsonl"
            try:
                self.storage.put(self.quarantine_bucket, key,
                                 "".join(json.dumps(r) + "\n" for _, r in rejected).encode())
            except Exception:  # nothing was handled from the first rejected record on: Lambda re-delivers it
                first, unhandled = rejected[0]
                log.exception("could not quarantine %d record(s); re-delivering from %s", len(rejected),
                              unhandled["itemIdentifier"])
                self.failures = [unhandled["itemIdentifier"]]
                lines = [(p, line) for p, line in lines if p < first]
                rejected, records = [], records[:first]
            else:
                log.warning("quarantined %d of %d records as %s", len(rejected), len(records), key)
                batch.rejected = len(rejected)
                batch.reason = f"{len(rejected)} record(s) quarantined by the connector: {rejected[0][1]['_reason']}"
        if not lines:
            if not batch.rejected:  # nothing landed and nothing was quarantined: Lambda re-delivers them all
                return []
            batch.status = "quarantined"
            return self.buffered(batch)  # its rejected records count in the flush batch
        key = raw_key(self.source, batch.batch_id, now, "jsonl")
        data = "".join(line for _, line in lines).encode()
        self.storage.put(self.raw_bucket, key, data)
        batch.objects.append(LandedObject(self.raw_bucket, key, self.storage.uri(self.raw_bucket, key),
                                          f"{records[0].identifier}..{records[-1].identifier}", None, len(data)))
        log.info("landed %d records as %s", len(lines), key)
        return self.buffered(batch)

    def respond(self, batches: list[Batch]) -> dict[str, Any]:
        """The partial batch response: the record Lambda must deliver again (none when every record was landed
        or quarantined)."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failures],
                **super().respond(batches)}
