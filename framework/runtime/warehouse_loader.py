"""The load step of the deployed pipeline: the generated Redshift SQL through the Redshift Data API.

Before the load, `{"action": "migrate"}` brings the table to the schema version of the deployed
`schema.lock.json`, one step per call (see framework.runtime.migrations), each step polled like a load.
The state machine then calls this Lambda twice over: `{"action": "start", ...}` submits the source's ddl.sql
and load.sql (placeholders filled in) as one BatchExecuteStatement, which the Data API runs as a single
transaction; `{"action": "status", "statement_id": ...}` reports how it is going, and raises LoadFailed
when Redshift rejected it. A batch whose transform kept no rows is not loaded (COPY of an empty manifest
fails in Redshift), as in local runs.

Idempotency and retries:
- Every submission's Data API `ClientToken` derives from the execution (its ARN, `"execution"` in the event)
  and the statement's purpose (`load#<attempt>`), so a retried Lambda invocation of one execution submits the
  load once, while a resumed execution (another ARN) submits it anew instead of getting the failed statement
  back.
- Two loads into one table at once can fail with Redshift's serializable isolation error (`ERROR:1023 DETAIL:
  Serializable isolation violation`): the transaction was rolled back and Redshift's advice is to retry it.
  `status` resubmits such a load (after a jittered backoff, at most `MAX_LOAD_ATTEMPTS` submissions in all) and
  answers SUBMITTED with the new statement; the small synchronous statements (migration bookkeeping) retry
  the same way.

Environment: ONBOARD_SOURCE, ONBOARD_LAKE (see lake.lake_from_env), ONBOARD_COPY_ROLE_ARN (a role ARN or
a chain), ONBOARD_REDSHIFT_DATABASE and either ONBOARD_REDSHIFT_WORKGROUP with ONBOARD_REDSHIFT_SECRET_ARN
(Serverless: the loader user's secret, the Data API's SecretArn) or ONBOARD_REDSHIFT_CLUSTER with
ONBOARD_REDSHIFT_DB_USER (provisioned: the Data API's DbUser). Every source's loader connects as that one
user, so what one load creates the next can use; ONBOARD_SQL_DIR holds ddl.sql,
load.sql, schema.lock.json and migrations/ (default: `redshift/` in the Lambda task root); ONBOARD_GLUE_TABLE
(`<database>.<source>_batches`, optional): after a finished load the batch's partitions are added to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from framework.runtime.datasets import DATASETS_FILE, refresh_after_load
from framework.runtime.lake import lake_from_env, s3_uri
from framework.runtime.lake_catalog import CATALOG_TABLE_ENV, register_partitions
from framework.runtime.load_sql import MAX_BATCH_STATEMENTS, load_batch
from framework.runtime.migrations import locked_table, next_step, read_migrations, record_finished

log = logging.getLogger(__name__)
RUNNING = ("SUBMITTED", "PICKED", "STARTED")
MAX_LOAD_ATTEMPTS = 4  # submissions of one load, the first included
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 2.0, 20.0
SERIALIZABLE_ISOLATION = "serializable isolation violation"


class LoadFailed(RuntimeError):
    """Redshift ran the load and rejected it; the transaction was rolled back."""


class MigrationFailed(RuntimeError):
    """A schema migration (or its bookkeeping) failed; the load does not run."""


class SerializationConflict(MigrationFailed):
    """A statement lost a serializable isolation conflict (Redshift error 1023) more often than it is retried."""


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


def client_token(execution: str, purpose: str) -> str:
    """The Data API idempotency token of one submission: the execution and the statement's purpose, hashed (at
    most 64 characters)."""
    return hashlib.sha256(f"{execution}\x1f{purpose}".encode()).hexdigest()


def is_serialization_conflict(error: str | None) -> bool:
    """Redshift's serializable isolation error (1023): a concurrent transaction won; retrying is the remedy."""
    return SERIALIZABLE_ISOLATION in (error or "").lower()


def backoff(attempt: int, draw: Callable[[], float] = random.random) -> float:
    """Full jitter: a uniform wait up to 2 s, 4 s, 8 s ... (at most 20 s) before submission `attempt + 1`."""
    return draw() * min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1))


def _execution(event: Mapping[str, Any]) -> str:
    execution = event.get("execution")
    if not execution:
        raise ValueError("the load event names no execution (the state machine passes $$.Execution.Id)")
    return str(execution)


def start(event: Mapping[str, Any], environ: Mapping[str, str], data_api: Any, s3: Any,
          attempt: int = 1) -> dict[str, Any]:
    """Submit the batch's load (submission `attempt`); SKIPPED when the transform kept no rows."""
    source = environ["ONBOARD_SOURCE"]
    execution = _execution(event)
    manifests_bucket, manifests_prefix = lake_from_env(environ)["manifests"]
    summary = read_summary(event["summary_uri"], s3)
    counts = {k: summary.get(k, 0) for k in ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")}
    if summary.get("files", 0) == 0:
        log.info("batch %s of %s kept no rows: nothing to load", event["batch_id"], source)
        return {"status": "SKIPPED", "statement_id": None, "rows": counts, "attempt": attempt}
    folder = sql_dir(environ)
    statements, comments_left_out = load_batch(
        (folder / "ddl.sql").read_text(encoding="utf-8"), (folder / "load.sql").read_text(encoding="utf-8"),
        manifest_uri=event["manifest_uri"], iam_role_arn=environ["ONBOARD_COPY_ROLE_ARN"],
        manifest_prefix=s3_uri(manifests_bucket, manifests_prefix))
    if comments_left_out:
        log.warning("%d COMMENT ON statement(s) do not fit in the load batch and were left out", comments_left_out)
    response = data_api.batch_execute_statement(
        Sqls=statements, StatementName=f"onboard-{source}-{event['batch_id']}"[:500],
        ClientToken=client_token(execution, f"load#{attempt}"), **target(environ))
    log.info("submitted the load of batch %s of %s as statement %s (attempt %d)", event["batch_id"], source,
             response["Id"], attempt)
    return {"status": "SUBMITTED", "statement_id": response["Id"], "rows": counts, "attempt": attempt}


def status(event: Mapping[str, Any], data_api: Any, environ: Mapping[str, str] | None = None, s3: Any = None,
           sleep: Callable[[float], None] = time.sleep, glue: Any = None) -> dict[str, Any]:
    """FINISHED, or still running (SUBMITTED, PICKED, STARTED); LoadFailed when FAILED or ABORTED
    (MigrationFailed for a migration step: ``"step": "migrate"``).

    A load (the event carries the load's `batch_id`, `manifest_uri`, `summary_uri`, `execution` and `attempt`)
    that failed with the serializable isolation error is submitted again, up to `MAX_LOAD_ATTEMPTS` in all:
    the answer is then SUBMITTED with the new statement's id and attempt."""
    described = data_api.describe_statement(Id=event["statement_id"])
    state = described["Status"]
    error = described.get("Error") or "no error text"
    if state in ("FAILED", "ABORTED") and event.get("step") == "migrate":
        raise MigrationFailed(f"migration statement {event['statement_id']} {state.lower()}: {error}"[:1000])
    attempt = int(event.get("attempt") or 1)
    if state == "FAILED" and is_serialization_conflict(error) and event.get("manifest_uri") \
            and attempt < MAX_LOAD_ATTEMPTS and environ is not None:
        wait = backoff(attempt)
        log.warning("load statement %s of batch %s hit a serializable isolation conflict; submitting it again "
                    "in %.1f s (attempt %d of %d)", event["statement_id"], event.get("batch_id"), wait,
                    attempt + 1, MAX_LOAD_ATTEMPTS)
        sleep(wait)
        return {**start(event, environ, data_api, s3, attempt=attempt + 1),
                **({"rows": event["rows"]} if "rows" in event else {})}
    if state in ("FAILED", "ABORTED"):
        tried = f" after {attempt} attempts" if attempt > 1 else ""
        raise LoadFailed(f"load statement {event['statement_id']} {state.lower()}{tried}: {error}"[:1000])
    answer = {"status": state, "statement_id": event["statement_id"], "attempt": attempt,
              **({"rows": event["rows"]} if "rows" in event else {})}
    if state == "FINISHED" and event.get("manifest_uri") and environ is not None \
            and (sql_dir(environ) / DATASETS_FILE).is_file():
        answer["datasets"] = refresh_datasets(data_api, environ, sleep)
    if state == "FINISHED" and event.get("manifest_uri") and environ is not None and s3 is not None \
            and environ.get(CATALOG_TABLE_ENV):
        answer["partitions"] = catalog_partitions(event["manifest_uri"], environ, s3, glue)
    return answer


def catalog_partitions(manifest_uri: str, environ: Mapping[str, str], s3: Any, glue: Any = None) -> int | dict:
    """After a finished load: the batch's partitions in the lake catalog (framework.runtime.lake_catalog), so the
    Athena view counts what Redshift now holds. The load is committed whatever happens here: a failure is logged
    and answered as ``{"error": ...}`` (the crawler's daily run adds the partitions later)."""
    from botocore.exceptions import BotoCoreError, ClientError

    table = environ[CATALOG_TABLE_ENV]
    try:
        where = urlparse(manifest_uri)
        body = json.loads(s3.get_object(Bucket=where.netloc, Key=where.path.lstrip("/"))["Body"].read())
        if glue is None:
            import boto3

            glue = boto3.client("glue")
        return register_partitions(glue, table, [entry["url"] for entry in body.get("entries", [])])
    except (BotoCoreError, ClientError, RuntimeError, KeyError, ValueError) as exc:
        log.error("the partitions of %s in %s were not added to the catalog: %s", manifest_uri, table, exc)
        return {"error": str(exc)[:1000]}


def refresh_datasets(data_api: Any, environ: Mapping[str, str],
                     sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """After a finished load: create, refresh and export the curated datasets reading the table (see
    framework.runtime.datasets). The load is committed whatever happens here: a failure is logged and
    answered as ``{"error": ...}``, never turned into a failed load (which a retry would load again)."""
    folder = sql_dir(environ)
    schema, table, _ = locked_table(folder / "schema.lock.json")
    try:
        return refresh_after_load(DataApiExecutor(data_api, target(environ), sleep), folder, f"{schema}.{table}",
                                  environ)
    except (MigrationFailed, ValueError) as exc:
        log.error("curated datasets reading %s.%s were not brought up to date: %s", schema, table, exc)
        return {"error": str(exc)[:1000]}


class DataApiExecutor:
    """framework.runtime.migrations' Executor on the Data API, waiting for each (small) statement to finish."""

    def __init__(self, data_api: Any, where: dict[str, str], sleep: Callable[[float], None] = time.sleep,
                 timeout_seconds: float = 60.0):
        self.data_api, self.where, self.sleep, self.timeout = data_api, where, sleep, timeout_seconds

    def _run(self, submit: Callable[[], str]) -> str:
        """Submit and wait; a serializable isolation conflict is submitted again (bounded, with backoff)."""
        attempt = 1
        while True:
            try:
                statement_id = submit()
                self._wait(statement_id)
                return statement_id
            except SerializationConflict:
                if attempt >= MAX_LOAD_ATTEMPTS:
                    raise
                self.sleep(backoff(attempt))
                attempt += 1

    def _wait(self, statement_id: str) -> None:
        waited = 0.0
        while True:
            described = self.data_api.describe_statement(Id=statement_id)
            if described["Status"] == "FINISHED":
                return
            if described["Status"] == "FAILED" and is_serialization_conflict(described.get("Error")):
                raise SerializationConflict(f"statement {statement_id} failed: {described.get('Error')}"[:1000])
            if described["Status"] in ("FAILED", "ABORTED"):
                raise MigrationFailed(f"statement {statement_id} {described['Status'].lower()}: "
                                      f"{described.get('Error', 'no error text')}"[:1000])
            if waited >= self.timeout:
                raise MigrationFailed(f"statement {statement_id} did not finish within {self.timeout:.0f} s")
            self.sleep(0.5)
            waited += 0.5

    def query(self, sql: str) -> list[tuple]:
        statement_id = self._run(lambda: self.data_api.execute_statement(Sql=sql, **self.where)["Id"])
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
        self._run(lambda: self.submit(statements))

    def single(self, statement: str) -> None:
        self._run(lambda: self.submit([statement]))


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
        return status(event, data_api, os.environ, s3)
    raise ValueError(f"unknown action {action!r}; valid: migrate, start, status")
