"""CloudWatch alarms of one source, all notifying the platform's alert topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(5)
GLUE_FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")


class SourceAlarms(Construct):
    """Alarms on: connector and loader errors, DLQ messages, Glue job failures, failed or timed-out executions."""

    def __init__(self, scope: Construct, construct_id: str, *, source: str, connector: lambda_.IFunction,
                 loader: lambda_.IFunction, dead_letter_queue: sqs.IQueue, job: glue.CfnJob,
                 state_machine: sfn.IStateMachine, alerts: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        action = cloudwatch_actions.SnsAction(alerts)
        glue_failures = events.Rule(
            self, "GlueJobFailed", description=f"The Glue job of source {source} failed",
            event_pattern=events.EventPattern(source=["aws.glue"], detail_type=["Glue Job State Change"],
                                              detail={"jobName": [job.ref], "state": list(GLUE_FAILED_STATES)}))
        glue_failures.add_target(targets.SnsTopic(alerts))
        metrics = {
            "ConnectorErrors": connector.metric_errors(period=PERIOD, statistic="Sum"),
            "LoaderErrors": loader.metric_errors(period=PERIOD, statistic="Sum"),
            "DeadLetters": dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD,
                                                                                          statistic="Maximum"),
            "GlueJobFailures": cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules",
                                                 dimensions_map={"RuleName": glue_failures.rule_name},
                                                 period=PERIOD, statistic="Sum"),
            "ExecutionsFailed": state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "ExecutionsTimedOut": state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
        }
        for name, metric in metrics.items():
            alarm = metric.create_alarm(
                self, name, alarm_description=f"Onboard source {source}: {name} >= 1", threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm
