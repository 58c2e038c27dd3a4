"""Template assertions: a source with `freshness` gets a check Lambda on an EventBridge rate(5 minutes) schedule,
allowed to query only its own ledger partition and to put metrics only in the Onboard namespace, and one alarm
per threshold on MinutesSinceLastLoad notifying the platform's alert topic; a source without freshness gets none.
Also: the cost model's happy path names states of the synthesized state machine."""

from __future__ import annotations

from framework.cost.model import CRAWLER_STATES, HAPPY_PATH_STATES, POLL_STATES
from tests.cdk import cfn

SOURCE = "sales_transactions"  # freshness: {warn_after: 26h, error_after: 50h}
LEDGER_ARN = "<import:onboard-platform:ExportsOutputFnGetAttRunLedger05F8E29AArn3E72F0F0>"
LEDGER_REF = "<import:onboard-platform:ExportsOutputRefRunLedger05F8E29A5513F23A>"


def checks(template: dict) -> dict[str, dict]:
    return {k: f for k, f in cfn.resources(template, "AWS::Lambda::Function").items()
            if f["FunctionName"].endswith("-late")}


def test_the_freshness_check_runs_every_five_minutes_with_its_own_narrow_role(assembly):
    template = cfn.load(assembly, f"Source-{SOURCE}")
    [(check_id, check)] = checks(template).items()
    assert check["FunctionName"] == f"onboard-{SOURCE}-late"
    assert check["Handler"] == "framework.runtime.freshness.handler"
    assert check["Environment"]["Variables"] == {"ONBOARD_SOURCE": SOURCE, "ONBOARD_LEDGER_TABLE": LEDGER_REF}
    [rule] = [r for r in cfn.resources(template, "AWS::Events::Rule").values()
              if r.get("Description") == f"Checks the freshness of {SOURCE} every 5 minutes"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    [target] = rule["Targets"]
    assert target["Arn"] == f"<{check_id}.Arn>"

    role = check["Role"].strip("<>").removesuffix(".Arn")
    statements = cfn.Access.of(template).statements[role]
    ledger = [s for s in statements if "dynamodb:Query" in cfn._listify(s["Action"])]
    assert ledger == [{"Action": "dynamodb:Query", "Effect": "Allow", "Resource": LEDGER_ARN, "Condition": {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SOURCE]}}}]
    metrics = [s for s in statements if "cloudwatch:PutMetricData" in cfn._listify(s["Action"])]
    assert metrics == [{"Action": "cloudwatch:PutMetricData", "Effect": "Allow", "Resource": "*",
                        "Condition": {"StringEquals": {"cloudwatch:namespace": "Onboard"}}}]
    assert not any(a.startswith(("dynamodb:Put", "dynamodb:Delete", "dynamodb:Scan", "s3:"))
                   for s in statements for a in cfn._listify(s["Action"]))


def test_one_alarm_per_threshold_on_minutes_since_last_load(assembly):
    template = cfn.load(assembly, f"Source-{SOURCE}")
    alarms = {a["AlarmDescription"]: a for a in cfn.resources(template, "AWS::CloudWatch::Alarm").values()
              if a.get("MetricName") == "MinutesSinceLastLoad"}
    topic = {a["AlarmActions"][0] for a in alarms.values()}
    assert len(topic) == 1 and next(iter(topic)).startswith("<import:onboard-platform:")
    common = {"Namespace": "Onboard", "MetricName": "MinutesSinceLastLoad", "Statistic": "Maximum", "Period": 300,
              "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
              "Dimensions": [{"Name": "Source", "Value": SOURCE}]}
    warn = alarms[f"Onboard source {SOURCE}: no successful load for 1560 minutes (warn_after)"]
    error = alarms[f"Onboard source {SOURCE}: no successful load for 3000 minutes (error_after)"]
    assert {k: warn[k] for k in common} == common and {k: error[k] for k in common} == common
    assert (warn["Threshold"], warn["TreatMissingData"]) == (1560, "notBreaching")
    assert (error["Threshold"], error["TreatMissingData"]) == (3000, "breaching")  # never loaded is an error


def test_a_source_without_freshness_has_no_check(assembly):
    template = cfn.load(assembly, "Source-customers")
    assert checks(template) == {}
    assert not any(a.get("MetricName") == "MinutesSinceLastLoad"
                   for a in cfn.resources(template, "AWS::CloudWatch::Alarm").values())


def test_the_cost_models_happy_path_is_the_state_machines(assembly):
    for source, crawl in ((SOURCE, True), ("customers", True)):
        states = cfn.state_machine_definition(cfn.load(assembly, f"Source-{source}"))["States"]
        assert set(HAPPY_PATH_STATES + POLL_STATES + (CRAWLER_STATES if crawl else ())) <= set(states)
