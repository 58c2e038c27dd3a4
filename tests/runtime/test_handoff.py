"""A failure between the connector's object claim and StartExecution loses nothing: the claim stays "not handed
off", so the retried event lands the object again as the claiming batch and starts (or finds) its execution.
moto S3, DynamoDB (the run ledger) and Step Functions, with the failure injected into StartExecution."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from framework.runtime import orchestration
from framework.runtime.events import s3_put_event
from framework.runtime.handler import make_handler
from framework.runtime.ledger import DynamoRunLedger
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

RAW, TABLE, REGION = "onboard-raw-1-eu", "onboard-runs", "eu-west-1"
CONFIG = REPO / "generated/sales_transactions/connector/config.json"
BODY = b"transaction_id,amount\nT1,10\n"


@pytest.fixture
def deployed(monkeypatch):
    lake = json.loads((REPO / "generated/sales_transactions/manifest.json").read_text())["lake"]
    env = {"ONBOARD_BUCKET_RAW": RAW, "ONBOARD_BUCKET_PROCESSED": "onboard-processed-1-eu",
           "ONBOARD_BUCKET_QUARANTINE": "onboard-quarantine-1-eu", "ONBOARD_BUCKET_CURATED": "onboard-curated-1-eu",
           "ONBOARD_LAKE": json.dumps(lake), "ONBOARD_LEDGER_TABLE": TABLE, "AWS_DEFAULT_REGION": REGION}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ONBOARD_LAKE_ROOT", raising=False)
    monkeypatch.delenv("ONBOARD_LEDGER_PATH", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=RAW, CreateBucketConfiguration={"LocationConstraint": REGION})
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_run_ledger_table(dynamodb, TABLE)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="onboard-sales_transactions", roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", machine)
        etag = s3.put_object(Bucket=RAW, Key="incoming/sales/day.csv", Body=BODY)["ETag"]
        yield {"s3": s3, "sfn": sfn, "dynamodb": dynamodb, "machine": machine,
               "event": s3_put_event(RAW, "incoming/sales/day.csv", len(BODY), etag), "etag": etag}


def failing_start_execution(monkeypatch, failures: int) -> list[str]:
    """StartExecution fails `failures` times with a throttle (as a transient error would), then works."""
    real, calls = orchestration.start_pipeline, []

    def start(batch, client=None):
        calls.append(batch.batch_id)
        if len(calls) <= failures:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")
        return real(batch, client)

    monkeypatch.setattr(orchestration, "start_pipeline", start)
    return calls


def clock(*moments: datetime):
    pending = list(moments)
    return lambda: pending.pop(0) if len(pending) > 1 else pending[0]


def test_a_retry_after_start_execution_failed_starts_the_claiming_batchs_execution(deployed, monkeypatch):
    calls = failing_start_execution(monkeypatch, failures=1)
    first, retry = datetime(2024, 11, 16, 10, 0, 0, tzinfo=UTC), datetime(2024, 11, 16, 10, 0, 45, tzinfo=UTC)
    handler = make_handler(CONFIG, clock=clock(first, retry))
    with pytest.raises(ClientError, match="Rate exceeded"):
        handler(deployed["event"])  # Lambda's async invoke retries the same event
    result = handler(deployed["event"])
    [batch] = result["batches"]
    assert result["skipped"] == [] and calls == [batch["batch_id"], batch["batch_id"]]
    assert batch["batch_id"].startswith("20241116T100000Z-")  # the first attempt's batch, not a new one
    assert batch["objects"][0]["key"] == f"sales_transactions/ingest_date=2024-11-16/{batch['batch_id']}.csv"
    assert deployed["s3"].get_object(Bucket=RAW, Key=batch["objects"][0]["key"])["Body"].read() == BODY
    [execution] = deployed["sfn"].list_executions(stateMachineArn=deployed["machine"])["executions"]
    assert execution["name"] == batch["batch_id"]
    claim = DynamoRunLedger(TABLE, deployed["dynamodb"]).object_claim(
        "sales_transactions", f"{RAW}/incoming/sales/day.csv", deployed["etag"])
    assert (claim.batch_id, claim.handed_off) == (batch["batch_id"], True)
    # delivered once more, the object is now processed: skipped, no second execution
    again = make_handler(CONFIG)(deployed["event"])
    assert (again["batches"], again["skipped"][0]["batch_id"]) == ([], batch["batch_id"])
    assert len(deployed["sfn"].list_executions(stateMachineArn=deployed["machine"])["executions"]) == 1


def test_a_retry_after_the_execution_started_but_the_mark_failed_finds_the_execution(deployed, monkeypatch):
    """StartExecution worked, the Lambda died before marking the claim: the retry starts nothing new."""
    ledger_type = DynamoRunLedger
    real_mark, marks = ledger_type.mark_handed_off, []

    def mark(self, *args):
        marks.append(args)
        if len(marks) == 1:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "PutItem")
        return real_mark(self, *args)

    monkeypatch.setattr(ledger_type, "mark_handed_off", mark)
    handler = make_handler(CONFIG, clock=clock(datetime(2024, 11, 16, 10, 0, 0, tzinfo=UTC),
                                              datetime(2024, 11, 16, 10, 1, 0, tzinfo=UTC)))
    with pytest.raises(ClientError, match="try again"):
        handler(deployed["event"])
    [batch] = handler(deployed["event"])["batches"]
    [execution] = deployed["sfn"].list_executions(stateMachineArn=deployed["machine"])["executions"]
    assert execution["name"] == batch["batch_id"] and batch["batch_id"].startswith("20241116T100000Z-")
    assert len(marks) == 2


def test_a_failed_copy_releases_the_claim_so_the_retry_lands_a_new_batch(deployed, monkeypatch):
    from framework.runtime.storage import S3Storage

    real_copy, copies = S3Storage.copy, []

    def copy(self, *args):
        copies.append(args)
        if len(copies) == 1:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "CopyObject")
        return real_copy(self, *args)

    monkeypatch.setattr(S3Storage, "copy", copy)
    handler = make_handler(CONFIG, clock=clock(datetime(2024, 11, 16, 10, 0, 0, tzinfo=UTC),
                                              datetime(2024, 11, 16, 10, 2, 0, tzinfo=UTC)))
    with pytest.raises(ClientError, match="slow down"):
        handler(deployed["event"])
    [batch] = handler(deployed["event"])["batches"]
    assert batch["batch_id"].startswith("20241116T100200Z-")
    assert len(deployed["sfn"].list_executions(stateMachineArn=deployed["machine"])["executions"]) == 1
