"""Template assertions: a stream or http_push source ships its pending micro-batches with a flush Lambda on an
EventBridge schedule (`buffer.seconds`), and its connector may only mark them pending and invoke that flush."""

from __future__ import annotations

import json

import pytest

from tests.cdk import cfn
from tests.conftest import REPO

LEDGER_ARN = "<import:onboard-platform:ExportsOutputFnGetAttRunLedger05F8E29AArn3E72F0F0>"
LEDGER_REF = "<import:onboard-platform:ExportsOutputRefRunLedger05F8E29A5513F23A>"


def function(template: dict, role: str) -> tuple[str, dict]:
    return next((k, f) for k, f in cfn.resources(template, "AWS::Lambda::Function").items()
                if f["FunctionName"].endswith(f"-{role}"))


@pytest.mark.parametrize("source", ["sensor_readings_stream", "sensor_readings_push"])
def test_a_buffered_source_flushes_on_a_schedule_with_a_scoped_flush_lambda(assembly, source):
    template = cfn.load(assembly, f"Source-{source}")
    flush_id, flush = function(template, "ship")
    assert flush["FunctionName"] == f"onboard-{source}-ship"
    assert flush["Handler"] == "framework.runtime.flush.handler"
    state_machine = next(iter(cfn.resources(template, "AWS::StepFunctions::StateMachine")))
    env = flush["Environment"]["Variables"]
    assert (env["ONBOARD_SOURCE"], env["ONBOARD_LEDGER_TABLE"], env["ONBOARD_STATE_MACHINE_ARN"]) == (
        source, LEDGER_REF, f"<{state_machine}>")
    manifest = json.loads((REPO / f"generated/{source}/manifest.json").read_text())
    assert json.loads(env["ONBOARD_LAKE"]) == manifest["lake"]
    assert manifest["connector"]["buffer"] == {"seconds": 300, "megabytes": 64}

    [rule] = [r for r in cfn.resources(template, "AWS::Events::Rule").values()
              if r.get("Description") == f"Ships the pending micro-batches of {source} every 300 s"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    [target] = rule["Targets"]
    assert target["Arn"] == f"<{flush_id}.Arn>" and target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    [permission] = [p for p in cfn.resources(template, "AWS::Lambda::Permission").values()
                    if p["FunctionName"] == f"<{flush_id}.Arn>"]
    assert permission["Principal"] == "events.amazonaws.com"

    access = cfn.Access.of(template)
    flush_role = flush["Role"].strip("<>").removesuffix(".Arn")
    pending = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"{source}#pending"]}}
    assert access.allows(flush_role, "states:StartExecution", f"<{state_machine}>")
    statements = access.statements[flush_role]
    assert {"Action": ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
            "Effect": "Allow", "Condition": pending, "Resource": LEDGER_ARN} in statements
    assert not any("dynamodb:" in json.dumps(s["Action"]) and s.get("Condition") != pending for s in statements)

    connector_id, connector = function(template, "land")
    assert connector["Environment"]["Variables"]["ONBOARD_FLUSH_FUNCTION"] == f"<{flush_id}>"
    connector_role = connector["Role"].strip("<>").removesuffix(".Arn")
    assert access.allows(connector_role, "lambda:InvokeFunction", f"<{flush_id}.Arn>")
    assert {"Action": ["dynamodb:PutItem", "dynamodb:Query"], "Effect": "Allow", "Condition": pending,
            "Resource": LEDGER_ARN} in access.statements[connector_role]


@pytest.mark.parametrize("source", ["sales_transactions", "customers", "supplier_invoices"])
def test_other_kinds_have_no_flush(assembly, source):
    template = cfn.load(assembly, f"Source-{source}")
    assert not [f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                if f["FunctionName"].endswith("-ship")]
    assert "#pending" not in json.dumps(template)
