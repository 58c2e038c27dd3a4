"""The deployed state machine's run ledger task: the same records the local runner keeps, per batch.

The state machine invokes this Lambda with `{"action": ..., "run": <the execution's state>}`:

- `start` (first state): the batch is `running` at the stage it starts from (`transform`, or the
  execution input's `resume_from`: `transform | load`); its landed objects are recorded and claimed again
  (a resumed batch whose object was re-delivered meanwhile as another batch fails with `ObjectClaimed`; a
  reprocess, whose input names `reprocess_of`, records it and leaves the objects to the original's claims).
  Returns `{"stage"}`, which the state machine's choice follows.
- `stage` (after the transform): the transform's seconds, the counts and quality score of the Glue job's
  summary, and the next stage (`load`) begins.
- `succeeded` (after the load): the load's seconds and the summary's counts; `stage` becomes `done`.
- `failed` (the catch): the failed stage's seconds, the error (`$.error`: its name and the first line of
  the job's or function's message), the counts when the job wrote its summary (a failed load's rows are
  `rows_not_loaded`, docs/contracts.md), and the batch's object claims are released so a re-delivery of
  the same object is processed.

- an EventBridge "Step Functions Execution Status Change" event (FAILED, TIMED_OUT, ABORTED) of the source's
  state machine: an execution that ended without its catch (timed out, aborted, or failed outside a task)
  leaves its batch `running`; it is marked failed as above (the error says how the execution ended) and its
  claims are released. A batch no longer `running` (its catch recorded it) is left as it is.

Once a batch succeeded or failed, its metrics are published to CloudWatch (`framework.runtime.metrics`:
one PutMetricData call; a publishing error is logged, never raised).

Times come from this function's clock: a stage's seconds run from the ledger write that began it to the
one that ended it. Environment: ONBOARD_LEDGER_TABLE (and ONBOARD_SOURCE, to ignore another source's executions).
Standard library and boto3 only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from framework.runtime import metrics
from framework.runtime.ledger import DynamoRunLedger, RunLedger, RunRecord

log = logging.getLogger(__name__)
RESUMABLE = ("transform", "load")
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
ENDED_WITHOUT_CATCH = {"FAILED": "ExecutionFailed", "TIMED_OUT": "States.Timeout", "ABORTED": "ExecutionAborted"}
COUNTS = ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_not_loaded")
ERROR_TEXT_LIMIT = 300


class ObjectClaimed(RuntimeError):
    """A resumed batch's object was claimed by another batch (it was delivered again after the failure)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class PipelineRuns:
    """The actions of the ledger task over a run ledger, an S3 client (for summaries) and a clock; with a
    CloudWatch client, each batch's outcome is also published as metrics."""

    def __init__(self, ledger: RunLedger, s3: Any, clock: Callable[[], datetime] = _now,
                 cloudwatch: Any = None) -> None:
        self.ledger, self.s3, self.clock, self.cloudwatch = ledger, s3, clock, cloudwatch

    def handle(self, event: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
        if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
            return self.execution_ended(event["detail"], source)
        action, run = event.get("action"), event.get("run") or {}
        if action == "start":
            return self.start(run, event.get("execution"))
        if action == "stage":
            return self.finish_transform(run)
        if action == "succeeded":
            return self.succeeded(run)
        if action == "failed":
            return self.failed(run)
        raise ValueError(f"unknown action {action!r}; valid: start, stage, succeeded, failed")

    def start(self, run: Mapping[str, Any], execution: str | None = None) -> dict[str, Any]:
        stage = run.get("resume_from") or "transform"
        if stage not in RESUMABLE:
            raise ValueError(f"resume_from {stage!r} is not a stage; valid: {', '.join(RESUMABLE)}")
        source, batch_id = run["source"], run["batch_id"]
        record = self.ledger.get(source, batch_id) or RunRecord(source, batch_id, "running")
        objects = list(run.get("landed_objects") or record.objects)
        record.reprocess_of = run.get("reprocess_of") or record.reprocess_of
        for obj in [] if record.reprocess_of else objects:  # a reprocess reads objects its original batch claimed
            owner = self.ledger.claim_object(source, obj["origin"], obj.get("etag"), batch_id)
            if owner not in (None, batch_id):
                raise ObjectClaimed(f"{obj['origin']} was delivered again and belongs to batch {owner}")
        record.status, record.stage, record.error = "running", stage, None
        record.ingest_time = run.get("ingest_time") or record.ingest_time
        record.objects = objects
        if run.get("folder"):
            record.folder = run["folder"]
        if stage == "transform":  # a fresh start (or a re-run of the transform) forgets the old counts
            record.rows, record.quality_score = {}, None
        record.stage_started_at = _stamp(self.clock())
        self.ledger.put(record)
        log.info("batch %s of %s running from %s (execution %s)", batch_id, source, stage, execution)
        return {"stage": stage}

    def finish_transform(self, run: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(run)
        self._close_stage(record)
        self._counts_from_summary(record, run)
        record.stage, record.stage_started_at = "load", _stamp(self.clock())
        self.ledger.put(record)
        return {"stage": "load"}

    def succeeded(self, run: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(run)
        self._close_stage(record)
        self._counts_from_summary(record, run)  # also after a resume, which may follow a failed load's counts
        record.status, record.stage, record.stage_started_at = "succeeded", "done", None
        self.ledger.put(record)
        self._publish(record, run)
        return {"stage": "done"}

    def failed(self, run: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(run)
        self._close_stage(record)
        if not record.rows:
            self._counts_from_summary(record, run)
        if record.stage == "load" and record.rows.get("rows_loaded"):  # the load rolled back: none is in the table
            record.rows = {**record.rows, "rows_loaded": 0, "rows_not_loaded": record.rows["rows_loaded"]}
        record.status, record.stage_started_at = "failed", None
        record.error = error_text(run.get("error") or {})
        self.ledger.put(record)
        for obj in record.objects:
            self.ledger.release_object(record.source, obj["origin"], obj.get("etag"), record.batch_id)
        self._publish(record, run)
        log.info("batch %s of %s failed at %s: %s", record.batch_id, record.source, record.stage, record.error)
        return {"stage": record.stage}

    def execution_ended(self, detail: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
        """An execution that failed, timed out or was aborted: its batch, if still `running`, is failed and its
        object claims released. The batch comes from the execution's input (the name is the batch id of a
        first execution, when EventBridge left an input over 248 KB out)."""
        status = str(detail.get("status"))
        if status not in ENDED_WITHOUT_CATCH:
            return {"recorded": False, "reason": f"status {status}"}
        run = execution_input(detail)
        run_source = run.get("source") or source
        batch_id = run.get("batch_id") or detail.get("name")
        if not run_source or not batch_id or (source and run_source != source):
            return {"recorded": False, "reason": "not a batch of this source"}
        record = self.ledger.get(run_source, batch_id)
        if record is not None and record.status != "running":
            return {"recorded": False, "reason": f"batch already {record.status}"}
        error = {"Error": detail.get("error") or ENDED_WITHOUT_CATCH[status],
                 "Cause": detail.get("cause") or f"the execution {status.lower().replace('_', ' ')} "
                                                  f"({detail.get('executionArn', 'unknown execution')})"}
        stage = self.failed({**run, "source": run_source, "batch_id": batch_id, "error": error})["stage"]
        return {"recorded": True, "stage": stage}

    def _record(self, run: Mapping[str, Any]) -> RunRecord:
        found = self.ledger.get(run["source"], run["batch_id"])
        return found or RunRecord(run["source"], run["batch_id"], "running", stage="transform")

    def _close_stage(self, record: RunRecord) -> None:
        if record.stage_started_at and record.stage in RESUMABLE:
            elapsed = (self.clock() - _parse(record.stage_started_at)).total_seconds()
            record.seconds = {**record.seconds, record.stage: round(elapsed, 3)}

    def _publish(self, record: RunRecord, run: Mapping[str, Any]) -> None:
        """The batch's outcome as CloudWatch metrics (one call; a failure is logged, not raised). The Glue run
        time is the transform stage's seconds, unless this execution resumed at the load (no transform ran)."""
        if self.cloudwatch is None:
            return
        transform_ran = run.get("resume_from") != "load"
        try:
            data = metrics.batch_metrics(
                record.source, succeeded=record.status == "succeeded", rows=record.rows,
                quality_score=record.quality_score, at=self.clock(),
                glue_seconds=record.seconds.get("transform") if transform_ran else None)
        except (TypeError, ValueError) as error:  # counts the ledger could not read as numbers
            log.warning("no metrics for batch %s of %s: %s", record.batch_id, record.source, error)
            return
        metrics.publish(self.cloudwatch, data)

    def _counts_from_summary(self, record: RunRecord, run: Mapping[str, Any]) -> None:
        """The Glue job's summary (also written when the quality threshold failed the job), if there is one."""
        summary = read_summary(run.get("summary_uri"), self.s3)
        if summary is None:
            return
        record.rows = {k: int(summary[k]) for k in COUNTS if k in summary}
        quality = summary.get("quality")
        if quality:
            record.quality_score = float(quality["score"])
        record.warnings = dict(summary.get("warnings") or {}) or None


def read_summary(uri: str | None, s3: Any) -> dict[str, Any] | None:
    """The job's summary, or None when it wrote none (without s3:ListBucket a missing key is AccessDenied)."""
    if not uri:
        return None
    from botocore.exceptions import ClientError

    parsed = urlparse(uri)
    try:
        body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied", "404", "403"):
            return None
        raise
    return json.loads(body)


def execution_input(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The execution input of a status change event (a JSON string; absent or null when too large)."""
    text = detail.get("input")
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def error_text(error: Mapping[str, Any]) -> str:
    """`<Error>: <first line of the message>` from a Step Functions catch (`{"Error", "Cause"}`).

    The Cause of a Glue job is its JobRun (JSON, `ErrorMessage`); of a Lambda, `{"errorMessage", ...}`;
    otherwise it is text. Only the message's first line is kept, at most 300 characters: never the input.
    """
    name = str(error.get("Error") or "States.TaskFailed")
    cause = error.get("Cause") or ""
    message = cause
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict):
        message = parsed.get("ErrorMessage") or parsed.get("errorMessage") or ""
    first = str(message).strip().splitlines()[0] if str(message).strip() else ""
    return f"{name}: {first[:ERROR_TEXT_LIMIT]}" if first else name


def handler(event: dict[str, Any], context: Any = None, *, ledger: RunLedger | None = None,
            s3: Any = None, cloudwatch: Any = None) -> dict[str, Any]:
    import boto3

    ledger = ledger or DynamoRunLedger(os.environ["ONBOARD_LEDGER_TABLE"])
    s3 = s3 or boto3.client("s3")
    cloudwatch = cloudwatch or boto3.client("cloudwatch")
    return PipelineRuns(ledger, s3, cloudwatch=cloudwatch).handle(event, os.environ.get("ONBOARD_SOURCE"))
