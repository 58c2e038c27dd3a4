"""`email`: attachments of a message SES stored in S3 land unchanged in the raw zone.

The connector is invoked by the SES receipt rule's Lambda action (an event carrying only the message id;
the rule's S3 action stored the message under the source's inbox prefix first) or by an S3 notification
of the stored object. A message that fails a check is copied to the quarantine zone with its reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from framework.runtime import references
from framework.runtime.batch import RAW_EXTENSIONS, Batch, LandedObject, batch_time, new_batch_id
from framework.runtime.connectors.base import Claimed, Connector
from framework.runtime.events import objects_in_event
from framework.runtime.lake import ZONE_BUCKETS, quarantine_prefix, raw_key
from framework.runtime.ledger import message_claim_origin
from framework.runtime.mime import (
    Attachment,
    InboundMessage,
    MalformedMessage,
    event_verdicts,
    failed_verdicts,
    matches_any,
    parse_message,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One stored message and, when SES invoked us directly, its receipt (recipients and verdicts)."""

    key: str
    receipt: dict[str, Any] | None = None


def deliveries(event: dict[str, Any], bucket: str, prefix: str) -> list[Delivery]:
    """Messages named by an SES Lambda-action event (key = prefix + messageId) or an S3 notification."""
    found = []
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:ses":
            ses = record["ses"]
            found.append(Delivery(prefix + ses["mail"]["messageId"], ses.get("receipt") or {}))
    found += [Delivery(obj.key) for obj in objects_in_event(event) if obj.bucket == bucket
              and obj.key.startswith(prefix) and not obj.key.endswith("/")]
    return found


class EmailConnector(Connector):
    def __init__(self, config: dict[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.settings = config["config"]
        self.inbox_bucket = references.resolve(self.settings["bucket"])
        self.quarantine_bucket = references.resolve(ZONE_BUCKETS["quarantine"])

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        """One batch per message: landed, quarantined (with the reason) or duplicate."""
        return [self.receive(d) for d in deliveries(event, self.inbox_bucket, self.settings["prefix"])]

    def receive(self, delivery: Delivery) -> Batch:
        now = self.clock()
        raw = self.storage.get(self.inbox_bucket, delivery.key)
        batch = Batch(self.source, new_batch_id(now, self.inbox_bucket, delivery.key),
                      now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        try:
            message = parse_message(raw)
        except MalformedMessage as exc:
            return self.quarantine(batch, raw, str(exc))
        reason = self.rejection(message, delivery.receipt)
        if reason:
            return self.quarantine(batch, raw, reason)
        selected = [a for a in message.attachments if self._selected(a.filename, a.content_type)]
        if not selected:
            names = ", ".join(a.filename for a in message.attachments) or "none"
            return self.quarantine(batch, raw, f"no attachment matches {self.settings['attachment_pattern']!r} "
                                               f"(attachments: {names})")
        identity = message.message_id or hashlib.sha256(raw).hexdigest()
        owner = self.claim_message(identity, batch.batch_id)
        if owner is not None and owner.land:  # landing again as the batch whose handoff failed
            batch = Batch(self.source, owner.batch_id, batch_time(owner.batch_id).strftime("%Y-%m-%dT%H:%M:%SZ"))
            now = batch_time(owner.batch_id)
        elif owner is not None:
            batch.status = "duplicate"
            batch.reason = f"message {message.message_id} already landed as batch {owner.batch_id}"
            log.info("%s: %s", delivery.key, batch.reason)
            return batch
        try:
            self.land(batch, delivery, selected, identity, now)
        except Exception:
            if self.runs is not None:  # let a redelivery land what this attempt could not
                self.release(message_claim_origin(identity), None, batch.batch_id)
            raise
        log.info("landed %d attachment(s) of %s as batch %s", len(selected), delivery.key, batch.batch_id)
        return batch

    def claim_message(self, identity: str, batch_id: str) -> Claimed | None:
        """Claim the message for `batch_id`: None when this delivery may land it as `batch_id`, else the batch
        that has it (`land`: it never reached its pipeline, so this delivery lands it again as that batch).

        With a run ledger the claim is one conditional write, so concurrent deliveries of one message land
        it once. Without one (unit tests, ad-hoc use) the landed-message marker is read, which is not atomic."""
        if self.runs is not None:
            claimed = self.claim(message_claim_origin(identity), None, batch_id)
            return None if claimed.batch_id == batch_id else claimed
        marker = self._marker_key(identity)
        if self.storage.list(self.raw_bucket, marker) == [marker]:
            return Claimed(json.loads(self.storage.get(self.raw_bucket, marker))["batch_id"], False)
        return None

    def land(self, batch: Batch, delivery: Delivery, selected: list[Attachment], identity: str, now: datetime) -> None:
        """Write the selected attachments to the raw zone, then the landed-message marker."""
        extension = RAW_EXTENSIONS[self.format]
        for index, attachment in enumerate(selected, start=1):
            key = raw_key(self.source, f"{batch.batch_id}-{index}", now, extension)
            self.storage.put(self.raw_bucket, key, attachment.data)
            batch.objects.append(LandedObject(self.raw_bucket, key, self.storage.uri(self.raw_bucket, key),
                                              f"{delivery.key}#{attachment.filename}", None, len(attachment.data)))
        self.storage.put(self.raw_bucket, self._marker_key(identity), json.dumps(
            {"message_id": identity, "batch_id": batch.batch_id}).encode())

    def rejection(self, message: InboundMessage, receipt: dict[str, Any] | None) -> str | None:
        """Why the message must not land (sender, recipient, SES verdicts), or None."""
        allowed = self.settings.get("allowed_senders") or []
        if allowed and not matches_any(message.sender, allowed):
            return f"sender {message.sender or '(none)'} is not in allowed_senders"
        if receipt and receipt.get("recipients"):
            ours = set(self.settings["recipients"])
            if not ours & {r.lower() for r in receipt["recipients"]}:
                return "none of the message's recipients is in this source's recipients"
        if self.settings.get("require_verdicts", True):
            verdicts = {**message.verdicts, **event_verdicts(receipt or {})}  # the receipt's own verdicts win
            failed = failed_verdicts(verdicts)
            if failed:
                return "SES verdict FAIL: " + ", ".join(failed)
        return None

    def quarantine(self, batch: Batch, raw: bytes, reason: str) -> Batch:
        folder = quarantine_prefix(self.source, batch.batch_id)
        self.storage.put(self.quarantine_bucket, folder + "message.eml", raw)
        self.storage.put(self.quarantine_bucket, folder + "reason.json",
                         json.dumps({"batch_id": batch.batch_id, "_reason": reason}).encode())
        batch.status, batch.reason = "quarantined", reason
        log.warning("quarantined message as %s: %s", folder, reason)
        return batch

    def _selected(self, filename: str, content_type: str) -> bool:
        pattern = self.settings.get("attachment_pattern") or "*"
        patterns = [pattern] if isinstance(pattern, str) else pattern
        types = self.settings.get("content_types") or []
        return matches_any(filename, patterns) and (not types or content_type in types)

    def _marker_key(self, identity: str) -> str:
        return f"{self.source}/_messages/{hashlib.sha256(identity.encode()).hexdigest()}.json"
