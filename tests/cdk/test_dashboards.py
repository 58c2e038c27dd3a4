"""Template assertions on the CloudWatch dashboards (onboard_cdk.dashboards) of the shared example synth: one per
source, named `<prefix>-<source>`, graphing the source's own metrics (dimension Source = its name) and its state
machine; one overview in the platform stack with a line per source; the run ledger task may publish metrics in
the Onboard namespace only."""

from __future__ import annotations

import json

import pytest

from framework.runtime import metrics
from onboard_cdk.dashboards import dashboard_name
from tests.cdk import cfn

SOURCES = ["customers", "product_reviews", "products", "sales_transactions", "sensor_readings_push",
           "sensor_readings_stream", "supplier_invoices"]
PER_BATCH = ["RowsIn", "RowsLoaded", "RowsQuarantined", "DuplicatesDropped", "QualityScore", "MinutesSinceLastLoad",
             "GlueRunSeconds", "BatchesSucceeded", "BatchesFailed"]


def dashboards(template: dict) -> dict[str, dict]:
    """Dashboard name -> its body (the Fn::Join flattened, then parsed)."""
    return {d["DashboardName"]: json.loads(d["DashboardBody"])
            for d in cfn.resources(template, "AWS::CloudWatch::Dashboard").values()}


def graphs(body: dict) -> dict[str, list[list]]:
    """Title -> metric rows of every graph widget."""
    return {w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"}


def state_machine_ref(template: dict) -> str:
    [machine_id] = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::StepFunctions::StateMachine"]
    return f"<{machine_id}>"


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_has_its_dashboard_of_its_own_metrics_and_state_machine(assembly, source):
    template = cfn.load(assembly, f"Source-{source}")
    [(name, body)] = dashboards(template).items()
    assert name == f"onboard-{source}"
    found = graphs(body)
    assert list(found) == ["Rows per batch", "Quality score (% of rows not quarantined)",
                           "Minutes since the last successful load", "Glue run time (seconds)", "Batches",
                           "State machine executions", "Glue job (Glue's metrics)"]
    assert [row[:8] for row in found["Glue job (Glue's metrics)"]] == [
        ["Glue", name, "JobName", f"onboard-{source}", "JobRunId", "ALL", "Type", "count"]
        for name in ("glue.driver.aggregate.elapsedTime", "glue.driver.aggregate.numFailedTasks")]
    assert cfn.one(template, "AWS::Glue::Job")["Name"] == f"onboard-{source}"
    onboard = [row for rows in found.values() for row in rows if row[0] == "Onboard"]
    assert [row[1] for row in onboard] == PER_BATCH
    assert all(row[2:4] == ["Source", source] for row in onboard)
    assert [(row[1], row[4]["stat"]) for row in found["Rows per batch"]] == [
        ("RowsIn", "Sum"), ("RowsLoaded", "Sum"), ("RowsQuarantined", "Sum"), ("DuplicatesDropped", "Sum")]
    executions = found["State machine executions"]
    assert [row[:4] for row in executions] == [["AWS/States", name, "StateMachineArn", state_machine_ref(template)]
                                               for name in ("ExecutionsFailed", "ExecutionsTimedOut",
                                                            "ExecutionsSucceeded")]
    [alarms] = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarms) == len(cfn.resources(template, "AWS::CloudWatch::Alarm"))


def test_a_source_with_freshness_shows_its_thresholds_and_its_freshness_alarms(assembly):
    template = cfn.load(assembly, "Source-sales_transactions")
    body = dashboards(template)["onboard-sales_transactions"]
    [late] = [w for w in body["widgets"] if w["properties"].get("title") == "Minutes since the last successful load"]
    assert late["properties"]["annotations"]["horizontal"] == [{"value": 1560, "label": "warn_after", "yAxis": "left"},
                                                               {"value": 3000, "label": "error_after", "yAxis": "left"}]
    [alarms] = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
    freshness = [f"<{k}.Arn>" for k, a in cfn.resources(template, "AWS::CloudWatch::Alarm").items()
                 if a.get("MetricName") == "MinutesSinceLastLoad"]
    assert len(freshness) == 2 and set(freshness) <= set(alarms)


def test_the_overview_has_a_line_per_source_in_each_graph(assembly):
    template = cfn.load(assembly, "Platform")
    [(name, body)] = dashboards(template).items()
    assert name == "onboard-overview"
    found = graphs(body)
    assert list(found) == ["Rows loaded (per hour)", "Rows quarantined (per hour)",
                           "Minutes since the last successful load", "Failures (batches failed, executions failed)"]
    for title, metric in (("Rows loaded (per hour)", "RowsLoaded"), ("Rows quarantined (per hour)", "RowsQuarantined"),
                          ("Minutes since the last successful load", "MinutesSinceLastLoad")):
        assert [row[:4] for row in found[title]] == [["Onboard", metric, "Source", s] for s in SOURCES]
        assert [row[4]["label"] for row in found[title]] == SOURCES
    failures = found["Failures (batches failed, executions failed)"]
    assert [row[:4] for row in failures] == (
        [["Onboard", "BatchesFailed", "Source", s] for s in SOURCES]
        + [["AWS/States", "ExecutionsFailed", "StateMachineArn",
            f"arn:aws:states:{cfn.REGION}:{cfn.ACCOUNT}:stateMachine:onboard-{s}"] for s in SOURCES])


def test_the_overview_names_the_state_machines_the_source_stacks_create(assembly):
    for source in SOURCES:
        machine = cfn.one(cfn.load(assembly, f"Source-{source}"), "AWS::StepFunctions::StateMachine")
        assert machine["StateMachineName"] == f"onboard-{source}"


def test_the_run_ledger_task_may_put_metrics_only_in_the_onboard_namespace(assembly):
    template = cfn.load(assembly, "Source-customers")
    [runs] = [f for f in cfn.resources(template, "AWS::Lambda::Function").values()
              if f["FunctionName"] == "onboard-customers-runs"]
    role = runs["Role"].strip("<>").removesuffix(".Arn")
    statements = cfn.Access.of(template).statements[role]
    assert [s for s in statements if "cloudwatch:PutMetricData" in cfn._listify(s["Action"])] == [
        {"Action": "cloudwatch:PutMetricData", "Effect": "Allow", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": metrics.NAMESPACE}}}]


def test_dashboard_names_follow_cloudwatchs_rules():
    assert dashboard_name("onboard", "sales_transactions") == "onboard-sales_transactions"
    assert dashboard_name("acme") == "acme-overview"
    with pytest.raises(ValueError, match="dashboard name 'acme-a.b': CloudWatch allows A-Z, a-z, 0-9, '-' and '_'"):
        dashboard_name("acme", "a.b")
