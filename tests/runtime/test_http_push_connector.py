"""The http_push handler: JSON object, array or JSONL bodies (base64 too), all-or-nothing validation with
per-record errors, 413 past the size limit; and the same handler behind `onboard serve`'s HTTP server."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from framework.local.serve import push_server
from framework.runtime.connectors.http_push import HttpPushConnector
from framework.runtime.events import api_gateway_post
from framework.runtime.storage import LocalStorage
from tests.conftest import REPO

NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
CONFIG = json.loads((REPO / "generated/sensor_readings_push/connector/config.json").read_text())
PATH = "/ingest/sensor-readings"
GOOD = {"device_id": "sensor-001", "temperature": 22.5, "humidity": 45.2, "timestamp": "2024-11-16T10:00:00Z",
        "metadata": {"location": "warehouse-a", "firmware_version": "1.4.2"}}


def call(storage, body: bytes | str, *, base64_body: bool = True, method: str = "POST"):
    connector = HttpPushConnector(CONFIG, storage=storage, clock=lambda: NOW)
    data = body.encode() if isinstance(body, str) else body
    event = api_gateway_post(PATH, data, "req-1")
    if not base64_body:
        event.update(isBase64Encoded=False, body=data.decode())
    event["httpMethod"] = method
    batches = connector.handle(event)
    response = connector.respond(batches)
    return response["statusCode"], json.loads(response["body"]), batches


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path)


@pytest.mark.parametrize("body, base64_body", [
    (json.dumps(GOOD), False),
    (json.dumps([GOOD, dict(GOOD, device_id="sensor-002")]), True),
    (json.dumps(GOOD) + "\n\n" + json.dumps(dict(GOOD, device_id="sensor-002")) + "\n", True),
])
def test_object_array_and_jsonl_bodies_are_accepted_and_land_as_jsonl(storage, body, base64_body):
    status, answer, [batch] = call(storage, body, base64_body=base64_body)
    assert (status, answer) == (202, {"batch_id": batch.batch_id, "records": answer["records"]})
    [landed] = batch.objects
    assert landed.key == f"sensor_readings_push/ingest_date=2024-11-16/{batch.batch_id}.jsonl"
    lines = storage.get("raw", landed.key).decode().splitlines()
    assert len(lines) == answer["records"] and json.loads(lines[0]) == GOOD


def test_one_invalid_record_refuses_the_whole_body_with_each_records_errors(storage):
    records = [GOOD, dict(GOOD, device_id=None, temperature="warm"), dict(GOOD, timestamp="yesterday"),
               dict(GOOD, metadata={"location": "x" * 65, "firmware_version": "1"}), "not an object"]
    status, answer, batches = call(storage, json.dumps(records))
    assert (status, batches) == (422, [])
    assert answer == {"message": "4 of 5 records are invalid; nothing was accepted", "errors": [
        {"record": 1, "errors": ["not_null: device_id", "cast: temperature value 'warm' is not double"]},
        {"record": 2, "errors": ["cast: reading_time value 'yesterday' is not timestamptz"]},
        {"record": 3, "errors": ["max_length: location exceeds 64 bytes"]},
        {"record": 4, "errors": ["malformed: a record must be a JSON object, not str"]}]}
    assert storage.list("raw") == []


def test_a_jsonl_line_that_is_not_json_is_reported_by_line(storage):
    status, answer, _ = call(storage, json.dumps(GOOD) + "\n{broken\n")
    assert status == 422
    assert answer["errors"] == [{"record": 1, "line": 2,
                                 "errors": ["malformed: invalid JSON (Expecting property name enclosed in double "
                                            "quotes)"]}]


def test_bodies_past_the_limit_get_413_and_bad_base64_400(storage):
    big = json.dumps([GOOD] * 20000)
    assert len(big) > CONFIG["config"]["max_body_bytes"]
    status, answer, _ = call(storage, big)
    assert (status, answer) == (413, {"message": f"the body is {len(big)} bytes; the limit is 1048576"})
    connector = HttpPushConnector(CONFIG, storage=storage, clock=lambda: NOW)
    event = dict(api_gateway_post(PATH, b"", "r"), body="%%%not-base64")
    connector.handle(event)
    assert connector.respond([])["statusCode"] == 400
    assert call(storage, json.dumps(GOOD), method="GET")[:2] == (405, {"message": "use POST"})
    assert call(storage, "")[:2] == (422, {"message": "the body holds no records", "errors": []})


@pytest.fixture
def server(storage):
    def handler(event, context):
        connector = HttpPushConnector(CONFIG, storage=storage, clock=lambda: NOW)
        return connector.respond(connector.handle(event))

    accepted = []
    httpd = push_server(handler, PATH, port=0, on_accepted=accepted.append)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", accepted
    httpd.shutdown()
    httpd.server_close()


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_real_http_requests_against_the_local_server(server, storage):
    base, accepted = server
    jsonl = (REPO / "sources/samples/sensor_readings.jsonl").read_bytes()
    status, answer = post(base + PATH, jsonl)
    assert status == 202 and answer["records"] == 8
    for _ in range(100):  # the server hands accepted batches on after the answer is sent
        if accepted:
            break
        time.sleep(0.02)
    assert accepted == [answer]
    assert post(base + PATH, json.dumps([GOOD, {"device_id": "x"}]).encode()) == (422, {
        "message": "1 of 2 records are invalid; nothing was accepted",
        "errors": [{"record": 1, "errors": ["not_null: reading_time"]}]})
    assert post(base + "/elsewhere", b"{}") == (404, {"message": f"no endpoint at /elsewhere; POST to {PATH}"})
    assert post(base + PATH, b"[" + b"1," * 600000 + b"1]")[0] == 413
    assert len(storage.list("raw", "sensor_readings_push/")) == 1
