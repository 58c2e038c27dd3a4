"""A rehearsal: the deployed pipeline of sources, executed offline (see framework/rehearse/__init__.py).

`Rehearsal` is a context manager: inside it moto mocks AWS, the platform's resources (lake buckets, run
ledger table, alert topic, queues, secrets, Glue catalog, crawlers) exist under their deployed names, every
rehearsed source's state machine is created from its template, and the fakes answer Lambda, Glue job runs
and the Redshift Data API. `deliver` hands an input to a source's connector as its trigger would and waits
for every execution the connector started; each ends as one `ExecutionSummary`.

The state machine definition is the template's, with one change: Wait states wait 0 seconds (the fakes
finish every job and statement before they answer, so the first poll sees the end).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.local.runner import environment
from framework.project import Project
from framework.rehearse import faults, moto_fixes
from framework.rehearse.assembly import ACCOUNT, REGION, Assembly, AssemblyError, Stack
from framework.rehearse.data_api import DataApi
from framework.rehearse.endpoints import Endpoints, ServiceError
from framework.rehearse.glue_runs import GlueService, jobs_of
from framework.rehearse.lake import LakeBridge
from framework.rehearse.lambdas import Function, LambdaService, functions_of, outside_assets
from framework.rehearse.triggers import deliver_trigger, execution_status_event, fire_schedules, publish_event
from framework.runtime.ledger import DynamoRunLedger, SqliteRunLedger

EXECUTION_TIMEOUT_SECONDS = 1800
COUNTS = ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")


class RehearsalError(RuntimeError):
    """The rehearsal could not run (not an execution that failed); the message says why."""


@dataclass
class ExecutionSummary:
    source: str
    batch_id: str | None
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    states: list[str] = field(default_factory=list)
    glue_job_runs: list[dict[str, Any]] = field(default_factory=list)
    execution: str | None = None
    error: str | None = None
    failed_state: str | None = None
    seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class SourcePipeline:
    """One rehearsed source: its stack, functions and state machine."""

    name: str
    stack: Stack
    functions: dict[str, Function]
    state_machine_arn: str
    definition: dict[str, Any]
    connector: Function


def rehearsal_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """The template's definition with every Wait state waiting 0 seconds (the only change)."""
    states = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Wait":
            state = {k: v for k, v in state.items() if k not in ("Seconds", "SecondsPath", "Timestamp",
                                                                     "TimestampPath")} | {"Seconds": 0}
        states[name] = state
    return {**definition, "States": states}


class Rehearsal:
    def __init__(self, project: Project, assembly: Assembly, sources: list[str], fail_at: str | None = None) -> None:
        self.project, self.assembly, self.source_names, self.fail_at = project, assembly, sources, fail_at
        self.pipelines: dict[str, SourcePipeline] = {}
        self.alerts_queue_url = ""
        self._stack = contextlib.ExitStack()

    # -- setup ---------------------------------------------------------------------------------
    def __enter__(self) -> Rehearsal:
        try:
            return self._start()
        except BaseException:
            self._stack.close()
            raise

    def _start(self) -> Rehearsal:
        import boto3
        from moto import mock_aws

        self._stack.enter_context(environment(  # moto's fake credentials, never the caller's
            AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN=None, AWS_PROFILE=None,
            AWS_DEFAULT_REGION=REGION))
        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                                   "core": {"reset_boto3_session": True}}))
        self._stack.enter_context(moto_fixes.glue_sync_endpoint())
        self._stack.enter_context(moto_fixes.quiet_interpreter())
        boto3.setup_default_session(region_name=REGION)
        self.session = boto3.DEFAULT_SESSION
        self.s3 = boto3.client("s3")
        self.sfn = boto3.client("stepfunctions")
        self.dynamodb = boto3.client("dynamodb")
        platform = self.assembly.platform
        self.buckets = self._create_platform(platform)
        self.lake = LakeBridge(self.s3, self.project.lake_dir, self.buckets)
        self.project.state_dir.mkdir(parents=True, exist_ok=True)
        self.data_api = DataApi(self.project.warehouse_path, self.lake.localize)
        functions: dict[str, Function] = {}
        jobs = {}
        for name in self.source_names:
            stack = self.assembly.source(name)
            functions.update(functions_of(stack))
            jobs.update(jobs_of(stack))
        self.lambdas = LambdaService(functions)
        self.glue = GlueService(jobs, self.lake, exclusive=outside_assets)
        endpoints = Endpoints(around=outside_assets)
        for service in (self.lambdas, self.glue, self.data_api):
            service.register(endpoints)
        for name in self.source_names:
            self.pipelines[name] = self._create_source(self.assembly.source(name), functions)
            if self.fail_at:
                try:
                    faults.inject(self, self.pipelines[name], self.fail_at, endpoints)
                except ValueError as error:
                    raise RehearsalError(str(error)) from None
        endpoints.install(self.session)
        self.ledger = DynamoRunLedger(self.ledger_table, self.dynamodb)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def _create_platform(self, platform: Stack) -> dict[str, str]:
        """Buckets, ledger table, alert topic (with a queue that keeps what it publishes), Glue database."""
        zones = {}
        for logical_id in platform.of_type("AWS::S3::Bucket"):
            name = platform.physical_name(logical_id)
            self.s3.create_bucket(Bucket=name)
            zone = name.removeprefix(self.prefix + "-").split("-")[0]
            zones[name] = zone
        [(table_id, table)] = platform.of_type("AWS::DynamoDB::Table").items()
        properties = platform.resolve(table["Properties"])
        self.ledger_table = platform.physical_name(table_id)
        self.dynamodb.create_table(TableName=self.ledger_table, KeySchema=properties["KeySchema"],
                                   AttributeDefinitions=properties["AttributeDefinitions"],
                                   BillingMode="PAY_PER_REQUEST")
        sns = self.session.client("sns")
        sqs = self.session.client("sqs")
        self.alerts_queue_url = sqs.create_queue(QueueName="rehearsal-alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.alerts_queue_url,
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for logical_id in platform.of_type("AWS::SNS::Topic"):
            topic = sns.create_topic(Name=platform.physical_name(logical_id))["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                          Attributes={"RawMessageDelivery": "false"})
        glue = self.session.client("glue")
        for database in platform.of_type("AWS::Glue::Database").values():
            name = platform.resolve(database["Properties"])["DatabaseInput"]["Name"]
            glue.create_database(DatabaseInput={"Name": name})
        return {name: zone for name, zone in zones.items() if zone in ("raw", "processed", "curated", "quarantine")}

    @property
    def prefix(self) -> str:
        from onboard_cdk.settings import load_settings

        return load_settings(self.project.root).prefix

    def _create_source(self, stack: Stack, functions: dict[str, Function]) -> SourcePipeline:
        glue = self.session.client("glue")
        for table in stack.of_type("AWS::Glue::Table").values():  # <source>_batches (the loader adds partitions)
            properties = stack.resolve(table["Properties"])        # and the view <source>
            glue.create_table(DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"])
        for crawler in stack.of_type("AWS::Glue::Crawler").values():
            properties = stack.resolve(crawler["Properties"])
            glue.create_crawler(Name=properties["Name"], Role=properties["Role"],
                                DatabaseName=properties["DatabaseName"], Targets=properties["Targets"])
        sqs = self.session.client("sqs")
        for logical_id in stack.of_type("AWS::SQS::Queue"):
            sqs.create_queue(QueueName=stack.physical_name(logical_id))
        secrets = self.session.client("secretsmanager")
        manifest = json.loads((self.project.generated_dir / stack.construct_id.removeprefix("Source-") /
                               "manifest.json").read_text(encoding="utf-8"))
        for name in manifest.get("secrets", []):
            value = _local_secret(self.project, name)
            if value is not None:
                with contextlib.suppress(secrets.exceptions.ResourceExistsException):
                    secrets.create_secret(Name=name, SecretString=value)
        [(machine_id, machine)] = stack.of_type("AWS::StepFunctions::StateMachine").items()
        properties = stack.resolve(machine["Properties"])
        definition = json.loads(properties["DefinitionString"])
        arn = self.sfn.create_state_machine(
            name=stack.physical_name(machine_id), roleArn=properties["RoleArn"],
            definition=json.dumps(rehearsal_definition(definition)))["stateMachineArn"]
        if arn != stack.ref(machine_id):
            raise RehearsalError(f"the state machine is {arn}, the template says {stack.ref(machine_id)}")
        [connector] = [f for f in {id(f): f for f in functions.values()}.values()
                       if f.handler.startswith("connector.") and f.name in {stack.physical_name(i) for i in
                                                                            stack.of_type("AWS::Lambda::Function")}]
        return SourcePipeline(stack.construct_id.removeprefix("Source-"), stack, functions, arn, definition,
                              connector)

    # -- running ---------------------------------------------------------------------------------
    def deliver(self, source: str, input_path: Path | None) -> list[ExecutionSummary]:
        """Deliver `input_path` through the source's trigger to its connector, then fire the stack's other
        schedules once (a buffered source's flush); summarize every execution started (in start order)."""
        pipeline = self.pipelines[source]
        before = self._execution_arns(pipeline)
        deliver_trigger(self, pipeline, input_path)
        fire_schedules(pipeline)
        started = [arn for arn in self._execution_arns(pipeline) if arn not in before]
        return [self.wait(pipeline, arn) for arn in started]

    def _execution_arns(self, pipeline: SourcePipeline) -> list[str]:
        found = []
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=pipeline.state_machine_arn):
            found += [e["executionArn"] for e in page["executions"]]
        return sorted(found, key=lambda arn: self.sfn.describe_execution(executionArn=arn)["startDate"])

    def wait(self, pipeline: SourcePipeline, execution_arn: str) -> ExecutionSummary:
        """Wait for an execution to end and summarize it from its history and the run ledger."""
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise RehearsalError(f"execution {execution_arn} still running after {EXECUTION_TIMEOUT_SECONDS} s")
            time.sleep(0.05)
        run = json.loads(described["input"])
        if described["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):  # EventBridge tells the stack's rules
            publish_event(pipeline, execution_status_event(described))
        states = self.states_entered(execution_arn)
        summary = ExecutionSummary(pipeline.name, run.get("batch_id"), described["status"].lower(), states=states,
                                   execution=described["name"])
        summary.seconds = round((described["stopDate"] - described["startDate"]).total_seconds(), 3)
        batch_ids = set(run.get("batch_ids") or [run.get("batch_id")])
        summary.glue_job_runs = [{"id": r.id, "state": r.state, "seconds": r.seconds,
                                  **({"error": r.error} if r.error else {})}
                                 for r in self.glue.runs_of({b for b in batch_ids if b})
                                 if r.started >= described["startDate"]]
        record = self.ledger.get(pipeline.name, summary.batch_id) if summary.batch_id else None
        if record is not None:
            for key in COUNTS:
                setattr(summary, key, int(record.rows.get(key, 0)))
            if summary.status != "succeeded":
                summary.error = record.error
        if summary.status != "succeeded":
            summary.error = summary.error or described.get("error")
            summary.failed_state = self.failed_state(states)
        self.copy_to_local_ledger(pipeline.name, summary.batch_id)
        return summary

    def states_entered(self, execution_arn: str) -> list[str]:
        names = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            names += [e["stateEnteredEventDetails"]["name"] for e in page["events"] if "stateEnteredEventDetails" in e]
            if not page.get("nextToken"):
                return names
            kwargs["nextToken"] = page["nextToken"]

    @staticmethod
    def failed_state(states: list[str]) -> str | None:
        """The state whose failure the catch took: the one entered just before RecordFailure."""
        if "RecordFailure" in states:
            index = states.index("RecordFailure")
            return states[index - 1] if index else None
        return states[-1] if states else None

    def copy_to_local_ledger(self, source: str, batch_id: str | None) -> None:
        """The batch's ledger record, also in the local ledger (what `onboard status` reads)."""
        record = self.ledger.get(source, batch_id) if batch_id else None
        if record is None:
            return
        local = SqliteRunLedger(self.project.ledger_path)
        try:
            local.put(record)
        finally:
            local.close()

    def alerts(self) -> list[dict[str, Any]]:
        """Every message published to the alert topic so far (subject and parsed message)."""
        sqs = self.session.client("sqs")
        found = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.alerts_queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                body = json.loads(message["Body"])
                found.append({"subject": body.get("Subject"), "message": json.loads(body["Message"])})
                sqs.delete_message(QueueUrl=self.alerts_queue_url, ReceiptHandle=message["ReceiptHandle"])


def _local_secret(project: Project, name: str) -> str | None:
    from framework.runtime.secrets import LocalSecrets, SecretUnavailable

    try:
        return LocalSecrets(project.secrets_file)(name)
    except SecretUnavailable:
        return None


__all__ = ["ACCOUNT", "AssemblyError", "ExecutionSummary", "Rehearsal", "RehearsalError", "ServiceError"]
