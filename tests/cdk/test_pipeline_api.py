"""The pipeline API in the platform stack (`onboard_cdk.pipeline_api`): IAM auth on every method, stage and
usage-plan throttling, access logging, a least-privilege function role, the sources file in its asset —
asserted on the template `onboard synth` wrote (with cdk-nag and cfn-lint clean, or the synth fails)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from tests.cdk import cfn
from tests.conftest import REPO

pytestmark = pytest.mark.slow
EXAMPLE_SOURCES = sorted(p.parent.name for p in (REPO / "generated").glob("*/manifest.json"))
STATES = f"arn:aws:states:{cfn.REGION}:{cfn.ACCOUNT}"


@pytest.fixture(scope="module")
def platform(assembly):
    return cfn.load(assembly, "Platform")


def test_every_method_needs_iam_auth_and_routes_are_the_documents(platform):
    methods = [m for m in cfn.resources(platform, "AWS::ApiGateway::Method").values()]
    assert len(methods) == 4
    assert {m["HttpMethod"] for m in methods} == {"GET", "POST"}
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods)
    parts = sorted(r["PathPart"] for r in cfn.resources(platform, "AWS::ApiGateway::Resource").values())
    assert parts == ["openapi.json", "pipelines", "{pipeline_id}"]
    document = json.loads((REPO / "generated/_platform/openapi.json").read_text())
    assert sorted(document["paths"]) == ["/openapi.json", "/pipelines", "/pipelines/{pipeline_id}"]
    api = cfn.one(platform, "AWS::ApiGateway::RestApi")
    assert api["Name"] == "onboard-pipelines"
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_the_stage_and_a_usage_plan_throttle_and_access_logs_are_kept(platform):
    stage = cfn.one(platform, "AWS::ApiGateway::Stage")
    assert stage["StageName"] == "v1" and stage["TracingEnabled"] is True
    assert stage["MethodSettings"] == [{"DataTraceEnabled": False, "HttpMethod": "*", "LoggingLevel": "ERROR",
                                        "ResourcePath": "/*", "ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10}]
    log_group = stage["AccessLogSetting"]["DestinationArn"]
    assert log_group.startswith("<PipelineApiAccessLogs") and log_group.endswith(".Arn>")
    for field in ("requestId", "httpMethod", "status", "user", "caller"):
        assert f'"{field}"' in stage["AccessLogSetting"]["Format"]
    [logs_id] = [k for k in cfn.resources(platform, "AWS::Logs::LogGroup") if k.startswith("PipelineApiAccessLogs")]
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    assert cfn.resources(platform, "AWS::Logs::LogGroup")[logs_id]["KmsKeyId"] == f"<{key_id}.Arn>"
    plan = cfn.one(platform, "AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {"BurstLimit": 20, "RateLimit": 10}
    assert plan["UsagePlanName"] == "onboard-pipelines"
    assert plan["ApiStages"][0]["Stage"].startswith("<PipelineApiDeploymentStagev1")
    # access and execution logs go through the account's API Gateway CloudWatch role, set once by the platform
    assert len(cfn.resources(platform, "AWS::ApiGateway::Account")) == 1


def test_the_function_may_only_start_and_describe_this_projects_pipelines_and_read_the_ledger(platform):
    template = Template.from_json(platform)
    template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": "onboard-pipelines-api", "Handler": "framework.runtime.pipeline_api.handler",
        "Environment": {"Variables": Match.object_like({"ONBOARD_API_SOURCES": "pipeline_api_sources.json"})}})
    access = cfn.Access.of(platform)
    [role] = [r for r in access.roles() if r.startswith("PipelineApiHandlerRole")]
    for source in EXAMPLE_SOURCES:
        assert access.allows(role, "states:StartExecution", f"{STATES}:stateMachine:onboard-{source}")
        assert access.allows(role, "states:DescribeExecution", f"{STATES}:execution:onboard-{source}:20241116T1")
    assert not access.allows(role, "states:StartExecution", f"{STATES}:stateMachine:other-customers")
    assert not access.allows(role, "states:StopExecution", f"{STATES}:stateMachine:onboard-customers")
    ledger = f"<{next(k for k in cfn.resources(platform, 'AWS::DynamoDB::Table'))}.Arn>"
    for action in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"):
        assert access.allows(role, action, ledger)
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"):
        assert not access.allows(role, action, ledger)
    assert not access.allows(role, "s3:GetObject", "arn:aws:s3:::onboard-raw-x/customers/a.json")
    functions = STATES.replace(":states:", ":lambda:")
    assert access.allows(role, "lambda:InvokeFunction", f"{functions}:function:onboard-product_reviews-land")
    assert not access.allows(role, "lambda:InvokeFunction", f"{functions}:function:onboard-customers-land")


def test_the_sources_file_ships_in_the_functions_asset(assembly, platform):
    function = next(f for f in cfn.resources(platform, "AWS::Lambda::Function").values()
                    if f.get("FunctionName") == "onboard-pipelines-api")
    key = function["Code"]["S3Key"]
    folder = assembly / ("asset." + key.split(".")[0])
    catalog = json.loads((folder / "pipeline_api_sources.json").read_text())
    assert sorted(catalog) == EXAMPLE_SOURCES
    assert catalog["customers"] == {"kind": "s3_file", "load_mode": "merge", "state_machine": "onboard-customers",
                                    "lake": json.loads((REPO / "generated/customers/manifest.json").read_text())["lake"]}
    assert catalog["product_reviews"]["connector"] == "onboard-product_reviews-land"
    assert (folder / "framework/runtime/pipeline_api.py").is_file()
