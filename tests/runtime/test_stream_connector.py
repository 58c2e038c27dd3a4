"""The stream connector: Kinesis and Kafka (MSK, self-managed) event batches land as one JSONL micro-batch;
undecodable records are quarantined (and so not reported in batchItemFailures), their neighbours land; only
a record that could not be handled at all is reported."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from framework.runtime.connectors.stream import StreamConnector
from framework.runtime.events import kafka_event, kinesis_event
from framework.runtime.storage import LocalStorage, S3Storage
from tests.conftest import REPO

NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
CONFIG = json.loads((REPO / "generated/sensor_readings_stream/connector/config.json").read_text())
READING = {"device_id": "sensor-001", "temperature": 22.5, "humidity": 45.2, "timestamp": "2024-11-16T10:00:00Z",
           "metadata": {"location": "warehouse-a", "firmware_version": "1.4.2"}}
PAYLOADS = [json.dumps(READING).encode(), b'{"device_id": "sensor-9", "temp', b"[1, 2]",
            json.dumps(dict(READING, device_id="sensor-002")).encode(), "caf\xe9".encode("latin-1")]


def handle(storage, event):
    connector = StreamConnector(CONFIG, storage=storage, clock=lambda: NOW)
    batches = connector.handle(event)
    return batches, connector.respond(batches)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path)


def test_kinesis_batch_lands_good_records_and_quarantines_bad_ones_without_reporting_them(storage):
    event = kinesis_event(PAYLOADS, "iot-sensor-readings")
    sequence = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    [batch], response = handle(storage, event)
    assert (batch.rejected, batch.reason) == (3, "3 record(s) quarantined by the connector: malformed: invalid JSON "
                                                 "(Unterminated string starting at)")
    # reported, Lambda would re-deliver the shard from sequence[1] on and land sensor-002 again
    assert response["batchItemFailures"] == []
    landed = storage.get("raw", batch.objects[0].key).decode().splitlines()
    assert [json.loads(line)["device_id"] for line in landed] == ["sensor-001", "sensor-002"]
    quarantined = [json.loads(line) for line in
                   storage.get("quarantine", f"sensor_readings_stream/{batch.batch_id}/records.jsonl").splitlines()]
    assert [(q["itemIdentifier"], q["_reason"]) for q in quarantined] == [
        (sequence[1], "malformed: invalid JSON (Unterminated string starting at)"),
        (sequence[2], "malformed: a record must be a JSON object, not list"),
        (sequence[4], "malformed: data is not base64 of UTF-8 text")]
    assert base64.b64decode(quarantined[0]["data"]) == PAYLOADS[1]


@pytest.mark.parametrize("self_managed", [False, True])
def test_kafka_event_shapes_name_records_by_topic_partition_and_offset(storage, self_managed):
    event = kafka_event(PAYLOADS[:3], "sensor-readings", partition=2, first_offset=40, self_managed=self_managed)
    [batch], response = handle(storage, event)
    assert response["batchItemFailures"] == []
    quarantined = storage.get("quarantine", f"sensor_readings_stream/{batch.batch_id}/records.jsonl").splitlines()
    assert [json.loads(q)["itemIdentifier"] for q in quarantined] == ["sensor-readings-2@41", "sensor-readings-2@42"]
    assert storage.get("raw", batch.objects[0].key).count(b"\n") == 1


def test_a_batch_of_only_bad_records_lands_nothing_and_quarantines_them_all(storage):
    [batch], response = handle(storage, kinesis_event([b"not json"], "s"))
    assert (batch.status, batch.objects, batch.rejected) == ("quarantined", [], 1)
    assert response["batchItemFailures"] == []
    assert storage.list("raw") == []
    assert storage.list("quarantine") == [f"sensor_readings_stream/{batch.batch_id}/records.jsonl"]


class QuarantineDown(LocalStorage):
    """The quarantine zone refuses writes (a transient S3 failure): the raw zone works."""

    def put(self, bucket, key, data):
        if bucket == "quarantine":
            raise OSError("quarantine write failed")
        return super().put(bucket, key, data)


def test_a_record_that_could_not_be_quarantined_is_reported_and_only_those_before_it_land(tmp_path):
    storage = QuarantineDown(tmp_path)
    event = kinesis_event(PAYLOADS, "iot-sensor-readings")
    sequence = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    [batch], response = handle(storage, event)
    # Lambda re-delivers from sequence[1]: sensor-002 (after it) lands then, not now, so it lands once
    assert response["batchItemFailures"] == [{"itemIdentifier": sequence[1]}]
    assert (batch.rejected, batch.reason) == (0, None)
    landed = storage.get("raw", batch.objects[0].key).decode().splitlines()
    assert [json.loads(line)["device_id"] for line in landed] == ["sensor-001"]
    assert batch.objects[0].origin == f"{sequence[0]}..{sequence[0]}"


def test_a_first_record_that_could_not_be_quarantined_lands_nothing_and_is_reported(tmp_path):
    event = kinesis_event([b"not json", json.dumps(READING).encode()], "s")
    batches, response = handle(QuarantineDown(tmp_path), event)
    assert (batches, response["batchItemFailures"]) == ([], [{"itemIdentifier": f"{1:056d}"}])


@mock_aws
def test_records_read_from_a_kinesis_stream_land_on_s3():
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="iot-sensor-readings", ShardCount=1)
    kinesis.put_records(StreamName="iot-sensor-readings", Records=[
        {"Data": payload, "PartitionKey": "p"} for payload in PAYLOADS[:2]])
    shard = kinesis.describe_stream(StreamName="iot-sensor-readings")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="iot-sensor-readings", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    event = {"Records": [{"eventSource": "aws:kinesis", "kinesis": {
        "sequenceNumber": r["SequenceNumber"], "data": base64.b64encode(r["Data"]).decode()}} for r in records]}
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("raw", "quarantine"):
        s3.create_bucket(Bucket=bucket)
    connector = StreamConnector(CONFIG, storage=S3Storage(s3), clock=lambda: NOW)
    [batch] = connector.handle(event)
    assert connector.respond([batch])["batchItemFailures"] == []
    assert batch.rejected == 1
    body = s3.get_object(Bucket="raw", Key=batch.objects[0].key)["Body"].read()
    assert [json.loads(line) for line in body.splitlines()] == [READING]


def test_a_self_managed_kafka_event_as_lambda_delivers_it_lands_every_partition_in_order(storage):
    """The documented self-managed shape: no eventSourceArn, `bootstrapServers`, records grouped by
    topic-partition with base64 keys and values and byte-array headers; a null value is a bad record."""
    def record(partition: int, offset: int, value: bytes | None) -> dict:
        return {"topic": "plant.readings.v1", "partition": partition, "offset": offset, "timestamp": 1731751200000,
                "timestampType": "CREATE_TIME", "key": base64.b64encode(b"sensor-001").decode(),
                "value": None if value is None else base64.b64encode(value).decode(),
                "headers": [{"source": [112, 108, 97, 110, 116]}]}
    second = dict(READING, device_id="sensor-002")
    event = {"eventSource": "SelfManagedKafka",
             "bootstrapServers": "broker-1.kafka.example.com:9096,broker-2.kafka.example.com:9096",
             "records": {"plant.readings.v1-0": [record(0, 15, json.dumps(READING).encode()), record(0, 16, None)],
                         "plant.readings.v1-1": [record(1, 7, json.dumps(second).encode())]}}
    [batch], response = handle(storage, event)
    assert (response["batchItemFailures"], batch.rejected) == ([], 1)
    assert storage.get("raw", batch.objects[0].key).decode().splitlines() == [
        json.dumps(READING, separators=(",", ":")), json.dumps(second, separators=(",", ":"))]
    assert batch.objects[0].origin == "plant.readings.v1-0@15..plant.readings.v1-1@7"
    [quarantined] = [json.loads(line) for line in storage.get(
        "quarantine", f"sensor_readings_stream/{batch.batch_id}/records.jsonl").splitlines()]
    assert (quarantined["itemIdentifier"], quarantined["_reason"]) == (
        "plant.readings.v1-0@16", "malformed: invalid JSON (Expecting value)")  # a tombstone: no value
