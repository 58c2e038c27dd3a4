"""Object-created notifications in the shapes Lambda receives them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None


def objects_in_event(event: dict[str, Any]) -> list[ObjectRef]:
    """Objects named by an S3 notification, an SQS batch of them, or an EventBridge S3 event.

    S3 notification keys are form-encoded (`+` is a space), so they are decoded with unquote_plus;
    EventBridge keys are not encoded.
    """
    if event.get("source") == "aws.s3" and "detail" in event:
        detail = event["detail"]
        obj = detail["object"]
        return [ObjectRef(detail["bucket"]["name"], obj["key"], obj.get("size"), obj.get("etag"))]
    found: list[ObjectRef] = []
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:sqs":
            body = json.loads(record["body"])
            if body.get("Event") == "s3:TestEvent":
                continue
            found += objects_in_event(body)
        elif record.get("eventSource") == "aws:s3" and record.get("eventName", "").startswith("ObjectCreated"):
            s3 = record["s3"]
            obj = s3["object"]
            found.append(ObjectRef(s3["bucket"]["name"], unquote_plus(obj["key"]), obj.get("size"),
                                   obj.get("eTag")))
    return found


def s3_put_event(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """The notification S3 sends for one new object (used by local runs and tests)."""
    from urllib.parse import quote_plus

    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/"), "size": size,
                                                      "eTag": etag}},
    }]}


def ses_receipt_event(message_id: str, recipients: list[str], sender: str = "",
                      verdicts: dict[str, str] | None = None) -> dict[str, Any]:
    """The event an SES receipt rule's Lambda action sends: the message id, recipients and verdicts only."""
    receipt: dict[str, Any] = {"recipients": recipients}
    for name, status in (verdicts or {}).items():
        receipt[f"{name}Verdict"] = {"status": status}
    return {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": message_id, "source": sender, "destination": recipients},
        "receipt": receipt}}]}


def api_gateway_post(path: str, body: bytes, request_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy-integration event for a POST (body base64-encoded, as binary bodies are)."""
    import base64

    return {"resource": path, "path": path, "httpMethod": "POST", "headers": headers or {},
            "isBase64Encoded": True, "body": base64.b64encode(body).decode("ascii"),
            "requestContext": {"requestId": request_id, "resourcePath": path, "httpMethod": "POST"}}


def kinesis_event(payloads: list[bytes], stream_name: str, first_sequence: int = 1) -> dict[str, Any]:
    """A Kinesis event-source batch: each payload base64-encoded, with increasing sequence numbers."""
    import base64

    arn = f"arn:aws:kinesis:local:000000000000:stream/{stream_name}"
    return {"Records": [{
        "eventSource": "aws:kinesis", "eventSourceARN": arn, "eventName": "aws:kinesis:record",
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": str(n),
                    "sequenceNumber": f"{first_sequence + n:056d}",
                    "data": base64.b64encode(payload).decode("ascii"), "approximateArrivalTimestamp": 0}}
        for n, payload in enumerate(payloads)]}


def kafka_event(payloads: list[bytes], topic: str, partition: int = 0, first_offset: int = 0,
                self_managed: bool = False) -> dict[str, Any]:
    """An MSK (or self-managed Kafka) event: records grouped by `topic-partition`, values base64."""
    import base64

    records = [{"topic": topic, "partition": partition, "offset": first_offset + n, "timestamp": 0,
                "timestampType": "CREATE_TIME", "value": base64.b64encode(payload).decode("ascii"), "headers": []}
               for n, payload in enumerate(payloads)]
    event: dict[str, Any] = {"eventSource": "SelfManagedKafka" if self_managed else "aws:kafka",
                             "records": {f"{topic}-{partition}": records}}
    if not self_managed:
        event["eventSourceArn"] = "arn:aws:kafka:local:000000000000:cluster/local/0"
    return event
