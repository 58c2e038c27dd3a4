"""The email connector: real .eml files parsed with the standard library, landed from SES and S3 events,
checked against senders and SES verdicts, quarantined with reasons, and landed once per Message-ID."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from framework.runtime.connectors.email import EmailConnector
from framework.runtime.events import s3_put_event, ses_receipt_event
from framework.runtime.ledger import DynamoRunLedger, SqliteRunLedger, message_claim_origin
from framework.runtime.mime import MalformedMessage, parse_message
from framework.runtime.storage import LocalStorage, S3Storage
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

FIXTURES = REPO / "tests/fixtures/email"
SAMPLE = (REPO / "sources/samples/supplier_invoice.eml").read_bytes()
NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
INBOX = "_inbox/supplier_invoices/"
CONFIG = {"source": "supplier_invoices", "type": "email", "format": "csv", "raw_bucket": "${BUCKET:raw}",
          "config": {"recipients": ["invoices@data.example.com"],
                     "attachment_pattern": ["invoice_*.csv", "invoice-*.csv"],
                     "content_types": ["text/csv", "application/octet-stream"],
                     "allowed_senders": ["*@acme-supplies.example", "billing@globex.example"],
                     "require_verdicts": True, "bucket": "${BUCKET:raw}", "prefix": INBOX}}
INVOICE_1001 = (b"invoice_id,line_no,supplier,invoice_date,sku,quantity,amount\r\n"
                b"INV-1001,1,Acme Supplies,2024-11-14,SKU-1,10,125.00\r\n"
                b"INV-1001,2,Acme Supplies,2024-11-14,SKU-2,2,48.50\r\n"
                b"INV-1001,3,Acme Supplies,2024-11-14,SKU-3,1,9.99\r\n"
                b"INV-1002,1,Acme Supplies,2024-11-15,SKU-1,4,50.00\r\n")


def deliver(storage, message_id: str, raw: bytes, **verdicts: str) -> dict:
    storage.put("raw", INBOX + message_id, raw)
    return ses_receipt_event(message_id, ["invoices@data.example.com"], verdicts=verdicts)


@pytest.fixture
def local(tmp_path):
    storage = LocalStorage(tmp_path)
    return storage, EmailConnector(CONFIG, storage=storage, clock=lambda: NOW)


def test_sample_message_base64_quoted_printable_rfc2231_and_a_nested_message():
    message = parse_message(SAMPLE)
    assert message.message_id == "<20241115170211.4417@mail.acme-supplies.example>"
    assert message.sender == "ap@acme-supplies.example"
    assert message.verdicts == {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS"}
    # the forwarded message/rfc822 part is a message, not a file: its invoice_9999.csv is not an attachment
    assert message.nested_messages == 1
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("invoice_1001.csv", "text/csv"),
        ("invoice-1003-société.csv", "application/octet-stream"),  # Content-Disposition wins over name
        ("terms.pdf", "application/pdf")]
    assert message.attachments[0].data == INVOICE_1001
    assert message.attachments[1].data.decode("utf-8").splitlines()[1] == \
        "INV-1003,1,Acme Supplies Société,2024-11-15,SKU-9,3,30.00"


def test_crlf_message_with_rfc2231_continuations_and_an_rfc2047_name():
    raw = (FIXTURES / "crlf_quoted_printable_rfc2231.eml").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = parse_message(raw)
    assert [a.filename for a in message.attachments] == ["invoice-2024-10-über-lange-name.csv", "invoice_äöü.csv"]
    assert message.attachments[0].data == (
        "invoice_id,line_no,supplier,invoice_date,sku,quantity,amount\r\n"
        "INV-2001,1,Globex München,2024-10-31,SKU-7,5,75.00").encode()  # soft line break joined
    assert message.attachments[1].data.endswith(b"INV-2002,1,Globex,2024-10-31,SKU-8,1,10.00\n")


@pytest.mark.parametrize("fixture, reason", [
    ("broken_boundary.eml", "malformed MIME: StartBoundaryNotFoundDefect in a multipart/mixed part"),
    ("invalid_base64.eml", "malformed MIME: attachment 'invoice_1.csv' is not valid base64"),
])
def test_malformed_messages_name_their_defect(fixture, reason):
    with pytest.raises(MalformedMessage) as caught:
        parse_message((FIXTURES / fixture).read_bytes())
    assert str(caught.value) == reason


def test_ses_action_event_lands_the_matching_attachments_unchanged(local):
    storage, connector = local
    [batch] = connector.handle(deliver(storage, "m1", SAMPLE))
    assert batch.status == "landed" and batch.batch_id.startswith("20241116T103000Z-")
    assert [o.key for o in batch.objects] == [
        f"supplier_invoices/ingest_date=2024-11-16/{batch.batch_id}-1.csv",
        f"supplier_invoices/ingest_date=2024-11-16/{batch.batch_id}-2.csv"]
    assert [o.origin for o in batch.objects] == [f"{INBOX}m1#invoice_1001.csv",
                                                 f"{INBOX}m1#invoice-1003-société.csv"]
    assert storage.get("raw", batch.objects[0].key) == INVOICE_1001


def test_a_second_delivery_of_the_same_message_id_lands_nothing(local):
    storage, connector = local
    [first] = connector.handle(deliver(storage, "m1", SAMPLE))
    [again] = connector.handle(deliver(storage, "m2", SAMPLE.replace(b"Subject: ", b"Subject: Fwd: ", 1)))
    assert again.status == "duplicate" and again.objects == []
    assert again.reason == ("message <20241115170211.4417@mail.acme-supplies.example> already landed as batch "
                            f"{first.batch_id}")
    assert len([k for k in storage.list("raw", "supplier_invoices/ingest_date=")]) == 2


@pytest.mark.parametrize("raw, verdicts, reason", [
    (SAMPLE.replace(b"From: Accounts Payable <ap@acme-supplies.example>", b"From: mallory@evil.example"), {},
     "sender mallory@evil.example is not in allowed_senders"),
    (SAMPLE, {"spf": "PASS", "dkim": "PASS", "spam": "PASS", "virus": "FAIL"}, "SES verdict FAIL: virus"),
    (SAMPLE.replace(b"X-SES-Spam-Verdict: PASS", b"X-SES-Spam-Verdict: FAIL").replace(b"dkim=pass", b"dkim=fail"),
     {}, "SES verdict FAIL: dkim, spam"),
    ((FIXTURES / "broken_boundary.eml").read_bytes(), {},
     "malformed MIME: StartBoundaryNotFoundDefect in a multipart/mixed part"),
    ((FIXTURES / "invalid_base64.eml").read_bytes(), {},
     "malformed MIME: attachment 'invoice_1.csv' is not valid base64"),
    (SAMPLE.replace(b"invoice_1001.csv", b"summary.csv").replace(b"invoice-1003", b"summary-1003"), {},
     "no attachment matches ['invoice_*.csv', 'invoice-*.csv'] (attachments: summary.csv, "
     "summary-1003-société.csv, terms.pdf)"),
])
def test_rejected_messages_are_quarantined_whole_with_their_reason(local, raw, verdicts, reason):
    storage, connector = local
    event = deliver(storage, "m1", raw)
    event["Records"][0]["ses"]["receipt"].update({f"{k}Verdict": {"status": v} for k, v in verdicts.items()})
    [batch] = connector.handle(event)
    assert (batch.status, batch.reason, batch.objects) == ("quarantined", reason, [])
    folder = f"supplier_invoices/{batch.batch_id}/"
    assert storage.get("quarantine", folder + "message.eml") == raw
    assert json.loads(storage.get("quarantine", folder + "reason.json")) == {"batch_id": batch.batch_id,
                                                                             "_reason": reason}
    assert storage.list("raw", "supplier_invoices/") == []


def test_a_message_for_other_recipients_is_quarantined(local):
    storage, connector = local
    storage.put("raw", INBOX + "m1", SAMPLE)
    [batch] = connector.handle(ses_receipt_event("m1", ["someone-else@data.example.com"]))
    assert batch.reason == "none of the message's recipients is in this source's recipients"


@mock_aws
def test_s3_notification_of_the_stored_message_lands_it_on_s3():
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in ("raw", "quarantine"):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket="raw", Key=INBOX + "abc123", Body=SAMPLE)
    client.put_object(Bucket="raw", Key="_inbox/other_source/zzz", Body=SAMPLE)
    connector = EmailConnector(CONFIG, storage=S3Storage(client), clock=lambda: NOW)
    event = {"Records": s3_put_event("raw", INBOX + "abc123", len(SAMPLE), "e")["Records"]
             + s3_put_event("raw", "_inbox/other_source/zzz", len(SAMPLE), "e")["Records"]}
    [batch] = connector.handle(event)
    assert [o.uri for o in batch.objects] == [
        f"s3://raw/supplier_invoices/ingest_date=2024-11-16/{batch.batch_id}-{n}.csv" for n in (1, 2)]
    assert client.get_object(Bucket="raw", Key=batch.objects[0].key)["Body"].read() == INVOICE_1001


class SlowStorage(LocalStorage):
    """Local storage whose writes take a while, so concurrent deliveries overlap between claim and landing."""

    def put(self, bucket, key, body):
        time.sleep(0.05)
        super().put(bucket, key, body)


class OneCallAtATime:
    """A DynamoDB client whose calls are serialized: DynamoDB applies each single-item write atomically, which
    moto (unlocked Python) does not promise under threads. A check-then-write in two calls still races."""

    def __init__(self, client):
        self._client, self._lock = client, threading.Lock()
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with self._lock:
                return method(*args, **kwargs)
        return call


def deliver_concurrently(storage, ledgers, threads: int = 6) -> list:
    """The same message, stored under `threads` SES message ids, handled by as many connectors at once."""
    events = [deliver(storage, f"m{n}", SAMPLE) for n in range(threads)]
    barrier = threading.Barrier(threads)

    def run(n: int):
        connector = EmailConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledgers(n))
        barrier.wait()
        [batch] = connector.handle(events[n])
        return batch

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def assert_landed_once(storage, batches) -> None:
    """One batch: a delivery that finds the message claimed by a batch not yet handed off (here: none is, no
    handler runs) lands it again as that same batch, whose execution StartExecution then starts once (named by
    the batch id); with the claim handed off it is a duplicate. Either way one set of raw objects."""
    landed = [b for b in batches if b.status == "landed"]
    assert len({b.batch_id for b in landed}) == 1, [b.status for b in batches]
    assert sorted(b.reason for b in batches if b.status == "duplicate") == [
        f"message <20241115170211.4417@mail.acme-supplies.example> already landed as batch {landed[0].batch_id}"
    ] * (len(batches) - len(landed))
    assert storage.list("raw", "supplier_invoices/ingest_date=") == [o.key for o in landed[0].objects]


def test_concurrent_deliveries_of_one_message_land_once_with_the_sqlite_ledger(tmp_path):
    storage = SlowStorage(tmp_path / "lake")
    path = tmp_path / "ledger.sqlite"
    SqliteRunLedger(path).close()  # the tables exist before the race (as after any earlier run)
    batches = deliver_concurrently(storage, lambda n: SqliteRunLedger(path))  # one connection per "instance"
    assert_landed_once(storage, batches)


@mock_aws
def test_concurrent_deliveries_of_one_message_land_once_with_the_dynamodb_ledger(tmp_path):
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_run_ledger_table(client, "runs")
    ledger = DynamoRunLedger("runs", OneCallAtATime(client))
    storage = SlowStorage(tmp_path / "lake")
    batches = deliver_concurrently(storage, lambda n: ledger)
    assert_landed_once(storage, batches)
    landed = next(b for b in batches if b.status == "landed")
    [claim] = client.scan(TableName="runs")["Items"]
    assert claim == {"source": {"S": "supplier_invoices#objects"},
                     "batch_id": {"S": message_claim_origin("<20241115170211.4417@mail.acme-supplies.example>") + "#"},
                     "claimed_by": {"S": landed.batch_id}, "handed_off": {"BOOL": False}}
    assert claim["batch_id"]["S"].startswith("message/") and len(claim["batch_id"]["S"]) == len("message/") + 64 + 1


def test_a_failed_landing_releases_the_claim_so_a_redelivery_lands(tmp_path):
    class FailingOnce(LocalStorage):
        failed = False

        def put(self, bucket, key, body):
            if bucket == "raw" and "ingest_date=" in key and not self.failed:
                FailingOnce.failed = True
                raise OSError("disk full")
            super().put(bucket, key, body)

    storage = FailingOnce(tmp_path / "lake")
    runs = SqliteRunLedger(tmp_path / "ledger.sqlite")
    connector = EmailConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=runs)
    with pytest.raises(OSError, match="disk full"):
        connector.handle(deliver(storage, "m1", SAMPLE))
    [batch] = connector.handle(deliver(storage, "m2", SAMPLE))
    assert batch.status == "landed" and len(batch.objects) == 2


def test_a_message_whose_batch_was_never_handed_off_lands_again_as_that_batch(tmp_path):
    """StartExecution failed after the message landed: the retried delivery lands it as the same batch (same
    raw keys), so the execution started then is the one the first attempt meant; once handed off it is a duplicate."""
    storage = LocalStorage(tmp_path / "lake")
    runs = SqliteRunLedger(tmp_path / "ledger.sqlite")
    [first] = EmailConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=runs).handle(
        deliver(storage, "m1", SAMPLE))
    later = datetime(2024, 11, 16, 10, 33, 0, tzinfo=UTC)  # Lambda's retry of the event, minutes later
    retry = EmailConnector(CONFIG, storage=storage, clock=lambda: later, runs=runs)
    [again] = retry.handle(deliver(storage, "m1", SAMPLE))
    assert (again.status, again.batch_id, again.ingest_time) == ("landed", first.batch_id, first.ingest_time)
    assert [o.key for o in again.objects] == [o.key for o in first.objects]
    retry.commit(again)  # the handler's, once the execution started
    [duplicate] = EmailConnector(CONFIG, storage=storage, clock=lambda: later, runs=runs).handle(
        deliver(storage, "m1", SAMPLE))
    assert (duplicate.status, duplicate.reason) == (
        "duplicate", f"message <20241115170211.4417@mail.acme-supplies.example> already landed as batch "
                     f"{first.batch_id}")
