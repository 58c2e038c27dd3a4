"""`onboard api` over real HTTP: a subprocess on a free port, the repository's project with its state in a temp
folder, real requests; every answer is checked against the generated OpenAPI document."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.api.openapi_check import check, document
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # the first run boots Spark in the server process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The base URL of a running `onboard api` (stopped after the module)."""
    port = _free_port()
    env = {**os.environ, "ONBOARD_HOME": str(tmp_path_factory.mktemp("state")), "ONBOARD_SPARK_MASTER": "local[1]"}
    process = subprocess.Popen([sys.executable, "-m", "framework.cli", "--project", str(REPO), "api", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"onboard api did not start: {process.communicate()[1]}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def request(base: str, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_document_is_served_as_generated(api):
    status, body = request(api, "GET", "/openapi.json")
    assert status == 200
    assert body == document()


@pytest.mark.parametrize(("raw", "status", "error"), [
    (b"{not json", 400, "the body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
                        "(char 1)"),
    (b"[1, 2]", 400, "the body must be a JSON object"),
    (b'{"source": "products", "file": "x.json"}', 422, "unknown field(s) file; valid: source, input, since"),
    (b'{"input": "x.json"}', 422, "missing field source"),
    (b'{"source": 7}', 422, "source must be a string"),
    (b'{"source": "products", "since": "last week"}', 422,
     "since must be a date (YYYY-MM-DD), not 'last week'"),
    (b'{"source": "products"}', 422, "products is a s3_file source: give input (a local file)"),
    (b'{"source": "products", "input": "sources/samples/nope.json"}', 422,
     "input file not found: sources/samples/nope.json"),
    (b'{"source": "customers", "since": "2024-01-01"}', 409,
     "customers has no succeeded batch ingested on or after 2024-01-01 to reprocess"),
    (b'{"source": "nope"}', 404, "unknown source 'nope'; known: customers, product_reviews, products, sales_transactions, sensor_readings_push, sensor_readings_stream, "
                                 "supplier_invoices"),
])
def test_bad_requests_answer_their_status_and_say_why(api, raw, status, error):
    got = request(api, "POST", "/pipelines", raw=raw)
    assert got == (status, {"error": error})
    check("/pipelines", "POST", status, got[1])


def test_unknown_pipelines_and_queries(api):
    assert request(api, "GET", "/pipelines/products.20240101T000000Z-00000000") == (
        404, {"error": "no pipeline products.20240101T000000Z-00000000"})
    assert request(api, "GET", "/pipelines/nobatch") == (
        404, {"error": "no pipeline 'nobatch': a pipeline id is <source>.<batch_id>"})
    assert request(api, "GET", "/pipelines?status=done") == (
        422, {"error": "status must be one of running, succeeded, failed, not 'done'"})
    assert request(api, "GET", "/pipelines?source=nope") == (404, {"error": "unknown source 'nope'"})
    check("/pipelines/{pipeline_id}", "GET", 404, {"error": "x"})


def test_a_run_starts_refuses_overlap_and_is_listed(api):
    status, started = request(api, "POST", "/pipelines",
                              {"source": "products", "input": "sources/samples/products_data.json"})
    assert status == 202, started
    check("/pipelines", "POST", 202, started)
    pipeline = started["pipeline_id"]
    assert started == {"pipeline_id": pipeline, "source": "products", "status": "running"}
    assert pipeline.startswith("products.")
    # the run is in flight (Spark takes seconds): the source does not run twice at once
    again = request(api, "POST", "/pipelines", {"source": "products", "input": "sources/samples/products_data.json"})
    assert again == (409, {"error": f"products is already running (pipeline {pipeline}); a source runs one "
                                    "pipeline at a time"})

    deadline = time.monotonic() + 300
    while True:
        status, record = request(api, "GET", f"/pipelines/{pipeline}")
        assert status == 200
        check("/pipelines/{pipeline_id}", "GET", 200, record)
        if record["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert record["status"] == "succeeded", record
    assert (record["stage"], record["rows_in"], record["rows_loaded"], record["rows_quarantined"],
            record["rows_duplicate"], record["quality_score"], record["error"]) == ("done", 10, 10, 0, 0, 1.0, None)
    assert set(record["seconds"]) == {"land", "transform", "load"}

    # the same file again was processed already
    assert request(api, "POST", "/pipelines", {"source": "products", "input": "sources/samples/products_data.json"}) \
        == (409, {"error": f"this input was processed before as pipeline {pipeline}"})

    status, listing = request(api, "GET", "/pipelines?status=succeeded&source=products&limit=1")
    assert status == 200
    check("/pipelines", "GET", 200, listing)
    assert [p["pipeline_id"] for p in listing["pipelines"]] == [pipeline]
    assert listing["next"] is None
    assert request(api, "GET", "/pipelines?status=failed")[1] == {"pipelines": [], "next": None}
