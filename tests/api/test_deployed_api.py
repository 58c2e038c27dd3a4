"""The deployed pipeline API's Lambda (`framework.runtime.pipeline_api.handler`) on API Gateway proxy events,
over moto's Step Functions and a DynamoDB run ledger; answers checked against the OpenAPI document."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from framework.runtime.batch import Batch, LandedObject, new_batch_id
from framework.runtime.ledger import DynamoRunLedger, RunRecord
from framework.runtime.orchestration import pipeline_input
from framework.runtime.pipeline_api import DeployedBackend, handler, load_catalog, reprocess_input, route
from framework.runtime.pipeline_runs import PipelineRuns
from tests.api.openapi_check import check
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

NOW = datetime(2024, 12, 1, 9, 0, 0, tzinfo=UTC)
BUCKETS = {"ONBOARD_BUCKET_RAW": "acme-raw", "ONBOARD_BUCKET_PROCESSED": "acme-processed",
           "ONBOARD_BUCKET_QUARANTINE": "acme-quarantine", "ONBOARD_BUCKET_CURATED": "acme-curated"}
ROWS = {"rows_in": 5, "rows_loaded": 4, "rows_quarantined": 1, "rows_duplicate": 0}


def lake(source: str) -> dict:
    return json.loads((REPO / f"generated/{source}/manifest.json").read_text())["lake"]


def proxy(method: str, path: str, body: str | None = None, query: dict | None = None) -> dict:
    return {"httpMethod": method, "path": path, "resource": path, "body": body, "isBase64Encoded": False,
            "queryStringParameters": query, "requestContext": {"requestId": "r-1"}}


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """moto with the ledger table, one state machine per source and the Lambda's environment."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_run_ledger_table(dynamodb, "acme-runs")
        stepfunctions = boto3.client("stepfunctions")
        machines = {}
        for source in ("customers", "sales_transactions", "product_reviews"):
            machines[source] = stepfunctions.create_state_machine(
                name=f"acme-{source}", roleArn="arn:aws:iam::123456789012:role/acme-states",
                definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
        catalog = {"customers": {"kind": "s3_file", "load_mode": "merge"},
                   "sales_transactions": {"kind": "s3_file", "load_mode": "append"},
                   "product_reviews": {"kind": "rest_api", "load_mode": "merge",
                                       "connector": "acme-product_reviews-land"}}
        catalog = {name: {**entry, "state_machine": f"acme-{name}", "lake": lake(name)}
                   for name, entry in catalog.items()}
        (tmp_path / "api_sources.json").write_text(json.dumps(catalog))
        for name, value in {**BUCKETS, "ONBOARD_LEDGER_TABLE": "acme-runs",
                            "ONBOARD_API_SOURCES": str(tmp_path / "api_sources.json"),
                            "ONBOARD_STATE_MACHINE_ARN_PREFIX": "arn:aws:states:eu-west-1:123456789012:stateMachine:",
                            }.items():
            monkeypatch.setenv(name, value)
        yield DynamoRunLedger("acme-runs", dynamodb), stepfunctions, machines


def call(method: str, path: str, body: object = None, query: dict | None = None, raw: str | None = None):
    answer = handler(proxy(method, path, raw if raw is not None else
                           (json.dumps(body) if body is not None else None), query))
    assert answer["headers"] == {"Content-Type": "application/json"}
    return answer["statusCode"], json.loads(answer["body"])


def test_a_file_source_starts_its_state_machine_on_the_named_raw_object(aws):
    ledger, stepfunctions, machines = aws
    uri = "s3://acme-raw/customers/ingest_date=2024-12-01/upload.json"
    status, started = call("POST", "/pipelines", {"source": "customers", "input": uri})
    assert status == 202
    check("/pipelines", "POST", 202, started)
    batch_id = started["pipeline_id"].removeprefix("customers.")
    assert started == {"pipeline_id": f"customers.{batch_id}", "source": "customers", "status": "running"}
    [execution] = stepfunctions.list_executions(stateMachineArn=machines["customers"])["executions"]
    assert execution["name"] == batch_id
    execution_input = json.loads(stepfunctions.describe_execution(executionArn=execution["executionArn"])["input"])
    key = "customers/ingest_date=2024-12-01/upload.json"
    batch = Batch("customers", batch_id, execution_input["ingest_time"],
                  [LandedObject("acme-raw", key, uri, f"acme-raw/{key}")])
    assert execution_input == pipeline_input(batch, {"raw": ("acme-raw", "customers/"),
                                                     "processed": ("acme-processed", "customers/"),
                                                     "manifests": ("acme-processed", "_manifests/customers/"),
                                                     "quarantine": ("acme-quarantine", "customers/")})

    # the state machine's first state records the batch: the API answers it, and refuses a second start
    PipelineRuns(ledger, s3=None, clock=lambda: NOW).start(execution_input)
    status, record = call("GET", f"/pipelines/customers.{batch_id}")
    assert status == 200
    check("/pipelines/{pipeline_id}", "GET", 200, record)
    assert (record["status"], record["stage"], record["rows_in"], record["error"]) == ("running", "transform", 0, None)
    assert call("POST", "/pipelines", {"source": "customers", "input": uri}) == (
        409, {"error": f"customers is already running (pipeline customers.{batch_id}); a source runs one pipeline "
                       "at a time"})
    assert len(stepfunctions.list_executions(stateMachineArn=machines["customers"])["executions"]) == 1


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"source": "customers", "input": "s3://elsewhere/customers/x.json"}, 422,
     "input must be an object of the raw zone under s3://acme-raw/customers/"),
    ({"source": "customers", "input": "/tmp/x.json"}, 422,
     "input must be an S3 object URI (s3://bucket/key), not '/tmp/x.json'"),
    ({"source": "customers"}, 422, "customers is a file source: give input (s3://bucket/key)"),
    ({"source": "products", "input": "s3://acme-raw/products/x.json"}, 404,
     "unknown source 'products'; known: customers, product_reviews, sales_transactions"),
    ({"source": "customers", "input": "s3://acme-raw/customers/x", "since": "2024-11-01"}, 422,
     "give input (process that object) or since (reprocess), not both"),
    ({"source": "sales_transactions", "since": "2024-11-01"}, 409,
     "sales_transactions has no succeeded batch ingested on or after 2024-11-01 to reprocess"),
])
def test_refusals_start_nothing(aws, body, status, error):
    _, stepfunctions, machines = aws
    assert call("POST", "/pipelines", body) == (status, {"error": error})
    check("/pipelines", "POST", status, {"error": error})
    for machine in machines.values():
        assert stepfunctions.list_executions(stateMachineArn=machine)["executions"] == []


def test_a_source_whose_stack_is_not_deployed_is_404(aws):
    _, stepfunctions, machines = aws
    stepfunctions.delete_state_machine(stateMachineArn=machines["customers"])
    uri = "s3://acme-raw/customers/ingest_date=2024-12-01/upload.json"
    assert call("POST", "/pipelines", {"source": "customers", "input": uri}) == (
        404, {"error": "no state machine acme-customers: is the source deployed (onboard deploy)?"})


def test_a_malformed_body_is_400(aws):
    assert call("POST", "/pipelines", raw="source=customers") == (
        400, {"error": "the body is not JSON: Expecting value: line 1 column 1 (char 0)"})


def test_since_reprocesses_a_merge_source_and_refuses_an_append_one(aws):
    ledger, stepfunctions, machines = aws
    old = "20241116T100000Z-1a2b3c4d"
    first = {"source": "customers", "batch_id": old, "objects": ["s3://acme-raw/customers/x.json"],
             "glue_arguments": {"--batch_id": old, "--manifest": f"s3://acme-processed/_manifests/customers/{old}.m"},
             "manifest_uri": f"s3://acme-processed/_manifests/customers/{old}.m"}
    stepfunctions.start_execution(stateMachineArn=machines["customers"], name=old, input=json.dumps(first))
    ledger.put(RunRecord("customers", old, "succeeded", "done", "2024-11-16T10:00:00Z", rows=ROWS))
    ledger.put(RunRecord("sales_transactions", old, "succeeded", "done", "2024-11-16T10:00:00Z", rows=ROWS))

    status, started = call("POST", "/pipelines", {"source": "customers", "since": "2024-11-16"})
    assert status == 202
    new_id = started["pipeline_id"].removeprefix("customers.")
    arn = machines["customers"].replace(":stateMachine:", ":execution:") + f":{new_id}"
    assert json.loads(stepfunctions.describe_execution(executionArn=arn)["input"]) == reprocess_input(first, old, new_id)

    assert call("POST", "/pipelines", {"source": "sales_transactions", "since": "2024-11-16"}) == (
        409, {"error": "sales_transactions appends: reprocessing would load its rows a second time; use "
                       "`onboard run --reprocess --deployed --yes`"})


def test_runs_are_listed_newest_first_filtered_and_paged(aws):
    ledger, _, _ = aws
    ids = [new_batch_id(datetime(2024, 11, day, tzinfo=UTC), str(day)) for day in (10, 11, 12, 13)]
    ledger.put(RunRecord("customers", ids[0], "succeeded", "done", rows=ROWS, quality_score=0.8,
                         seconds={"transform": 61.5, "load": 4.25}))
    ledger.put(RunRecord("customers", ids[1], "failed", "load", error="LoadFailed: column count"))
    ledger.put(RunRecord("sales_transactions", ids[2], "succeeded", "done", rows=ROWS))
    ledger.put(RunRecord("customers", ids[3], "succeeded", "done", rows=ROWS))
    ledger.claim_object("customers", "acme-raw/x", "e", ids[3])  # not a run

    status, page = call("GET", "/pipelines", query={"limit": "2"})
    assert status == 200
    check("/pipelines", "GET", 200, page)
    assert [p["pipeline_id"] for p in page["pipelines"]] == [f"customers.{ids[3]}", f"sales_transactions.{ids[2]}"]
    status, rest = call("GET", "/pipelines", query={"limit": "2", "next": page["next"]})
    assert [p["pipeline_id"] for p in rest["pipelines"]] == [f"customers.{ids[1]}", f"customers.{ids[0]}"]
    assert rest["next"] is None

    _, succeeded = call("GET", "/pipelines", query={"status": "succeeded", "source": "customers"})
    assert succeeded["pipelines"][1] == {
        "pipeline_id": f"customers.{ids[0]}", "source": "customers", "batch_id": ids[0], "status": "succeeded",
        "stage": "done", "rows_in": 5, "rows_loaded": 4, "rows_quarantined": 1, "rows_duplicate": 0,
        "quality_score": 0.8, "seconds": {"transform": 61.5, "load": 4.25}, "error": None, "ingest_time": None,
        "updated_at": succeeded["pipelines"][1]["updated_at"], "reprocess_of": None}
    _, failed = call("GET", f"/pipelines/customers.{ids[1]}")
    assert (failed["status"], failed["stage"], failed["error"]) == ("failed", "load", "LoadFailed: column count")
    assert call("GET", "/pipelines", query={"limit": "0"}) == (422, {"error": "limit must be between 1 and 100"})
    assert call("GET", "/pipelines", query={"next": "garbage"}) == (422, {"error": "next is not a token this API gave"})
    assert call("GET", "/pipelines/customers.nope") == (404, {"error": "no pipeline customers.nope"})
    assert call("DELETE", "/pipelines/x")[0] == 404


def test_the_lambda_serves_the_document(aws):
    from tests.api.openapi_check import document

    assert call("GET", "/openapi.json") == (200, document())


class Invocations:
    """A Lambda client that records the asynchronous invocations it is asked for."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def invoke(self, **request):
        self.calls.append(request)
        return {"StatusCode": 202}


def test_a_rest_source_fetches_now_through_its_connector_under_the_pipeline_id_answered(aws):
    import os

    ledger, stepfunctions, machines = aws
    invocations = Invocations()
    backend = DeployedBackend(ledger, stepfunctions, load_catalog(os.environ), os.environ, clock=lambda: NOW,
                              lambda_client=invocations)
    status, started = route("POST", "/pipelines", {}, json.dumps({"source": "product_reviews"}), backend)
    assert status == 202
    check("/pipelines", "POST", 202, started)
    batch_id = started["pipeline_id"].removeprefix("product_reviews.")
    assert batch_id.startswith("20241201T090000Z-")
    event = {"source": "onboard.pipeline-api", "detail-type": "Pipeline API request", "id": batch_id,
             "time": "2024-12-01T09:00:00Z", "batch_id": batch_id}
    assert invocations.calls == [{"FunctionName": "acme-product_reviews-land", "InvocationType": "Event",
                                  "Payload": json.dumps(event).encode()}]
    assert stepfunctions.list_executions(stateMachineArn=machines["product_reviews"])["executions"] == []
