"""The state machine's ledger task (framework.runtime.pipeline_runs) over moto DynamoDB and S3: stages with
seconds, counts and quality score from the job's summary, the failed stage and error, released claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from framework.runtime.ledger import DynamoRunLedger
from framework.runtime.pipeline_runs import ObjectClaimed, PipelineRuns, error_text, handler
from tests.runtime.conftest import create_run_ledger_table

TABLE = "onboard-runs"
BUCKET = "onboard-processed-1-eu"
BATCH = "20241116T100000Z-1a2b3c4d"
SUMMARY_KEY = f"_manifests/sales/{BATCH}.summary.json"
OBJECT = {"bucket": "onboard-raw-1-eu", "key": f"sales/ingest_date=2024-11-16/{BATCH}.csv",
          "uri": f"s3://onboard-raw-1-eu/sales/ingest_date=2024-11-16/{BATCH}.csv",
          "origin": "onboard-raw-1-eu/incoming/sales/a.csv", "etag": '"e1"', "size": 120}
RUN = {"source": "sales", "batch_id": BATCH, "ingest_time": "2024-11-16T10:00:00Z", "landed_objects": [OBJECT],
       "folder": None, "summary_uri": f"s3://{BUCKET}/{SUMMARY_KEY}"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 11, 16, 10, 0, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_run_ledger_table(dynamodb, TABLE)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield DynamoRunLedger(TABLE, dynamodb), s3


def write_summary(s3, **extra) -> None:
    summary = {"batch_id": BATCH, "rows_in": 10, "rows_loaded": 7, "rows_quarantined": 2, "rows_duplicate": 1,
               "files": 1, "quarantine_reasons": {"cast": 2}, **extra}
    s3.put_object(Bucket=BUCKET, Key=SUMMARY_KEY, Body=json.dumps(summary).encode())


def test_a_successful_execution_records_each_stage_its_seconds_counts_and_quality(aws):
    ledger, s3 = aws
    clock = Clock()
    runs = PipelineRuns(ledger, s3, clock)
    ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], BATCH)  # the connector claimed it

    assert runs.handle({"action": "start", "run": RUN, "execution": "arn:exec"}) == {"stage": "transform"}
    running = ledger.get("sales", BATCH)
    assert (running.status, running.stage, running.objects, running.ingest_time) == (
        "running", "transform", [OBJECT], "2024-11-16T10:00:00Z")

    clock.advance(42.5)
    write_summary(s3, quality={"score": 0.8, "threshold": 0.5, "passed": True, "rules": {}},
                  warnings={"payment_short": 3})
    assert runs.handle({"action": "stage", "run": RUN}) == {"stage": "load"}
    clock.advance(7.25)
    assert runs.handle({"action": "succeeded", "run": RUN}) == {"stage": "done"}

    done = ledger.get("sales", BATCH)
    assert (done.status, done.stage, done.error, done.stage_started_at) == ("succeeded", "done", None, None)
    assert done.seconds == {"transform": 42.5, "load": 7.25}
    assert done.rows == {"rows_in": 10, "rows_loaded": 7, "rows_quarantined": 2, "rows_duplicate": 1}
    assert done.quality_score == 0.8
    assert done.warnings == {"payment_short": 3}  # rows that broke a warn rule, as `onboard status --deployed` shows
    # the claim stays: the same object delivered again is not processed again
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "another") == BATCH


def test_a_failed_transform_records_stage_error_counts_and_releases_the_claims(aws):
    ledger, s3 = aws
    clock = Clock()
    runs = PipelineRuns(ledger, s3, clock)
    runs.handle({"action": "start", "run": RUN})
    clock.advance(30)
    # the quality threshold failed the job: it wrote its summary (nothing loaded), then failed
    write_summary(s3, rows_loaded=0, rows_not_loaded=7, files=0,
                  quality={"score": 0.8, "threshold": 0.9, "passed": False, "rules": {}})
    cause = json.dumps({"JobName": "onboard-sales", "JobRunState": "FAILED", "Arguments": {"--input": "s3://x"},
                        "ErrorMessage": "QualityThresholdError: quality score 0.8 is below the threshold 0.9\nTrace"})
    failed_run = {**RUN, "error": {"Error": "States.TaskFailed", "Cause": cause}}
    assert handler({"action": "failed", "run": failed_run}, ledger=ledger, s3=s3) == {"stage": "transform"}

    record = ledger.get("sales", BATCH)
    assert (record.status, record.stage) == ("failed", "transform")
    assert record.error == "States.TaskFailed: QualityThresholdError: quality score 0.8 is below the threshold 0.9"
    assert record.rows == {"rows_in": 10, "rows_loaded": 0, "rows_quarantined": 2, "rows_duplicate": 1,
                           "rows_not_loaded": 7}
    assert record.quality_score == 0.8
    assert "transform" in record.seconds
    # released: a re-delivery of the same object (same ETag) is claimed by its new batch
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "20241116T110000Z-99999999") is None


def test_a_failed_load_keeps_the_transform_counts_and_names_the_load(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    write_summary(s3)
    runs.handle({"action": "start", "run": RUN})
    runs.handle({"action": "stage", "run": RUN})
    error = {"Error": "LoadFailed", "Cause": json.dumps({"errorMessage": "load statement s1 failed: COPY mismatch",
                                                         "errorType": "LoadFailed"})}
    runs.handle({"action": "failed", "run": {**RUN, "error": error}})
    record = ledger.get("sales", BATCH)
    assert (record.status, record.stage, record.error) == ("failed", "load",
                                                           "LoadFailed: load statement s1 failed: COPY mismatch")
    # the load rolled back: the rows the job kept are counted as not loaded, so the counts still add up
    assert record.rows == {"rows_in": 10, "rows_loaded": 0, "rows_quarantined": 2, "rows_duplicate": 1,
                           "rows_not_loaded": 7}
    assert set(record.seconds) == {"transform", "load"}


def test_a_resume_starts_at_the_load_keeps_earlier_seconds_and_reclaims_the_object(aws):
    ledger, s3 = aws
    clock = Clock()
    runs = PipelineRuns(ledger, s3, clock)
    write_summary(s3)
    runs.handle({"action": "start", "run": RUN})
    clock.advance(20)
    runs.handle({"action": "stage", "run": RUN})
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "LoadFailed", "Cause": "boom"}}})

    resumed = {**RUN, "resume_from": "load", "landed_objects": []}  # a resume's input need not list them
    assert runs.handle({"action": "start", "run": resumed}) == {"stage": "load"}
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "other") == BATCH
    clock.advance(3)
    runs.handle({"action": "succeeded", "run": resumed})
    record = ledger.get("sales", BATCH)
    assert (record.status, record.stage, record.seconds, record.objects) == (
        "succeeded", "done", {"transform": 20.0, "load": 3.0}, [OBJECT])
    assert record.rows == {"rows_in": 10, "rows_loaded": 7, "rows_quarantined": 2, "rows_duplicate": 1}


def test_a_job_that_crashed_before_its_summary_fails_with_no_counts(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    runs.handle({"action": "start", "run": RUN})
    crash = {"Error": "States.TaskFailed", "Cause": json.dumps({"ErrorMessage": "Py4JJavaError: executor lost"})}
    runs.handle({"action": "failed", "run": {**RUN, "error": crash}})
    record = ledger.get("sales", BATCH)
    assert (record.status, record.stage, record.error, record.rows) == (
        "failed", "transform", "States.TaskFailed: Py4JJavaError: executor lost", {})


def test_a_resume_fails_when_the_object_was_delivered_again_meanwhile(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    runs.handle({"action": "start", "run": RUN})
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "States.TaskFailed"}}})
    ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "20241116T110000Z-99999999")
    with pytest.raises(ObjectClaimed, match="belongs to batch 20241116T110000Z-99999999"):
        runs.handle({"action": "start", "run": {**RUN, "resume_from": "transform"}})
    # the state machine's catch records the failure; the other batch's claim is not released
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "ObjectClaimed"}}})
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "third") == "20241116T110000Z-99999999"


def test_an_unknown_resume_stage_or_action_is_refused(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    with pytest.raises(ValueError, match="resume_from 'crawl' is not a stage; valid: transform, load"):
        runs.handle({"action": "start", "run": {**RUN, "resume_from": "crawl"}})
    with pytest.raises(ValueError, match="unknown action 'begin'"):
        runs.handle({"action": "begin", "run": RUN})


def test_error_text_keeps_the_name_and_the_first_line_only():
    assert error_text({"Error": "States.Timeout"}) == "States.Timeout"
    assert error_text({"Error": "X", "Cause": "first\nsecond"}) == "X: first"
    assert error_text({"Error": "X", "Cause": "y" * 400}) == "X: " + "y" * 300


def status_change(status: str, run: dict, *, error=None, cause=None, include_input: bool = True) -> dict:
    """An EventBridge "Step Functions Execution Status Change" event as Step Functions sends it."""
    arn = f"arn:aws:states:eu-west-1:123456789012:execution:onboard-sales:{BATCH}"
    return {
        "version": "0", "id": "315c1398-40ff-a850-213b-158f73e60175",
        "detail-type": "Step Functions Execution Status Change", "source": "aws.states",
        "account": "123456789012", "time": "2024-11-16T12:00:05Z", "region": "eu-west-1", "resources": [arn],
        "detail": {"executionArn": arn, "stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:"
                   "onboard-sales", "name": BATCH, "status": status, "startDate": 1731751205000,
                   "stopDate": 1731758405000, "input": json.dumps(run) if include_input else None,
                   "output": None, "inputDetails": {"included": include_input}, "outputDetails": None,
                   "error": error, "cause": cause}}


@pytest.mark.parametrize("status, error", [
    ("TIMED_OUT", "States.Timeout: the execution timed out"),
    ("ABORTED", "ExecutionAborted: the execution aborted"),
])
def test_an_execution_that_ended_without_its_catch_fails_its_batch_and_releases_the_claims(aws, monkeypatch, status,
                                                                                          error):
    ledger, s3 = aws
    clock = Clock()
    runs = PipelineRuns(ledger, s3, clock)
    ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], BATCH)
    runs.start(RUN)
    runs.finish_transform(RUN)  # the load began, then the execution stopped
    clock.advance(7200)
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", TABLE)
    monkeypatch.setenv("ONBOARD_SOURCE", "sales")
    assert handler(status_change(status, RUN), ledger=ledger, s3=s3) == {"recorded": True, "stage": "load"}
    record = ledger.get("sales", BATCH)
    assert (record.status, record.stage) == ("failed", "load")
    assert record.error.startswith(error) and f"execution:onboard-sales:{BATCH}" in record.error
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "redelivered") is None  # released


def test_a_failure_its_catch_recorded_is_left_as_recorded(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    runs.start(RUN)
    runs.failed({**RUN, "error": {"Error": "LoadFailed", "Cause": '{"errorMessage": "permission denied"}'}})
    event = status_change("FAILED", RUN, error="LoadFailed", cause="permission denied")
    assert runs.handle(event, "sales") == {"recorded": False, "reason": "batch already failed"}
    assert ledger.get("sales", BATCH).error == "LoadFailed: permission denied"


def test_an_execution_without_its_input_is_found_by_its_name_and_other_sources_are_ignored(aws):
    ledger, s3 = aws
    runs = PipelineRuns(ledger, s3, Clock())
    ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], BATCH)
    runs.start(RUN)
    assert runs.handle(status_change("FAILED", RUN), "customers") == {"recorded": False,
                                                                       "reason": "not a batch of this source"}
    assert runs.handle(status_change("SUCCEEDED", RUN), "sales")["recorded"] is False
    result = runs.handle(status_change("FAILED", RUN, error="States.Runtime", cause="bad path",
                                       include_input=False), "sales")
    assert result == {"recorded": True, "stage": "transform"}
    record = ledger.get("sales", BATCH)
    assert (record.status, record.error) == ("failed", "States.Runtime: bad path")
    assert ledger.claim_object("sales", OBJECT["origin"], OBJECT["etag"], "again") is None
