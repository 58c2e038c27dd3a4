"""A source's freshness check (when it declares `freshness`): every 5 minutes a small Lambda reads the run
ledger and publishes `MinutesSinceLastLoad` (namespace `Onboard`, dimension `Source`,
framework.runtime.freshness); one alarm per threshold notifies the platform's alert topic.

A source never loaded publishes nothing: the `error_after` alarm treats missing data as breaching (as
`onboard status --freshness` counts it an error), the `warn_after` alarm as not breaching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from framework.runtime.metrics import DIMENSION, NAMESPACE
from framework.runtime.metrics import MINUTES_SINCE_LAST_LOAD as METRIC
from onboard_cdk import lambda_assets
from onboard_cdk.access import default_policy, key_statement
from onboard_cdk.dashboards import METRICS_REASON, put_metrics_statement
from onboard_cdk.functions import OnboardFunction
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import function_name

SCHEDULE = "rate(5 minutes)"
PERIOD = Duration.minutes(5)


class FreshnessCheck(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, source: str, freshness: dict[str, Any],
                 ledger_name: str, ledger_arn: str, key: kms.IKey, log_retention: logs.RetentionDays,
                 alerts: sns.ITopic, staging_dir: Path, dead_letter_queue: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.function = OnboardFunction(
            self, "Check", function_name=function_name(prefix, source, "late"),
            handler=lambda_assets.FRESHNESS_HANDLER,
            code_dir=lambda_assets.stage_runs(staging_dir / source / "freshness"),
            description=f"Publishes the minutes since the last successful load of {source}", key=key,
            log_retention=log_retention, timeout=Duration.seconds(60), memory_mb=128,
            environment={"ONBOARD_SOURCE": source, "ONBOARD_LEDGER_TABLE": ledger_name})
        self.function.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[ledger_arn],
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [source]}}))
        self.function.role.add_to_principal_policy(put_metrics_statement())
        self.function.role.add_to_principal_policy(key_statement(key.key_arn, ("kms:Decrypt",)))
        acknowledge(default_policy(self.function.role), "IAM5", METRICS_REASON, "Resource::*")
        self.rule = events.Rule(self, "Schedule", description=f"Checks the freshness of {source} every 5 minutes",
                                schedule=events.Schedule.expression(SCHEDULE))
        self.rule.add_target(targets.LambdaFunction(self.function.function, dead_letter_queue=dead_letter_queue,
                                                    retry_attempts=2, max_event_age=Duration.minutes(10)))
        metric = cloudwatch.Metric(namespace=NAMESPACE, metric_name=METRIC, dimensions_map={DIMENSION: source},
                                   period=PERIOD, statistic="Maximum")
        action = cloudwatch_actions.SnsAction(alerts)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for level, missing in (("warn", cloudwatch.TreatMissingData.NOT_BREACHING),
                               ("error", cloudwatch.TreatMissingData.BREACHING)):
            seconds = freshness.get(f"{level}_after_seconds")
            if seconds is None:
                continue
            alarm = metric.create_alarm(
                self, f"Late{level.title()}", threshold=seconds / 60, evaluation_periods=1,
                alarm_description=f"Onboard source {source}: no successful load for {seconds // 60} minutes "
                                  f"({level}_after)",
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=missing)
            alarm.add_alarm_action(action)
            self.alarms[level] = alarm
