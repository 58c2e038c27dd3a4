"""The load step of the deployed pipeline: the generated Redshift SQL through the Redshift Data API.

The state machine calls this Lambda twice over: `{"action": "start", ...}` submits the source's ddl.sql
and load.sql (placeholders filled in) as one BatchExecuteStatement, which the Data API runs as a single
transaction; `{"action": "status", "statement_id": ...}` reports how it is going, and raises LoadFailed
when Redshift rejected it. A batch whose transform kept no rows is not loaded (COPY of an empty manifest
fails in Redshift), as in local runs.

Environment: ONBOARD_SOURCE, ONBOARD_LAKE (see lake.lake_from_env), ONBOARD_COPY_ROLE_ARN (a role ARN or
a chain), ONBOARD_REDSHIFT_DATABASE and either ONBOARD_REDSHIFT_WORKGROUP (Serverless, IAM auth) or
ONBOARD_REDSHIFT_CLUSTER with ONBOARD_REDSHIFT_DB_USER (provisioned); ONBOARD_SQL_DIR holds ddl.sql
and load.sql (default: `redshift/` in the Lambda task root).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from framework.runtime.lake import lake_from_env, s3_uri
from framework.runtime.load_sql import load_batch

log = logging.getLogger(__name__)
RUNNING = ("SUBMITTED", "PICKED", "STARTED")


class LoadFailed(RuntimeError):
    """Redshift ran the load and rejected it; the transaction was rolled back."""


def sql_dir(environ: Mapping[str, str]) -> Path:
    default = Path(environ.get("LAMBDA_TASK_ROOT", ".")) / "redshift"
    return Path(environ.get("ONBOARD_SQL_DIR", str(default)))


def target(environ: Mapping[str, str]) -> dict[str, str]:
    """Where the Data API runs the statements: a Serverless workgroup or a provisioned cluster."""
    found = {"Database": environ["ONBOARD_REDSHIFT_DATABASE"]}
    if environ.get("ONBOARD_REDSHIFT_WORKGROUP"):
        found["WorkgroupName"] = environ["ONBOARD_REDSHIFT_WORKGROUP"]
    elif environ.get("ONBOARD_REDSHIFT_CLUSTER"):
        found["ClusterIdentifier"] = environ["ONBOARD_REDSHIFT_CLUSTER"]
        found["DbUser"] = environ["ONBOARD_REDSHIFT_DB_USER"]
    else:
        raise LookupError("set ONBOARD_REDSHIFT_WORKGROUP, or ONBOARD_REDSHIFT_CLUSTER and ONBOARD_REDSHIFT_DB_USER")
    return found


def read_summary(summary_uri: str, s3: Any) -> dict[str, Any]:
    parsed = urlparse(summary_uri)
    body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    return json.loads(body)


def start(event: Mapping[str, Any], environ: Mapping[str, str], data_api: Any, s3: Any) -> dict[str, Any]:
    """Submit the batch's load; SKIPPED when the transform kept no rows."""
    source = environ["ONBOARD_SOURCE"]
    manifests_bucket, manifests_prefix = lake_from_env(environ)["manifests"]
    summary = read_summary(event["summary_uri"], s3)
    counts = {k: summary.get(k, 0) for k in ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")}
    if summary.get("files", 0) == 0:
        log.info("batch %s of %s kept no rows: nothing to load", event["batch_id"], source)
        return {"status": "SKIPPED", "statement_id": None, "rows": counts}
    folder = sql_dir(environ)
    statements, comments_left_out = load_batch(
        (folder / "ddl.sql").read_text(encoding="utf-8"), (folder / "load.sql").read_text(encoding="utf-8"),
        manifest_uri=event["manifest_uri"], iam_role_arn=environ["ONBOARD_COPY_ROLE_ARN"],
        manifest_prefix=s3_uri(manifests_bucket, manifests_prefix))
    if comments_left_out:
        log.warning("%d COMMENT ON statement(s) do not fit in the load batch and were left out", comments_left_out)
    response = data_api.batch_execute_statement(
        Sqls=statements, StatementName=f"onboard-{source}-{event['batch_id']}"[:500],
        ClientToken=event["batch_id"], **target(environ))
    log.info("submitted the load of batch %s of %s as statement %s", event["batch_id"], source, response["Id"])
    return {"status": "SUBMITTED", "statement_id": response["Id"], "rows": counts}


def status(event: Mapping[str, Any], data_api: Any) -> dict[str, Any]:
    """FINISHED, or still running (SUBMITTED, PICKED, STARTED); LoadFailed when FAILED or ABORTED."""
    described = data_api.describe_statement(Id=event["statement_id"])
    state = described["Status"]
    if state in ("FAILED", "ABORTED"):
        raise LoadFailed(f"load statement {event['statement_id']} {state.lower()}: "
                         f"{described.get('Error', 'no error text')}"[:1000])
    return {"status": state, "statement_id": event["statement_id"]}


def handler(event: dict[str, Any], context: Any = None, *, data_api: Any = None, s3: Any = None) -> dict[str, Any]:
    if data_api is None or s3 is None:
        import boto3

        data_api = data_api or boto3.client("redshift-data")
        s3 = s3 or boto3.client("s3")
    action = event.get("action")
    if action == "start":
        return start(event, os.environ, data_api, s3)
    if action == "status":
        return status(event, data_api)
    raise ValueError(f"unknown action {action!r}; valid: start, status")
