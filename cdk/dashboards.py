"""CloudWatch dashboards: one per source (`<prefix>-<source>`, in the source's stack) and one overview of every
source (`<prefix>-overview`, in the platform stack).

They graph the custom metrics the pipeline publishes (namespace `Onboard`, dimension `Source`; names and units in
framework.runtime.metrics) beside the state machine's own (AWS/States). A source's dashboard:

- rows per batch (in, loaded, quarantined, duplicates dropped) and the quality score (%);
- minutes since the last successful load, with the freshness thresholds as lines, and the Glue run time;
- batches succeeded / failed (the ledger's outcome) and the state machine's executions failed / timed out;
- Glue's own job metrics (namespace `Glue`, JobRunId `ALL`, the job has `--enable-metrics`): the driver's elapsed
  time and failed Spark tasks (Glue reports them only for runs of 30 s or more);
- the status of every alarm of the source (SourceAlarms and the freshness alarms).

The overview has one line per source: rows loaded, rows quarantined, minutes since the last load, batches failed
and executions failed. It names each state machine by its ARN (built from the fixed name, so the platform stack
does not depend on the source stacks).

Dashboard names allow A-Z, a-z, 0-9, `-` and `_`, up to 255 characters (CloudWatch PutDashboard), and are global
to the account (not per region): two deployments with the same prefix in one account share them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from framework.runtime import metrics as m
from onboard_cdk.naming import resource_name

PERIOD = Duration.minutes(5)  # a source's dashboard: about one batch per point
OVERVIEW_PERIOD = Duration.hours(1)
OVERVIEW = "overview"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
WIDTH, HEIGHT = 12, 6  # two graphs per row of the 24-unit grid
METRICS_REASON = (f"cloudwatch:PutMetricData has no resource-level permission; the condition limits it to the "
                  f"{m.NAMESPACE} namespace.")


def put_metrics_statement() -> iam.PolicyStatement:
    """cloudwatch:PutMetricData in the Onboard namespace only (its resource can only be `*`)."""
    return iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"],
                               conditions={"StringEquals": {"cloudwatch:namespace": m.NAMESPACE}})


def dashboard_name(prefix: str, source: str | None = None) -> str:
    """`<prefix>-<source>`, or `<prefix>-overview`; checked against CloudWatch's rules for dashboard names."""
    name = f"{prefix}-{source or OVERVIEW}"
    if not _NAME.match(name):
        raise ValueError(f"dashboard name {name!r}: CloudWatch allows A-Z, a-z, 0-9, '-' and '_', at most 255")
    return name


def source_metric(source: str, name: str, statistic: str, period: Duration = PERIOD,
                  label: str | None = None) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace=m.NAMESPACE, metric_name=name, dimensions_map={m.DIMENSION: source},
                             statistic=statistic, period=period, label=label or name)


def state_machine_metric(state_machine_arn: str, name: str, period: Duration = PERIOD,
                         label: str | None = None) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace="AWS/States", metric_name=name, statistic="Sum", period=period,
                             dimensions_map={"StateMachineArn": state_machine_arn}, label=label or name)


def glue_job_metric(job_name: str, name: str, statistic: str, label: str) -> cloudwatch.Metric:
    """A Glue job metric aggregated over the job's runs (`Type` count: a run's total so far)."""
    return cloudwatch.Metric(namespace="Glue", metric_name=name, statistic=statistic, period=PERIOD, label=label,
                             dimensions_map={"JobName": job_name, "JobRunId": "ALL", "Type": "count"})


def _graph(title: str, left: Sequence[cloudwatch.IMetric], **options: Any) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(left), width=WIDTH, height=HEIGHT, **options)


class SourceDashboard(Construct):
    """The dashboard of one source."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, source: str, job_name: str,
                 state_machine: sfn.IStateMachine, alarms: Sequence[cloudwatch.IAlarm],
                 freshness: Mapping[str, Any] | None) -> None:
        super().__init__(scope, construct_id)
        thresholds = [cloudwatch.HorizontalAnnotation(value=seconds / 60, label=f"{level}_after")
                      for level in ("warn", "error")
                      if (seconds := (freshness or {}).get(f"{level}_after_seconds")) is not None]
        arn = state_machine.state_machine_arn
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name(prefix, source), widgets=[
                [cloudwatch.TextWidget(
                    markdown=f"# Onboard source `{source}`\nBuilt by `onboard deploy` from the source's definition: "
                             "changes made here are replaced at the next deploy.", width=24, height=2)],
                [_graph("Rows per batch", [source_metric(source, name, "Sum") for name in m.ROW_COUNTS]),
                 _graph("Quality score (% of rows not quarantined)",
                        [source_metric(source, m.QUALITY_SCORE, "Minimum")],
                        left_y_axis=cloudwatch.YAxisProps(min=0, max=100, show_units=False))],
                [_graph("Minutes since the last successful load",
                        [source_metric(source, m.MINUTES_SINCE_LAST_LOAD, "Maximum")], left_annotations=thresholds,
                        left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False)),
                 _graph("Glue run time (seconds)", [source_metric(source, m.GLUE_RUN_SECONDS, "Maximum")],
                        left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False))],
                [_graph("Batches", [source_metric(source, m.BATCHES_SUCCEEDED, "Sum"),
                                    source_metric(source, m.BATCHES_FAILED, "Sum")]),
                 _graph("State machine executions", [state_machine_metric(arn, "ExecutionsFailed"),
                                                     state_machine_metric(arn, "ExecutionsTimedOut"),
                                                     state_machine_metric(arn, "ExecutionsSucceeded")])],
                [_graph("Glue job (Glue's metrics)", [
                    glue_job_metric(job_name, "glue.driver.aggregate.elapsedTime", "Maximum", "elapsed (ms)")],
                        right=[glue_job_metric(job_name, "glue.driver.aggregate.numFailedTasks", "Sum",
                                               "failed tasks")]),
                 cloudwatch.AlarmStatusWidget(title="Alarms (freshness, errors, dead letters, failures)",
                                              alarms=list(alarms), width=WIDTH, height=HEIGHT)],
            ])


class OverviewDashboard(Construct):
    """Every source on one dashboard: a line per source in each graph."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, sources: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        if OVERVIEW in sources:
            raise ValueError(f"a source named {OVERVIEW!r} would share the overview dashboard's name "
                             f"{dashboard_name(prefix)}: rename the source")
        stack = Stack.of(self)
        arns = {s: stack.format_arn(service="states", resource="stateMachine", resource_name=resource_name(prefix, s),
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME) for s in sources}

        def per_source(name: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [source_metric(s, name, statistic, OVERVIEW_PERIOD, label=s) for s in sources]

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name(prefix), widgets=[
                [cloudwatch.TextWidget(
                    markdown=f"# Onboard: {len(sources)} sources\nOne line per source; each source also has its "
                             f"own dashboard, `{prefix}-<source>`.", width=24, height=2)],
                [_graph("Rows loaded (per hour)", per_source(m.ROWS_LOADED, "Sum")),
                 _graph("Rows quarantined (per hour)", per_source(m.ROWS_QUARANTINED, "Sum"))],
                [_graph("Minutes since the last successful load", per_source(m.MINUTES_SINCE_LAST_LOAD, "Maximum"),
                        left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False)),
                 _graph("Failures (batches failed, executions failed)", [
                     *per_source(m.BATCHES_FAILED, "Sum"),
                     *[state_machine_metric(arns[s], "ExecutionsFailed", OVERVIEW_PERIOD, label=f"{s} executions")
                       for s in sources]])],
            ])
