"""`onboard run SOURCE --resume [BATCH] --deployed` and `onboard status --deployed` against moto Step Functions
and DynamoDB: the deployed ledger is read, and a failed batch gets a new execution from its failed stage."""

from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework.cli import main
from framework.runtime.ledger import DynamoRunLedger, RunRecord
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

SOURCE = "sales_transactions"
FAILED = "20241116T100000Z-1a2b3c4d"
OLDER = "20241115T100000Z-0a0a0a0a"
DONE = "20241117T100000Z-2b2b2b2b"
ROLE = "arn:aws:iam::123456789012:role/onboard-states"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
FIRST_INPUT = {"source": SOURCE, "batch_id": FAILED, "ingest_time": "2024-11-16T10:00:00Z", "files": 1,
               "objects": ["s3://raw/x.csv"], "glue_arguments": {"--batch_id": FAILED},
               "manifest_uri": "s3://p/m", "summary_uri": "s3://p/s"}


@pytest.fixture
def deployed(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("ONBOARD_LEDGER_TABLE", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_run_ledger_table(dynamodb, "onboard-runs")
        ledger = DynamoRunLedger("onboard-runs", dynamodb)
        ledger.put(RunRecord(SOURCE, OLDER, "failed", stage="transform", error="States.TaskFailed"))
        ledger.put(RunRecord(SOURCE, FAILED, "failed", stage="load", seconds={"transform": 61.0, "load": 2.5},
                             rows={"rows_in": 5, "rows_loaded": 5, "rows_quarantined": 0, "rows_duplicate": 0},
                             error="LoadFailed: load statement s1 failed: COPY mismatch"))
        ledger.put(RunRecord(SOURCE, DONE, "succeeded", stage="done", quality_score=1.0))
        stepfunctions = boto3.client("stepfunctions")
        machine = stepfunctions.create_state_machine(name=f"onboard-{SOURCE}", definition=DEFINITION,
                                                     roleArn=ROLE)["stateMachineArn"]
        stepfunctions.create_state_machine(name="onboard-customers", definition=DEFINITION, roleArn=ROLE)
        for batch in (OLDER, FAILED):
            stepfunctions.start_execution(stateMachineArn=machine, name=batch,
                                          input=json.dumps({**FIRST_INPUT, "batch_id": batch}))
        yield stepfunctions, machine


def cli(*args: str):
    return CliRunner().invoke(main, ["--project", str(REPO), *args], catch_exceptions=False)


def executions(stepfunctions, machine) -> dict[str, dict]:
    listed = stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    return {e["name"]: json.loads(stepfunctions.describe_execution(executionArn=e["executionArn"])["input"])
            for e in listed}


def test_resume_deployed_starts_a_new_execution_from_the_failed_stage(deployed):
    stepfunctions, machine = deployed
    result = cli("run", SOURCE, "--resume", FAILED, "--deployed", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert (answer["batch_id"], answer["resume_from"]) == (FAILED, "load")
    [resumed] = [name for name in executions(stepfunctions, machine) if name.startswith(f"{FAILED}-resume-")]
    assert answer["execution"].endswith(f":{resumed}")
    assert len(resumed) == len(f"{FAILED}-resume-20241116T100000")
    assert executions(stepfunctions, machine)[resumed] == {**FIRST_INPUT, "resume_from": "load"}


def test_resume_deployed_without_a_batch_takes_the_latest_failed_one(deployed):
    stepfunctions, machine = deployed
    result = cli("run", SOURCE, "--resume", "--deployed")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"resumed {SOURCE} batch {FAILED} from load: arn:aws:states:eu-west-1:")


def test_a_batch_failed_in_the_transform_resumes_from_the_transform(deployed):
    stepfunctions, machine = deployed
    result = cli("run", SOURCE, "--resume", OLDER, "--deployed", "--json")
    assert json.loads(result.output)["resume_from"] == "transform"
    [resumed] = [name for name in executions(stepfunctions, machine) if name.startswith(f"{OLDER}-resume-")]
    assert executions(stepfunctions, machine)[resumed]["resume_from"] == "transform"


def test_only_a_failed_batch_is_resumed(deployed):
    result = cli("run", SOURCE, "--resume", DONE, "--deployed")
    assert result.exit_code == 1
    assert f"batch {DONE} of {SOURCE} is succeeded; only a failed batch is resumed" in result.output
    result = cli("run", SOURCE, "--resume", "20200101T000000Z-00000000", "--deployed")
    assert result.exit_code == 1
    assert "no batch 20200101T000000Z-00000000 of sales_transactions in the deployed run ledger (onboard-runs)" \
        in result.output


def test_deployed_needs_resume():
    result = CliRunner().invoke(main, ["--project", str(REPO), "run", SOURCE, "--deployed"])
    assert result.exit_code == 2 and "--deployed applies to --resume" in result.output


def test_status_deployed_lists_the_deployed_ledger_newest_first(deployed):
    result = cli("status", SOURCE, "--deployed", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["batch_id"], r["status"], r["stage"]) for r in records] == [
        (DONE, "succeeded", "done"), (FAILED, "failed", "load"), (OLDER, "failed", "transform")]
    assert records[1]["seconds"] == {"transform": 61.0, "load": 2.5}
    assert records[1]["error"] == "LoadFailed: load statement s1 failed: COPY mismatch"
    text = cli("status", "--deployed", "--limit", "2").output
    assert text.splitlines() == [
        f"{DONE}  {SOURCE}  succeeded  0 in, 0 loaded, 0 quarantined, 0 duplicate",
        f"{FAILED}  {SOURCE}  failed at load  5 in, 5 loaded, 0 quarantined, 0 duplicate",
        "    LoadFailed: load statement s1 failed: COPY mismatch",
    ]


def test_status_deployed_without_the_table_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", "missing-runs")
    with mock_aws():
        result = CliRunner().invoke(main, ["--project", str(REPO), "status", "--deployed"])
    assert result.exit_code == 1
    assert result.output.startswith("deployed run ledger: An error occurred (ResourceNotFoundException)")
