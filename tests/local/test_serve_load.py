"""`onboard serve SOURCE --load` as a real process: records POSTed over HTTP end up in the local warehouse."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO

pytestmark = pytest.mark.slow
PATH = "/ingest/sensor-readings"
READINGS = [
    {"device_id": "sensor-101", "temperature": 21.5, "humidity": 40.0, "timestamp": "2024-11-20T08:00:00Z",
     "metadata": {"location": "dock-1", "firmware_version": "2.0.0"}},
    {"device_id": "sensor-102", "temperature": -4.25, "humidity": 77.5, "timestamp": "2024-11-20T08:00:30Z",
     "metadata": {"location": "cold-store-2"}},
]


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def served(tmp_path):
    """`onboard serve sensor_readings_push --load --port 0` with its state in tmp_path: (url, process)."""
    env = {**os.environ, "ONBOARD_HOME": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "framework.cli", "--project", str(REPO), "serve", "sensor_readings_push", "--load",
         "--port", "0"], stdout=subprocess.PIPE, stderr=(tmp_path / "serve.log").open("w"), text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        banner = lines.get(timeout=120)
        assert banner.startswith("serving sensor_readings_push at http://127.0.0.1:"), \
            banner + (tmp_path / "serve.log").read_text()
        yield banner.split(" at ")[1].split(" ")[0], process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def test_posted_records_are_transformed_and_loaded_and_a_rejected_post_loads_nothing(served, tmp_path):
    url, process, lines = served
    assert url.endswith(PATH)
    status, answer = post(url, json.dumps([READINGS[0], {"temperature": "warm"}]).encode())
    assert status == 422
    assert answer["errors"] == [{"record": 1, "errors": ["not_null: device_id", "not_null: reading_time",
                                                         "cast: temperature value 'warm' is not double"]}]

    status, answer = post(url, "".join(json.dumps(r) + "\n" for r in READINGS).encode())  # JSONL
    assert status == 202 and answer["records"] == 2
    summary = json.loads(lines.get(timeout=300))  # printed once the batch is loaded
    # --load flushes after every accepted request: the pending micro-batch (the answer's) loads as one batch
    flushed = summary["batch_id"]
    assert flushed != answer["batch_id"]
    assert {k: summary[k] for k in ("source", "status", "rows_in", "rows_loaded", "rows_quarantined",
                                    "files_landed")} \
        == {"source": "sensor_readings_push", "status": "succeeded", "rows_in": 2, "rows_loaded": 2,
            "rows_quarantined": 0, "files_landed": 1}

    process.send_signal(signal.SIGINT)  # the server holds the warehouse open; stop it before reading
    assert process.wait(timeout=60) == 0
    time.sleep(0.2)  # let the reader thread drain the closed pipe
    assert lines.empty()  # the 422 started no load: the one summary above was all
    raw = sorted(p.name for p in (tmp_path / "state/lake/raw/sensor_readings_push").rglob("*.jsonl"))
    assert raw == [f"{answer['batch_id']}.jsonl"]
    with DuckDBWarehouse(tmp_path / "state/warehouse.duckdb") as warehouse:
        rows = warehouse.query("SELECT device_id, reading_time, temperature, humidity, location, firmware_version, "
                               "_batch_id FROM iot.sensor_readings_push ORDER BY device_id")[1]
    assert rows == [
        ("sensor-101", datetime(2024, 11, 20, 8, 0, tzinfo=UTC), 21.5, 40.0, "dock-1", "2.0.0", flushed),
        ("sensor-102", datetime(2024, 11, 20, 8, 0, 30, tzinfo=UTC), -4.25, 77.5, "cold-store-2", None, flushed)]
