"""The pipeline's custom CloudWatch metrics: names, units and the per-batch payload.

Every metric is in the namespace `Onboard` with one dimension, `Source` (the source's name). The CDK app's
dashboards and alarms (onboard_cdk.dashboards, onboard_cdk.freshness) and the Lambdas that publish read the
names from here, so a renamed metric cannot leave a dashboard graphing nothing.

Per batch, when its outcome is recorded in the run ledger (`framework.runtime.pipeline_runs`: RecordSuccess,
RecordFailure, or the rule on executions that ended without their catch), the ledger Lambda publishes one
`PutMetricData` call timestamped when the outcome was recorded (`batch_metrics`):

| metric            | unit    | value                                                                        |
|-------------------|---------|------------------------------------------------------------------------------|
| BatchesSucceeded  | Count   | 1 when the batch loaded, else 0                                              |
| BatchesFailed     | Count   | 1 when the batch failed (any stage, timed out, aborted), else 0              |
| RowsIn            | Count   | rows read from the batch's input (`rows_in`)                                 |
| RowsLoaded        | Count   | rows in the table after the load (`rows_loaded`; 0 for a failed batch)       |
| RowsQuarantined   | Count   | rows rejected by casts or `error` quality rules (`rows_quarantined`)         |
| DuplicatesDropped | Count   | rows dropped as duplicates inside the batch (`rows_duplicate`)               |
| QualityScore      | Percent | 100 x (rows_in - rows_quarantined) / rows_in (100 for an empty batch): the   |
|                   |         | run's quality score (the Glue job's `quality.score`) as a percentage         |
| GlueRunSeconds    | Seconds | the transform stage's wall time: Glue job run start to end, as the ledger    |
|                   |         | timed it (queueing and start-up included); absent when the execution resumed |
|                   |         | at the load (its transform ran earlier)                                      |

The row counts and the score are published only when the Glue job wrote its summary (a job that crashed
before it has no counts: only BatchesFailed = 1 is published). `MinutesSinceLastLoad` (unit None) is
published every 5 minutes by a source's freshness check (`framework.runtime.freshness`), not per batch.

Publishing never fails the pipeline: an error (throttling, a missing permission, no network) is logged and
the ledger write that came before it stands. Local runs (`onboard run`) publish nothing.
Standard library and boto3 only: this module ships inside the Lambda assets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

NAMESPACE = "Onboard"
DIMENSION = "Source"
STANDARD_RESOLUTION = 60

BATCHES_SUCCEEDED = "BatchesSucceeded"
BATCHES_FAILED = "BatchesFailed"
ROWS_IN = "RowsIn"
ROWS_LOADED = "RowsLoaded"
ROWS_QUARANTINED = "RowsQuarantined"
DUPLICATES_DROPPED = "DuplicatesDropped"
QUALITY_SCORE = "QualityScore"
GLUE_RUN_SECONDS = "GlueRunSeconds"
MINUTES_SINCE_LAST_LOAD = "MinutesSinceLastLoad"

# Published once per batch (a datum each, when known), in this order.
BATCH_METRICS = (BATCHES_SUCCEEDED, BATCHES_FAILED, ROWS_IN, ROWS_LOADED, ROWS_QUARANTINED, DUPLICATES_DROPPED,
                 QUALITY_SCORE, GLUE_RUN_SECONDS)
UNITS = {BATCHES_SUCCEEDED: "Count", BATCHES_FAILED: "Count", ROWS_IN: "Count", ROWS_LOADED: "Count",
         ROWS_QUARANTINED: "Count", DUPLICATES_DROPPED: "Count", QUALITY_SCORE: "Percent",
         GLUE_RUN_SECONDS: "Seconds", MINUTES_SINCE_LAST_LOAD: "None"}
# The ledger's row counts (`RunRecord.rows`) behind each count metric.
ROW_COUNTS = {ROWS_IN: "rows_in", ROWS_LOADED: "rows_loaded", ROWS_QUARANTINED: "rows_quarantined",
              DUPLICATES_DROPPED: "rows_duplicate"}


def dimensions(source: str) -> list[dict[str, str]]:
    return [{"Name": DIMENSION, "Value": source}]


def quality_percent(rows: Mapping[str, int], score: float | None) -> float | None:
    """The batch's quality score as a percentage: the job's score when it computed one, else the same
    definition from the counts ((rows_in - rows_quarantined) / rows_in; 100 for an empty batch); None
    without counts."""
    if score is None:
        if "rows_in" not in rows:
            return None
        rows_in = int(rows["rows_in"])
        score = (rows_in - int(rows.get("rows_quarantined", 0))) / rows_in if rows_in else 1.0
    return round(float(score) * 100, 2)


def batch_metrics(source: str, *, succeeded: bool, rows: Mapping[str, int], quality_score: float | None,
                  glue_seconds: float | None, at: datetime) -> list[dict[str, Any]]:
    """The MetricData of one batch's outcome (see the module's table), all timestamped `at`."""
    values: dict[str, float] = {BATCHES_SUCCEEDED: 1 if succeeded else 0, BATCHES_FAILED: 0 if succeeded else 1}
    if "rows_in" in rows:
        for metric, count in ROW_COUNTS.items():
            values[metric] = int(rows.get(count, 0))
    quality = quality_percent(rows, quality_score)
    if quality is not None:
        values[QUALITY_SCORE] = quality
    if glue_seconds is not None:
        values[GLUE_RUN_SECONDS] = round(float(glue_seconds), 3)
    return [{"MetricName": name, "Dimensions": dimensions(source), "Timestamp": at, "Value": value,
             "Unit": UNITS[name], "StorageResolution": STANDARD_RESOLUTION} for name, value in values.items()]


def publish(cloudwatch: Any, metric_data: list[dict[str, Any]]) -> bool:
    """One PutMetricData call in the Onboard namespace; False (logged, never raised) when it failed."""
    try:
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=metric_data)
    except Exception as error:  # a metric is not worth a failed load: whatever went wrong is logged
        names = ", ".join(d["MetricName"] for d in metric_data)
        log.warning("could not publish the metrics %s to CloudWatch (%s: %s); the run is recorded all the same",
                    names, type(error).__name__, error)
        return False
    return True
