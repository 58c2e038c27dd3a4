"""The load step of the deployed pipeline: the generated Redshift SQL through the Redshift Data API.

Before the load, `{"action": "migrate"}` brings the table to the schema version of the deployed
`schema.lock.json`, one step per call (see framework.runtime.migrations), each step polled like a load.
The state machine then calls this Lambda twice over: `{"action": "start", ...}` submits the source's ddl.sql
and load.sql (placeholders filled in) as one BatchExecuteStatement, which the Data API runs as a single
transaction; `{"action": "status", "statement_id": ...}` reports how it is going, and raises LoadFailed
when Redshift rejected it. A batch whose transform kept no rows is not loaded (COPY of an empty manifest
fails in Redshift), as in local runs.

Environment: ONBOARD_SOURCE, ONBOARD_LAKE (see lake.lake_from_env), ONBOARD_COPY_ROLE_ARN (a role ARN or
a chain), ONBOARD_REDSHIFT_DATABASE and either ONBOARD_REDSHIFT_WORKGROUP with ONBOARD_REDSHIFT_SECRET_ARN
(Serverless: the loader user's secret, the Data API's SecretArn) or ONBOARD_REDSHIFT_CLUSTER with
ONBOARD_REDSHIFT_DB_USER (provisioned: the Data API's DbUser). Every source's loader connects as that one
user, so what one load creates the next can use; ONBOARD_SQL_DIR holds ddl.sql,
load.sql, schema.lock.json and migrations/ (default: `redshift/` in the Lambda task root).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from framework.runtime.lake import lake_from_env, s3_uri
from framework.runtime.load_sql import MAX_BATCH_STATEMENTS, load_batch
from framework.runtime.migrations import locked_table, next_step, read_migrations, record_finished

log = logging.getLogger(__name__)
RUNNING = ("SUBMITTED", "PICKED", "STARTED")


class LoadFailed(RuntimeError):
    """Redshift ran the load and rejected it; the transaction was rolled back."""


class MigrationFailed(RuntimeError):
    """A schema migration (or its bookkeeping) failed; the load does not run."""


def sql_dir(environ: Mapping[str, str]) -> Path:
    default = Path(environ.get("LAMBDA_TASK_ROOT", ".")) / "redshift"
    return Path(environ.get("ONBOARD_SQL_DIR", str(default)))


def target(environ: Mapping[str, str]) -> dict[str, str]:
    """Where and as whom the Data API runs the statements: the loader user of a Serverless workgroup (its
    secret) or of a provisioned cluster (its name)."""
    found = {"Database": environ["ONBOARD_REDSHIFT_DATABASE"]}
    if environ.get("ONBOARD_REDSHIFT_WORKGROUP") and environ.get("ONBOARD_REDSHIFT_SECRET_ARN"):
        found["WorkgroupName"] = environ["ONBOARD_REDSHIFT_WORKGROUP"]
        found["SecretArn"] = environ["ONBOARD_REDSHIFT_SECRET_ARN"]
    elif environ.get("ONBOARD_REDSHIFT_CLUSTER") and environ.get("ONBOARD_REDSHIFT_DB_USER"):
        found["ClusterIdentifier"] = environ["ONBOARD_REDSHIFT_CLUSTER"]
        found["DbUser"] = environ["ONBOARD_REDSHIFT_DB_USER"]
    else:
        raise LookupError("set ONBOARD_REDSHIFT_WORKGROUP and ONBOARD_REDSHIFT_SECRET_ARN (Serverless), or "
                          "ONBOARD_REDSHIFT_CLUSTER and ONBOARD_REDSHIFT_DB_USER (provisioned cluster)")
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
    """FINISHED, or still running (SUBMITTED, PICKED, STARTED); LoadFailed when FAILED or ABORTED
    (MigrationFailed for a migration step: ``"step": "migrate"``)."""
    described = data_api.describe_statement(Id=event["statement_id"])
    state = described["Status"]
    if state in ("FAILED", "ABORTED") and event.get("step") == "migrate":
        raise MigrationFailed(f"migration statement {event['statement_id']} {state.lower()}: "
                              f"{described.get('Error', 'no error text')}"[:1000])
    if state in ("FAILED", "ABORTED"):
        raise LoadFailed(f"load statement {event['statement_id']} {state.lower()}: "
                         f"{described.get('Error', 'no error text')}"[:1000])
    return {"status": state, "statement_id": event["statement_id"]}


class DataApiExecutor:
    """framework.runtime.migrations' Executor on the Data API, waiting for each (small) statement to finish."""

    def __init__(self, data_api: Any, where: dict[str, str], sleep: Callable[[float], None] = time.sleep,
                 timeout_seconds: float = 60.0):
        self.data_api, self.where, self.sleep, self.timeout = data_api, where, sleep, timeout_seconds

    def _wait(self, statement_id: str) -> None:
        waited = 0.0
        while True:
            described = self.data_api.describe_statement(Id=statement_id)
            if described["Status"] == "FINISHED":
                return
            if described["Status"] in ("FAILED", "ABORTED"):
                raise MigrationFailed(f"statement {statement_id} {described['Status'].lower()}: "
                                      f"{described.get('Error', 'no error text')}"[:1000])
            if waited >= self.timeout:
                raise MigrationFailed(f"statement {statement_id} did not finish within {self.timeout:.0f} s")
            self.sleep(0.5)
            waited += 0.5

    def query(self, sql: str) -> list[tuple]:
        statement_id = self.data_api.execute_statement(Sql=sql, **self.where)["Id"]
        self._wait(statement_id)
        records = self.data_api.get_statement_result(Id=statement_id)["Records"]
        return [tuple(next(iter(field.values())) for field in record) for record in records]

    def submit(self, statements: list[str]) -> str:
        """One statement alone, or several in one transaction (BatchExecuteStatement); the statement id."""
        if len(statements) == 1:
            return self.data_api.execute_statement(Sql=statements[0], **self.where)["Id"]
        if len(statements) > MAX_BATCH_STATEMENTS:  # comments are metadata: leave them out before failing
            statements = [s for s in statements if not s.upper().startswith("COMMENT ON")]
        if len(statements) > MAX_BATCH_STATEMENTS:
            raise MigrationFailed(f"{len(statements)} statements do not fit in one Data API batch "
                                  f"(at most {MAX_BATCH_STATEMENTS})")
        return self.data_api.batch_execute_statement(Sqls=statements, **self.where)["Id"]

    def transaction(self, statements: list[str]) -> None:
        self._wait(self.submit(statements))

    def single(self, statement: str) -> None:
        self._wait(self.submit([statement]))


def migrate(event: Mapping[str, Any], environ: Mapping[str, str], data_api: Any,
            sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Submit the next step towards the table's latest schema version, or report CURRENT.

    The state machine polls a SUBMITTED step with the "status" action, then calls "migrate" again with the
    step's ``record_version``: a migration that ran outside a transaction block is recorded then."""
    source = environ["ONBOARD_SOURCE"]
    folder = sql_dir(environ)
    schema, table, version = locked_table(folder / "schema.lock.json")
    migrations = read_migrations(folder / "migrations")
    executor = DataApiExecutor(data_api, target(environ), sleep)
    if event.get("record_version"):  # 0 or null: nothing to record
        record_finished(executor, source, migrations, int(event["record_version"]))
    step = next_step(executor, source, schema=schema, table=table,
                     ddl_sql=(folder / "ddl.sql").read_text(encoding="utf-8"), migrations=migrations)
    if step is None:
        return {"status": "CURRENT", "statement_id": None, "version": version, "record_version": None}
    statement_id = executor.submit(list(step.statements))
    log.info("submitted %s of %s (schema version %d) as statement %s", step.name, source, step.version,
             statement_id)
    return {"status": "SUBMITTED", "statement_id": statement_id, "version": step.version,
            "record_version": None if step.transactional else step.version}


def handler(event: dict[str, Any], context: Any = None, *, data_api: Any = None, s3: Any = None) -> dict[str, Any]:
    if data_api is None or s3 is None:
        import boto3

        data_api = data_api or boto3.client("redshift-data")
        s3 = s3 or boto3.client("s3")
    action = event.get("action")
    if action == "migrate":
        return migrate(event, os.environ, data_api)
    if action == "start":
        return start(event, os.environ, data_api, s3)
    if action == "status":
        return status(event, data_api)
    raise ValueError(f"unknown action {action!r}; valid: migrate, start, status")
