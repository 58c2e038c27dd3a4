"""Buffered micro-batches (stream, http_push): pending in the run ledger, one execution per flush.

moto DynamoDB (the run ledger) and Step Functions; the flush Lambda as deployed; failures injected between the
flush's claim and StartExecution."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from framework.runtime import flush as flush_lambda
from framework.runtime.batch import Batch, LandedObject
from framework.runtime.buffer import GRACE_SECONDS, PendingBuffer, flush
from framework.runtime.connectors.http_push import HttpPushConnector
from framework.runtime.connectors.stream import StreamConnector
from framework.runtime.events import api_gateway_post, kinesis_event
from framework.runtime.ledger import DynamoRunLedger, SqliteRunLedger
from framework.runtime.storage import LocalStorage
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

SOURCE, REGION, TABLE = "sensor_readings_stream", "eu-west-1", "onboard-runs"
STREAM = json.loads((REPO / "generated/sensor_readings_stream/connector/config.json").read_text())
PUSH = json.loads((REPO / "generated/sensor_readings_push/connector/config.json").read_text())
READING = {"device_id": "sensor-001", "temperature": 22.5, "humidity": 45.2, "timestamp": "2024-11-16T10:00:00Z"}
T0 = datetime(2024, 11, 16, 10, 0, 0, tzinfo=UTC)


def micro(batch_id: str, size: int = 100, rejected: int = 0) -> Batch:
    key = f"{SOURCE}/ingest_date=2024-11-16/{batch_id}.jsonl"
    return Batch(SOURCE, batch_id, "2024-11-16T10:00:00Z",
                 [LandedObject("raw", key, f"s3://raw/{key}", "1..5", None, size)], rejected=rejected)


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        yield SqliteRunLedger(tmp_path / "ledger.sqlite")
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_run_ledger_table(client, TABLE)
        yield DynamoRunLedger(TABLE, client)


def test_every_pending_micro_batch_becomes_one_flush_batch_in_landing_order(ledger):
    buffer = PendingBuffer(ledger, SOURCE, clock=lambda: T0)
    for batch_id, rejected in (("20241116T100000Z-ffff", 0), ("20241116T100000Z-0000", 2), ("20241116T100001Z-aaaa", 0)):
        buffer.add(micro(batch_id, rejected=rejected))
    assert buffer.pending_bytes() == 300
    started: list[Batch] = []
    [batch] = flush(ledger, SOURCE, started.append, clock=lambda: T0 + timedelta(minutes=5))
    assert started == [batch] and batch.status == "landed" and batch.rejected == 2
    assert [o.key.rsplit("/", 1)[1] for o in batch.objects] == [
        "20241116T100000Z-ffff.jsonl", "20241116T100000Z-0000.jsonl", "20241116T100001Z-aaaa.jsonl"]
    assert (batch.batch_id[:16], batch.ingest_time) == ("20241116T100500Z", "2024-11-16T10:05:00Z")
    assert ledger.pending(SOURCE) == [] and flush(ledger, SOURCE, started.append) == []


def test_size_decides_when_a_flush_is_due(ledger):
    buffer = PendingBuffer(ledger, SOURCE)
    buffer.add(micro("20241116T100000Z-0001", size=600_000))
    assert not buffer.due(1)
    buffer.add(micro("20241116T100000Z-0002", size=600_000))
    assert buffer.due(1) and not buffer.due(2)


def test_a_micro_batch_claimed_by_one_flush_is_not_taken_by_another(ledger):
    PendingBuffer(ledger, SOURCE).add(micro("20241116T100000Z-0001"))
    first, second = PendingBuffer(ledger, SOURCE, clock=lambda: T0), PendingBuffer(ledger, SOURCE, clock=lambda: T0)
    assert first.take() is not None
    assert second.take() is None  # claimed, and not yet abandoned


def test_a_flush_whose_start_failed_is_taken_again_as_the_same_batch_after_the_grace(ledger):
    PendingBuffer(ledger, SOURCE).add(micro("20241116T100000Z-0001"))
    PendingBuffer(ledger, SOURCE).add(micro("20241116T100000Z-0002"))

    def throttled(batch):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    with pytest.raises(ClientError):
        flush(ledger, SOURCE, throttled, clock=lambda: T0)
    [claimed_by] = {p.flush for p in ledger.pending(SOURCE)}
    PendingBuffer(ledger, SOURCE).add(micro("20241116T100100Z-0003"))  # arrived after the failed flush
    soon = T0 + timedelta(seconds=GRACE_SECONDS - 1)
    started: list[Batch] = []
    [fresh] = flush(ledger, SOURCE, started.append, clock=lambda: soon)  # the claimed two are not abandoned yet
    assert [o.key[-10:] for o in fresh.objects] == ["0003.jsonl"]
    later = T0 + timedelta(seconds=GRACE_SECONDS)
    [again] = flush(ledger, SOURCE, started.append, clock=lambda: later)
    assert again.batch_id == claimed_by and [o.key[-10:] for o in again.objects] == ["0001.jsonl", "0002.jsonl"]
    assert again.ingest_time == "2024-11-16T10:00:00Z" and ledger.pending(SOURCE) == []


def test_a_wholly_quarantined_flush_starts_nothing(ledger):
    PendingBuffer(ledger, SOURCE).add(Batch(SOURCE, "20241116T100000Z-0001", "2024-11-16T10:00:00Z", rejected=3,
                                            status="quarantined"))
    started: list[Batch] = []
    [batch] = flush(ledger, SOURCE, started.append)
    assert (started, batch.status, batch.rejected) == ([], "quarantined", 3)
    assert ledger.pending(SOURCE) == []


@pytest.fixture
def deployed(monkeypatch):
    lake = json.loads((REPO / f"generated/{SOURCE}/manifest.json").read_text())["lake"]
    env = {"ONBOARD_BUCKET_RAW": "raw", "ONBOARD_BUCKET_PROCESSED": "processed", "ONBOARD_BUCKET_QUARANTINE":
           "quarantine", "ONBOARD_BUCKET_CURATED": "curated", "ONBOARD_LAKE": json.dumps(lake),
           "ONBOARD_LEDGER_TABLE": TABLE, "ONBOARD_SOURCE": SOURCE, "AWS_DEFAULT_REGION": REGION}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_run_ledger_table(dynamodb, TABLE)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name=f"onboard-{SOURCE}", roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", machine)
        yield DynamoRunLedger(TABLE, dynamodb), sfn, machine


def test_the_flush_lambda_starts_one_execution_over_every_micro_batch(deployed, tmp_path):
    ledger, sfn, machine = deployed
    storage = LocalStorage(tmp_path)
    for n in range(4):  # four connector invocations: four micro-batches, no execution yet
        connector = StreamConnector(STREAM, storage=storage, clock=lambda: T0, runs=ledger)
        event = kinesis_event([json.dumps(dict(READING, n=n)).encode()], "iot-sensor-readings", first_sequence=n + 1)
        [batch] = connector.handle(event)
        assert batch.status == "pending" and not connector.flush_due
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []
    answer = flush_lambda.handler({"source": "aws.events"}, ledger=ledger, sfn=sfn)
    [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
    [flushed] = answer["batches"]
    assert (execution["name"], flushed["files"], flushed["status"]) == (flushed["batch_id"], 4, "landed")
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert started["glue_arguments"]["--input"].count(",") == 3 and started["files"] == 4
    assert ledger.pending(SOURCE) == []
    assert flush_lambda.handler({}, ledger=ledger, sfn=sfn)["batches"] == []  # nothing waits: nothing starts


def test_a_connector_past_the_size_asks_the_flush_lambda_to_run(deployed, tmp_path, monkeypatch):
    ledger, _, _ = deployed
    monkeypatch.setenv("ONBOARD_FLUSH_FUNCTION", "onboard-sensor_readings_push-flush")
    client = boto3.client("lambda", region_name=REGION)
    real = boto3.client
    monkeypatch.setattr(boto3, "client", lambda name, *a, **k: client if name == "lambda" else real(name, *a, **k))
    config = dict(PUSH, buffer={"seconds": 300, "megabytes": 1})
    body = "".join(json.dumps(dict(READING, reading_time="2024-11-16T10:00:00Z", note="x" * 400)) + "\n"
                   for _ in range(1500)).encode()  # ~0.7 MB: two of them pass 1 MB
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": "onboard-sensor_readings_push-flush", "InvocationType": "Event",
            "Payload": json.dumps({"source": "sensor_readings_push", "reason": "size"}).encode()})
        flags = []
        for n in range(2):
            connector = HttpPushConnector(config, storage=LocalStorage(tmp_path), clock=lambda: T0, runs=ledger)
            connector.settings = dict(connector.settings, max_body_bytes=6_000_000)
            [batch] = connector.handle(api_gateway_post("/ingest/sensor-readings", body, f"req-{n}"))
            assert connector.respond([batch])["statusCode"] == 202 and batch.status == "pending"
            flags.append(connector.flush_due)
        stub.assert_no_pending_responses()
    assert flags == [False, True]


def test_the_largest_flush_batch_fits_a_step_functions_execution_input_and_glue_arguments():
    """Step Functions passes at most 256 KiB of state and Glue at most 260 KB of arguments: a flush batch of
    MAX_OBJECTS Kinesis micro-batches (long bucket names, 56-digit sequence numbers) stays well below both."""
    from framework.runtime.buffer import MAX_OBJECTS
    from framework.runtime.lake import lake_from_env
    from framework.runtime.orchestration import pipeline_input

    ledger_items = []
    raw = "onboard-raw-123456789012-ap-southeast-2"
    for n in range(MAX_OBJECTS + 50):
        batch_id = f"20241116T10{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
        key = f"{SOURCE}/ingest_date=2024-11-16/{batch_id}.jsonl"
        ledger_items.append(Batch(SOURCE, batch_id, "2024-11-16T10:00:00Z", [LandedObject(
            raw, key, f"s3://{raw}/{key}", f"{n:056d}..{n + 499:056d}", None, 987_654)]))
    lake = json.loads((REPO / f"generated/{SOURCE}/manifest.json").read_text())["lake"]
    env = {"ONBOARD_LAKE": json.dumps(lake), **{f"ONBOARD_BUCKET_{z.upper()}": f"onboard-{z}-123456789012-ap-southeast-2"
                                                for z in ("raw", "processed", "quarantine", "curated")}}

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        ledger = SqliteRunLedger(f"{folder}/ledger.sqlite")
        buffer = PendingBuffer(ledger, SOURCE, clock=lambda: T0)
        for item in ledger_items:
            buffer.add(item)
        batch = buffer.take()
        ledger.close()
    assert batch.files_landed == MAX_OBJECTS
    started = json.dumps(pipeline_input(batch, lake_from_env(env)), sort_keys=True)
    assert len(started.encode()) < 200_000, len(started)  # measured: 137,666 bytes, about 690 per micro-batch
    assert len(json.dumps(pipeline_input(batch, lake_from_env(env))["glue_arguments"]).encode()) < 60_000
