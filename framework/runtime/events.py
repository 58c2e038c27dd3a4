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
