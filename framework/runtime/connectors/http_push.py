"""`http_push`: records POSTed through API Gateway (REST, proxy integration) land as one JSONL batch.

The body is a JSON object, a JSON array of objects or JSON lines (base64-encoded bodies included). Every
record is checked against the source's columns first: 202 with the batch id when all are valid, 422 with
each record's errors otherwise (nothing lands), 413 past `max_body_bytes`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from framework.runtime.batch import Batch, LandedObject, new_batch_id
from framework.runtime.connectors.base import Connector
from framework.runtime.lake import raw_key
from framework.runtime.records import record_errors

log = logging.getLogger(__name__)
MAX_ERRORS_REPORTED = 100


class Rejected(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body)
        self.status, self.body = status, body


def api_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, sort_keys=True)}


def parse_records(body: bytes) -> list[Any]:
    """A JSON object is one record, a JSON array is its items, anything else is read as JSON lines."""
    text = body.decode("utf-8-sig", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return json_lines(text)
    return document if isinstance(document, list) else [document]


def json_lines(text: str) -> list[Any]:
    records, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append({"record": len(records) + len(errors), "line": number,
                           "errors": [f"malformed: invalid JSON ({exc.msg})"]})
    if errors:
        raise Rejected(422, {"message": "records are not valid JSON; nothing was accepted",
                             "errors": errors[:MAX_ERRORS_REPORTED]})
    return records


class HttpPushConnector(Connector):
    def __init__(self, config: dict[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.settings = config["config"]
        self.columns: list[dict[str, Any]] = config["columns"]
        self.response: dict[str, Any] = api_response(500, {"message": "no request handled"})

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        try:
            batch, records = self.accept(event)
        except Rejected as rejected:
            self.response = api_response(rejected.status, rejected.body)
            return []
        self.response = api_response(202, {"batch_id": batch.batch_id, "records": records})
        return self.buffered(batch)

    def respond(self, batches: list[Batch]) -> dict[str, Any]:
        """The API Gateway proxy response of the request just handled."""
        return self.response

    def accept(self, event: dict[str, Any]) -> tuple[Batch, int]:
        if event.get("httpMethod", "POST") != "POST":
            raise Rejected(405, {"message": "use POST"})
        body = self._body(event)
        records = parse_records(body)
        if not records:
            raise Rejected(422, {"message": "the body holds no records", "errors": []})
        errors = [{"record": i, "errors": e} for i, r in enumerate(records) if (e := record_errors(r, self.columns))]
        if errors:
            raise Rejected(422, {"message": f"{len(errors)} of {len(records)} records are invalid; nothing was "
                                            "accepted", "errors": errors[:MAX_ERRORS_REPORTED]})
        now = self.clock()
        request_id = (event.get("requestContext") or {}).get("requestId") or ""
        batch_id = new_batch_id(now, self.source, request_id, body.hex() if not request_id else "")
        key = raw_key(self.source, batch_id, now, "jsonl")
        data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records).encode()
        self.storage.put(self.raw_bucket, key, data)
        log.info("accepted %d records as %s", len(records), key)
        return Batch(self.source, batch_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), [LandedObject(
            self.raw_bucket, key, self.storage.uri(self.raw_bucket, key), f"request {request_id}", None,
            len(data))]), len(records)

    def _body(self, event: dict[str, Any]) -> bytes:
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise Rejected(400, {"message": "the body is not valid base64"}) from None
        else:
            body = raw.encode("utf-8")
        limit = self.settings["max_body_bytes"]
        if len(body) > limit:
            raise Rejected(413, {"message": f"the body is {len(body)} bytes; the limit is {limit}"})
        return body
