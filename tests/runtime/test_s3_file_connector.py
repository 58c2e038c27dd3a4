"""The s3_file connector lands objects unchanged, from every event shape, on S3 (moto) and locally."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from framework.runtime.connectors.s3_file import S3FileConnector
from framework.runtime.events import objects_in_event, s3_put_event
from framework.runtime.storage import LocalStorage, S3Storage

NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
CONFIG = {"source": "airports", "type": "s3_file", "format": "csv", "raw_bucket": "${BUCKET:raw}",
          "config": {"bucket": "${BUCKET:raw}", "prefix": "incoming/airports/", "suffix": ".csv"}}


def test_s3_event_keys_are_form_decoded():
    event = s3_put_event("lake-raw", "incoming/airports/Q3 report+final (1).csv", 10, "abc")
    assert event["Records"][0]["s3"]["object"]["key"] == "incoming/airports/Q3+report%2Bfinal+%281%29.csv"
    [obj] = objects_in_event(event)
    assert obj.key == "incoming/airports/Q3 report+final (1).csv"


def test_sqs_wrapped_and_eventbridge_events_name_the_same_objects():
    inner = s3_put_event("lake-raw", "incoming/airports/a b.csv", 10, "abc")
    sqs = {"Records": [
        {"eventSource": "aws:sqs", "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})},
        {"eventSource": "aws:sqs", "body": json.dumps(inner)},
    ]}
    bridge = {"source": "aws.s3", "detail-type": "Object Created",
              "detail": {"bucket": {"name": "lake-raw"}, "object": {"key": "incoming/airports/a b.csv", "size": 10}}}
    assert [(o.bucket, o.key) for o in objects_in_event(sqs)] == [("lake-raw", "incoming/airports/a b.csv")]
    assert [(o.bucket, o.key) for o in objects_in_event(bridge)] == [("lake-raw", "incoming/airports/a b.csv")]


def test_local_landing_copies_the_object_unchanged(tmp_path):
    storage = LocalStorage(tmp_path)
    body = b"iata,name\nLHR,Heathrow\n"
    storage.put("raw", "incoming/airports/today.csv", body)
    connector = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW)
    [batch] = connector.handle(s3_put_event("raw", "incoming/airports/today.csv", len(body), "e1"))
    assert batch.batch_id.startswith("20241116T103000Z-")
    [landed] = batch.objects
    assert landed.key == f"airports/ingest_date=2024-11-16/{batch.batch_id}.csv"
    assert storage.get("raw", landed.key) == body
    assert landed.origin == "raw/incoming/airports/today.csv"


def test_objects_outside_prefix_or_suffix_are_skipped(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("raw", "incoming/other/x.csv", b"a")
    storage.put("raw", "incoming/airports/x.txt", b"a")
    connector = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW)
    event = {"Records": s3_put_event("raw", "incoming/other/x.csv", 1, "e")["Records"]
             + s3_put_event("raw", "incoming/airports/x.txt", 1, "e")["Records"]}
    assert connector.handle(event) == []
    assert storage.list("raw", "airports/") == []


def test_gzip_is_detected_from_content_not_name(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("raw", "incoming/airports/daily.csv", gzip.compress(b"iata\nLHR\n"))
    connector = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW)
    [batch] = connector.handle(s3_put_event("raw", "incoming/airports/daily.csv", 30, "e"))
    assert batch.objects[0].key.endswith(".csv.gz")


def test_same_object_and_etag_get_the_same_batch_id(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("raw", "incoming/airports/a.csv", b"x")
    connector = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW)
    event = s3_put_event("raw", "incoming/airports/a.csv", 1, "etag-1")
    first, second = connector.handle(event)[0], connector.handle(event)[0]
    other = connector.handle(s3_put_event("raw", "incoming/airports/a.csv", 1, "etag-2"))[0]
    assert first.batch_id == second.batch_id != other.batch_id


@mock_aws
def test_s3_landing_streams_server_side(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ONBOARD_BUCKET_RAW", "acme-lake-raw")
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="acme-lake-raw")
    body = b"iata,name\n" + b"XXX,Somewhere\n" * 50_000
    client.put_object(Bucket="acme-lake-raw", Key="incoming/airports/big file.csv", Body=body)
    etag = client.head_object(Bucket="acme-lake-raw", Key="incoming/airports/big file.csv")["ETag"]
    connector = S3FileConnector(CONFIG, storage=S3Storage(client), clock=lambda: NOW)
    [batch] = connector.handle(s3_put_event("acme-lake-raw", "incoming/airports/big file.csv", len(body), etag))
    [landed] = batch.objects
    assert landed.uri == f"s3://acme-lake-raw/airports/ingest_date=2024-11-16/{batch.batch_id}.csv"
    assert client.get_object(Bucket="acme-lake-raw", Key=landed.key)["Body"].read() == body


def test_local_storage_refuses_keys_that_escape_the_bucket(tmp_path):
    with pytest.raises(ValueError, match="escapes its bucket"):
        LocalStorage(tmp_path).put("raw", "../processed/x", b"")


def test_local_copies_share_no_writes_with_their_source(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("landing", "in/a.csv", b"id\n1\n")
    storage.copy("landing", "in/a.csv", "raw", "a/1.csv")
    assert storage.get("raw", "a/1.csv") == b"id\n1\n"
    # Rewriting the source, even over a leftover link at its temporary name, leaves the copy as it was.
    os.link(tmp_path / "raw/a/1.csv", tmp_path / "landing/in/a.csv.part")
    storage.put("landing", "in/a.csv", b"id\n2\n")
    assert (storage.get("landing", "in/a.csv"), storage.get("raw", "a/1.csv")) == (b"id\n2\n", b"id\n1\n")
    # And copying over the copy leaves the source as it was.
    storage.put("raw", "a/2.csv", b"x")
    storage.copy("raw", "a/2.csv", "raw", "a/1.csv")
    assert (storage.get("landing", "in/a.csv"), storage.get("raw", "a/1.csv")) == (b"id\n2\n", b"x")
    assert storage.list("landing") == ["in/a.csv"] and storage.list("raw") == ["a/1.csv", "a/2.csv"]
