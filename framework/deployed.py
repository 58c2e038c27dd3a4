"""The deployed pipeline seen from the CLI (boto3, the caller's credentials): its run ledger and resumes.

Names are fixed by the platform's `deploy.yaml` prefix: the ledger table `<prefix>-runs` (or
`ONBOARD_LEDGER_TABLE`) and one state machine per source, `<prefix>-<source>`, whose first execution of a
batch is named by the batch id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from framework.project import Project
from framework.runtime.ledger import DynamoRunLedger, RunRecord
from framework.runtime.pipeline_runs import RESUMABLE

AWS_ERRORS = (BotoCoreError, ClientError)  # no credentials, no such table, access denied, ...


class DeployedError(RuntimeError):
    """The deployed pipeline cannot do what was asked; the message says why."""


def _prefix(project: Project) -> str:
    from onboard_cdk.settings import load_settings

    return load_settings(project.root).prefix


def ledger_table(project: Project) -> str:
    """`ONBOARD_LEDGER_TABLE`, else the platform's `<prefix>-runs`."""
    from onboard_cdk.naming import ledger_table_name

    return os.environ.get("ONBOARD_LEDGER_TABLE") or ledger_table_name(_prefix(project))


def deployed_ledger(project: Project, client: Any = None) -> DynamoRunLedger:
    return DynamoRunLedger(ledger_table(project), client)


def state_machine_arn(client: Any, name: str) -> str:
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                return machine["stateMachineArn"]
    raise DeployedError(f"no state machine named {name}: is the source deployed (onboard deploy)?")


@dataclass
class Resumed:
    source: str
    batch_id: str
    stage: str
    execution_arn: str


def resume_deployed(project: Project, source: str, batch_id: str | None, *, stepfunctions: Any = None,
                    dynamodb: Any = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Resumed:
    """Start a new execution of a failed batch (the source's latest failed one by default) from its failed stage.

    The new execution's input is the batch's first execution input plus `resume_from`; the state machine's
    `ResumeAt?` choice skips a finished transform. Only a `failed` batch is resumed: one still running or
    already succeeded is refused.
    """
    import boto3

    stepfunctions = stepfunctions or boto3.client("stepfunctions")
    ledger = deployed_ledger(project, dynamodb)
    record = _failed_record(ledger, source, batch_id)
    stage = record.stage if record.stage in RESUMABLE else "transform"
    from onboard_cdk.naming import resource_name

    machine = state_machine_arn(stepfunctions, resource_name(_prefix(project), source))
    first = machine.replace(":stateMachine:", ":execution:", 1) + ":" + record.batch_id
    try:
        original = json.loads(stepfunctions.describe_execution(executionArn=first)["input"])
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        raise DeployedError(f"the first execution of batch {record.batch_id} is gone (Step Functions keeps "
                            "closed executions for 90 days); land the input again") from None
    original.pop("resume_from", None)
    started = stepfunctions.start_execution(
        stateMachineArn=machine, name=f"{record.batch_id}-resume-{clock():%Y%m%dT%H%M%S}",
        input=json.dumps({**original, "resume_from": stage}, sort_keys=True))
    return Resumed(source, record.batch_id, stage, started["executionArn"])


def _failed_record(ledger: DynamoRunLedger, source: str, batch_id: str | None) -> RunRecord:
    if batch_id is None:
        failed = [r for r in ledger.recent(source, 100) if r.status == "failed"]
        if not failed:
            raise DeployedError(f"no failed batch of {source} in the deployed run ledger ({ledger.table})")
        return failed[0]
    record = ledger.get(source, batch_id)
    if record is None:
        raise DeployedError(f"no batch {batch_id} of {source} in the deployed run ledger ({ledger.table})")
    if record.status != "failed":
        raise DeployedError(f"batch {batch_id} of {source} is {record.status}; only a failed batch is resumed")
    return record


def warehouse_target(project: Project, secrets: Any = None) -> dict[str, str]:
    """Where the Data API runs statements for this project (deploy.yaml's warehouse), as the loaders get it:
    on Serverless as the loader user, through the platform's loader secret (looked up by its name)."""
    from onboard_cdk.naming import loader_secret_name, warehouse_name
    from onboard_cdk.settings import load_settings

    settings = load_settings(project.root)
    warehouse = settings.warehouse
    if warehouse.kind == "cluster":
        return {"Database": warehouse.database, "ClusterIdentifier": warehouse.cluster_identifier,
                "DbUser": warehouse.db_user}
    import boto3

    secret = loader_secret_name(settings.prefix)
    try:
        secret_arn = (secrets or boto3.client("secretsmanager")).describe_secret(SecretId=secret)["ARN"]
    except (BotoCoreError, ClientError) as exc:
        raise DeployedError(f"the loader secret {secret} cannot be read ({exc}); deploy the platform stack "
                            "first (docs/deploy.md)") from None
    return {"Database": warehouse.database, "WorkgroupName": warehouse_name(settings.prefix), "SecretArn": secret_arn}


def migrate_deployed(project: Project, source: str, *, data_api: Any = None,
                     sleep: Callable[[float], None] | None = None) -> list[int]:
    """Apply the source's pending schema migrations to the deployed warehouse now, through the Data API
    (the deployed loader's steps, one after the other); the migration versions that ran."""
    import time

    import boto3

    from framework.render.evolution import LOCK_FILE, MIGRATIONS_DIR
    from framework.runtime.migrations import MigrationError, locked_table, migrate, read_migrations
    from framework.runtime.warehouse_loader import DataApiExecutor, MigrationFailed

    folder = project.generated_dir / source
    schema, table, _ = locked_table(folder / LOCK_FILE)
    executor = DataApiExecutor(data_api or boto3.client("redshift-data"), warehouse_target(project),
                               sleep or time.sleep)
    try:
        return migrate(executor, source, schema=schema, table=table,
                       ddl_sql=(folder / "redshift/ddl.sql").read_text(encoding="utf-8"),
                       migrations=read_migrations(folder / MIGRATIONS_DIR))
    except (MigrationError, MigrationFailed) as exc:
        raise DeployedError(str(exc).removeprefix(f"{source}: ")) from None
