"""Executions that end without reaching the state machine's catch (timed out, aborted, or failed outside a
task) would leave their batch `running` with its objects claimed: an EventBridge rule on the source's
"Step Functions Execution Status Change" events (TIMED_OUT, ABORTED, FAILED) invokes the run ledger Lambda
(`framework.runtime.pipeline_runs`), which marks the batch failed and releases its claims. A FAILED
execution that its catch already recorded is left as it is."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
UNFINISHED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def record_unfinished_executions(stack: Stack, *, source: str, state_machine: sfn.IStateMachine,
                                 runs: lambda_.IFunction, dead_letter_queue: sqs.IQueue) -> events.Rule:
    rule = events.Rule(
        stack, "ExecutionEnded", description=f"Executions of source {source} that failed, timed out or were aborted",
        event_pattern=events.EventPattern(
            source=["aws.states"], detail_type=[EXECUTION_STATUS_CHANGE],
            detail={"status": list(UNFINISHED_STATUSES), "stateMachineArn": [state_machine.state_machine_arn]}))
    rule.add_target(targets.LambdaFunction(runs, dead_letter_queue=dead_letter_queue, retry_attempts=8,
                                           max_event_age=Duration.hours(6)))
    return rule
