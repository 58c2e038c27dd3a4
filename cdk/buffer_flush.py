"""A buffered source's flush (stream, http_push): the Lambda that ships every pending micro-batch to the state
machine as one batch, and the EventBridge schedule that runs it every `buffer.seconds`.

The connector lands micro-batches and marks them pending in the run ledger (partition `<source>#pending`); the
flush claims them, starts one execution and drops them (framework.runtime.flush). The connector also invokes the
flush at once (asynchronously) when pending data passes `buffer.megabytes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from onboard_cdk import lambda_assets
from onboard_cdk.access import key_statement
from onboard_cdk.functions import OnboardFunction
from onboard_cdk.naming import function_name

PENDING_ACTIONS = ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")


def pending_statement(ledger_arn: str, source: str, actions: tuple[str, ...] = PENDING_ACTIONS) -> iam.PolicyStatement:
    """The run ledger's pending micro-batches of this source only (`<source>#pending`)."""
    keys = {"dynamodb:LeadingKeys": [f"{source}#pending"]}
    return iam.PolicyStatement(actions=list(actions), resources=[ledger_arn],
                               conditions={"ForAllValues:StringEquals": keys})


def schedule_expression(seconds: int) -> str:
    minutes = seconds // 60
    return f"rate({minutes} minute{'s' if minutes > 1 else ''})"


class BufferFlush(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, source: str, buffer: dict[str, Any],
                 state_machine: sfn.IStateMachine, ledger_name: str, ledger_arn: str, key: kms.IKey,
                 log_retention: logs.RetentionDays, environment: dict[str, str], staging_dir: Path,
                 dead_letter_queue: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.function = OnboardFunction(
            self, "Flush", function_name=function_name(prefix, source, "ship"), handler=lambda_assets.FLUSH_HANDLER,
            code_dir=lambda_assets.stage_runs(staging_dir / source / "flush"),
            description=f"Ships the pending micro-batches of {source} to its pipeline as one batch", key=key,
            log_retention=log_retention, timeout=Duration.seconds(120), memory_mb=256,
            environment={**environment, "ONBOARD_SOURCE": source, "ONBOARD_LEDGER_TABLE": ledger_name,
                         "ONBOARD_STATE_MACHINE_ARN": state_machine.state_machine_arn})
        for statement in (iam.PolicyStatement(actions=["states:StartExecution"],
                                              resources=[state_machine.state_machine_arn]),
                          pending_statement(ledger_arn, source), key_statement(key.key_arn)):
            self.function.role.add_to_principal_policy(statement)
        self.rule = events.Rule(
            self, "Schedule", description=f"Ships the pending micro-batches of {source} every {buffer['seconds']} s",
            schedule=events.Schedule.expression(schedule_expression(buffer["seconds"])))
        self.rule.add_target(targets.LambdaFunction(
            self.function.function, dead_letter_queue=dead_letter_queue, retry_attempts=2,
            max_event_age=Duration.minutes(10)))
