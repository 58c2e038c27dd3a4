"""Each batch's outcome as CloudWatch metrics (framework.runtime.metrics), published by the ledger Lambda
(framework.runtime.pipeline_runs) over moto: the exact PutMetricData payload of a success, of failures with and
without counts, of a resumed load; one call per batch; a publishing error never fails the ledger write."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from framework.runtime import metrics
from framework.runtime.pipeline_runs import PipelineRuns, handler
from tests.runtime.test_pipeline_runs import BATCH, RUN, TABLE, Clock, aws, status_change, write_summary

__all__ = ["aws"]  # the moto fixture of the ledger task's tests

SOURCE = [{"Name": "Source", "Value": "sales"}]
QUALITY = {"score": 0.8, "threshold": 0.5, "passed": True, "rules": {}}


class Recorded:
    """A moto CloudWatch client that also keeps the parameters of every PutMetricData call."""

    def __init__(self) -> None:
        self.client = boto3.client("cloudwatch")
        self.calls: list[dict] = []
        self.client.meta.events.register("provide-client-params.cloudwatch.PutMetricData",
                                         lambda params, **_: self.calls.append(json.loads(json.dumps(
                                             params, default=lambda v: v.isoformat()))))


def datum(name: str, value: float, unit: str, at: datetime) -> dict:
    return {"MetricName": name, "Dimensions": SOURCE, "Timestamp": at.isoformat(), "Value": value, "Unit": unit,
            "StorageResolution": 60}


def test_a_loaded_batch_publishes_its_counts_quality_and_glue_time_in_one_call(aws):
    ledger, s3 = aws
    cloudwatch, clock = Recorded(), Clock()
    runs = PipelineRuns(ledger, s3, clock, cloudwatch=cloudwatch.client)
    runs.handle({"action": "start", "run": RUN})
    clock.advance(42.5)
    write_summary(s3, quality=QUALITY)
    runs.handle({"action": "stage", "run": RUN})
    clock.advance(7.25)
    assert cloudwatch.calls == []  # nothing before the batch's outcome
    assert runs.handle({"action": "succeeded", "run": RUN}) == {"stage": "done"}

    at = clock.now
    assert cloudwatch.calls == [{"Namespace": "Onboard", "MetricData": [
        datum("BatchesSucceeded", 1, "Count", at), datum("BatchesFailed", 0, "Count", at),
        datum("RowsIn", 10, "Count", at), datum("RowsLoaded", 7, "Count", at),
        datum("RowsQuarantined", 2, "Count", at), datum("DuplicatesDropped", 1, "Count", at),
        datum("QualityScore", 80.0, "Percent", at), datum("GlueRunSeconds", 42.5, "Seconds", at)]}]
    # moto accepted them: what CloudWatch returns for the batch's minute
    stats = cloudwatch.client.get_metric_statistics(
        Namespace="Onboard", MetricName="RowsLoaded", Dimensions=SOURCE, StartTime=at - timedelta(minutes=1),
        EndTime=at + timedelta(minutes=1), Period=60, Statistics=["Sum"])["Datapoints"]
    assert [(p["Sum"], p["Unit"]) for p in stats] == [(7.0, "Count")]
    listed = cloudwatch.client.list_metrics(Namespace="Onboard")["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == sorted(metrics.UNITS.keys() - {"MinutesSinceLastLoad"})
    assert all(m["Dimensions"] == SOURCE for m in listed)


def test_a_failed_transform_publishes_batches_failed_with_the_counts_of_its_summary(aws):
    ledger, s3 = aws
    cloudwatch, clock = Recorded(), Clock()
    runs = PipelineRuns(ledger, s3, clock, cloudwatch=cloudwatch.client)
    runs.handle({"action": "start", "run": RUN})
    clock.advance(30)
    write_summary(s3, rows_loaded=0, rows_not_loaded=7, quality={**QUALITY, "threshold": 0.9, "passed": False})
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "States.TaskFailed"}}})

    at = clock.now
    assert cloudwatch.calls == [{"Namespace": "Onboard", "MetricData": [
        datum("BatchesSucceeded", 0, "Count", at), datum("BatchesFailed", 1, "Count", at),
        datum("RowsIn", 10, "Count", at), datum("RowsLoaded", 0, "Count", at),
        datum("RowsQuarantined", 2, "Count", at), datum("DuplicatesDropped", 1, "Count", at),
        datum("QualityScore", 80.0, "Percent", at), datum("GlueRunSeconds", 30.0, "Seconds", at)]}]


def test_a_failure_without_a_summary_publishes_only_the_outcome_and_the_glue_time(aws):
    ledger, s3 = aws
    cloudwatch, clock = Recorded(), Clock()
    runs = PipelineRuns(ledger, s3, clock, cloudwatch=cloudwatch.client)
    runs.handle({"action": "start", "run": RUN})
    clock.advance(12)
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "States.TaskFailed"}}})
    at = clock.now
    assert cloudwatch.calls == [{"Namespace": "Onboard", "MetricData": [
        datum("BatchesSucceeded", 0, "Count", at), datum("BatchesFailed", 1, "Count", at),
        datum("GlueRunSeconds", 12.0, "Seconds", at)]}]


def test_a_failed_load_counts_nothing_loaded_and_its_resume_publishes_no_glue_time(aws):
    ledger, s3 = aws
    cloudwatch, clock = Recorded(), Clock()
    runs = PipelineRuns(ledger, s3, clock, cloudwatch=cloudwatch.client)
    write_summary(s3)  # no quality block: the score comes from the counts, (10 - 2) / 10
    runs.handle({"action": "start", "run": RUN})
    clock.advance(20)
    runs.handle({"action": "stage", "run": RUN})
    runs.handle({"action": "failed", "run": {**RUN, "error": {"Error": "LoadFailed", "Cause": "boom"}}})
    resumed = {**RUN, "resume_from": "load", "landed_objects": []}
    runs.handle({"action": "start", "run": resumed})
    clock.advance(3)
    runs.handle({"action": "succeeded", "run": resumed})

    failed, succeeded = ({d["MetricName"]: d["Value"] for d in call["MetricData"]} for call in cloudwatch.calls)
    assert failed == {"BatchesSucceeded": 0, "BatchesFailed": 1, "RowsIn": 10, "RowsLoaded": 0, "RowsQuarantined": 2,
                      "DuplicatesDropped": 1, "QualityScore": 80.0, "GlueRunSeconds": 20.0}
    assert succeeded == {"BatchesSucceeded": 1, "BatchesFailed": 0, "RowsIn": 10, "RowsLoaded": 7,
                         "RowsQuarantined": 2, "DuplicatesDropped": 1, "QualityScore": 80.0}  # the transform ran before


def test_an_execution_that_timed_out_publishes_once_and_a_recorded_failure_not_again(aws, monkeypatch):
    ledger, s3 = aws
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", TABLE)
    monkeypatch.setenv("ONBOARD_SOURCE", "sales")
    cloudwatch = Recorded()
    runs = PipelineRuns(ledger, s3, Clock(), cloudwatch=cloudwatch.client)
    runs.start(RUN)
    assert handler(status_change("TIMED_OUT", RUN), ledger=ledger, s3=s3, cloudwatch=cloudwatch.client)["recorded"]
    assert handler(status_change("FAILED", RUN), ledger=ledger, s3=s3, cloudwatch=cloudwatch.client) == {
        "recorded": False, "reason": "batch already failed"}
    assert [[(d["MetricName"], d["Value"]) for d in c["MetricData"][:2]] for c in cloudwatch.calls] == [
        [("BatchesSucceeded", 0), ("BatchesFailed", 1)]]


def test_the_lambda_handler_publishes_with_its_own_client(aws):
    ledger, s3 = aws
    write_summary(s3)
    handler({"action": "start", "run": RUN}, ledger=ledger, s3=s3)
    handler({"action": "succeeded", "run": RUN}, ledger=ledger, s3=s3)
    listed = boto3.client("cloudwatch").list_metrics(Namespace="Onboard", MetricName="RowsLoaded")["Metrics"]
    assert listed == [{"Namespace": "Onboard", "MetricName": "RowsLoaded", "Dimensions": SOURCE}]


@pytest.mark.parametrize("action", ["succeeded", "failed"])
def test_a_metrics_failure_is_logged_and_the_batch_is_recorded_all_the_same(aws, caplog, action):
    ledger, s3 = aws
    cloudwatch = boto3.client("cloudwatch")
    stubber = Stubber(cloudwatch)
    stubber.add_client_error("put_metric_data", service_error_code="AccessDenied", http_status_code=403,
                             service_message="not authorized to perform: cloudwatch:PutMetricData")
    write_summary(s3)
    runs = PipelineRuns(ledger, s3, Clock(), cloudwatch=cloudwatch)
    runs.handle({"action": "start", "run": RUN})
    with stubber, caplog.at_level(logging.WARNING, logger="framework.runtime.metrics"):
        runs.handle({"action": action, "run": {**RUN, "error": {"Error": "States.TaskFailed"}}})
    stubber.assert_no_pending_responses()  # the call was made, and failed
    assert ledger.get("sales", BATCH).status == action
    [message] = [r.getMessage() for r in caplog.records if r.name == "framework.runtime.metrics"]
    assert message.startswith("could not publish the metrics BatchesSucceeded, BatchesFailed, RowsIn, RowsLoaded")
    assert "(ClientError: An error occurred (AccessDenied)" in message
    assert message.endswith("the run is recorded all the same")


def test_quality_percent_from_the_score_or_the_counts():
    assert metrics.quality_percent({"rows_in": 10, "rows_quarantined": 2}, 0.3333) == 33.33
    assert metrics.quality_percent({"rows_in": 8, "rows_quarantined": 2}, None) == 75.0
    assert metrics.quality_percent({"rows_in": 0, "rows_quarantined": 0}, None) == 100.0
    assert metrics.quality_percent({}, None) is None


def test_batch_metrics_are_standard_resolution_with_the_batch_timestamp():
    at = datetime(2024, 11, 16, 10, 5, tzinfo=UTC)
    data = metrics.batch_metrics("sales", succeeded=True, rows={}, quality_score=None, glue_seconds=None, at=at)
    assert data == [{"MetricName": "BatchesSucceeded", "Dimensions": SOURCE, "Timestamp": at, "Value": 1,
                     "Unit": "Count", "StorageResolution": 60},
                    {"MetricName": "BatchesFailed", "Dimensions": SOURCE, "Timestamp": at, "Value": 0,
                     "Unit": "Count", "StorageResolution": 60}]
