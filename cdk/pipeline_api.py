"""The pipeline API (seed 004), in the platform stack: an API Gateway REST API in front of one Lambda
(`framework.runtime.pipeline_api.handler`).

- Every method requires IAM (SigV4) authorization; the stage and a usage plan throttle callers; access logs go
  to an encrypted log group (execution errors through the account's API Gateway CloudWatch role, which the
  platform sets once).
- The function may start the executions of this project's state machines only (`<prefix>-<source>`, by name:
  the source stacks deploy after the platform), describe their executions (a reprocess reads its original
  batch's input), and read the run ledger (GetItem, Query, Scan) with the lake key.
- Its sources catalog (a JSON file in its asset: kind, load mode, state machine, lake block per source) comes
  from the generated manifests, so a source added later is known after the next platform deploy.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from onboard_cdk import lambda_assets
from onboard_cdk.access import bucket_name, default_policy, key_statement
from onboard_cdk.functions import OnboardFunction
from onboard_cdk.lake_buckets import ZONES
from onboard_cdk.manifests import SourceManifest
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import function_name, resource_name

API_HANDLER = "framework.runtime.pipeline_api.handler"
THROTTLE_RATE, THROTTLE_BURST = 10, 20  # an operator's API: a few calls a second is plenty
LEDGER_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan")
CATALOG_FILE = "pipeline_api_sources.json"  # in the function's asset: the task root is its working folder


def api_name(prefix: str) -> str:
    return f"{prefix}-pipelines"


class PipelineApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform, manifests: list[SourceManifest],
                 staging_dir: Path) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        prefix = platform.settings.prefix
        machines = {m.name: stack.format_arn(service="states", resource="stateMachine",
                                             resource_name=resource_name(prefix, m.name),
                                             arn_format=ArnFormat.COLON_RESOURCE_NAME) for m in manifests}
        code_dir = lambda_assets.stage_runs(staging_dir / "_pipeline_api")
        (code_dir / CATALOG_FILE).write_text(catalog_json(prefix, manifests), encoding="utf-8")
        self.function = OnboardFunction(
            self, "Handler", function_name=f"{api_name(prefix)}-api", handler=API_HANDLER, code_dir=code_dir,
            description="The pipeline API: starts source pipelines and reads the run ledger", key=platform.key,
            log_retention=platform.log_retention, timeout=Duration.seconds(29), memory_mb=256,
            environment={"ONBOARD_LEDGER_TABLE": platform.ledger.table_name, "ONBOARD_API_SOURCES": CATALOG_FILE,
                         "ONBOARD_STATE_MACHINE_ARN_PREFIX": stack.format_arn(
                             service="states", resource="stateMachine", resource_name="",
                             arn_format=ArnFormat.COLON_RESOURCE_NAME),
                         **{f"ONBOARD_BUCKET_{zone.upper()}": bucket_name(prefix, zone) for zone in ZONES}})
        role = self.function.role
        if machines:
            role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                                   resources=sorted(machines.values())))
            executions = sorted(stack.format_arn(service="states", resource="execution",
                                                 resource_name=f"{resource_name(prefix, m.name)}:*",
                                                 arn_format=ArnFormat.COLON_RESOURCE_NAME) for m in manifests)
            role.add_to_policy(iam.PolicyStatement(actions=["states:DescribeExecution"], resources=executions))
        connectors = sorted(stack.format_arn(service="lambda", resource="function",
                                             resource_name=function_name(prefix, m.name, "land"),
                                             arn_format=ArnFormat.COLON_RESOURCE_NAME)
                            for m in manifests if m.kind == "rest_api")
        if connectors:  # POST /pipelines makes a REST source fetch now
            role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=connectors))
        role.add_to_policy(iam.PolicyStatement(actions=list(LEDGER_READ_ACTIONS),
                                               resources=[platform.ledger.table_arn]))
        role.add_to_policy(key_statement(platform.key.key_arn, ("kms:Decrypt",)))
        policy = default_policy(role)
        for manifest in manifests:
            acknowledge(policy, "IAM5", "DescribeExecution of this project's state machines' executions (a "
                        "reprocess reads its original batch's input); execution names are batch ids.",
                        f"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                        f"{resource_name(prefix, manifest.name)}:*")
        acknowledge(policy, "IAM5", "Writing to its own log group: log streams are named by Lambda at run time.",
                    f"Resource::<{stack.get_logical_id(self.function.log_group.node.default_child)}.Arn>:*")

        if platform.api_gateway_account is None:
            platform.api_gateway_account = platform._api_gateway_logging()
        access_logs = logs.LogGroup(self, "AccessLogs", retention=platform.log_retention,
                                    encryption_key=platform.key, removal_policy=RemovalPolicy.RETAIN)
        self.api = apigw.RestApi(
            self, "Api", rest_api_name=api_name(prefix),
            description="Onboard pipeline API: POST /pipelines, GET /pipelines, GET /pipelines/{pipeline_id}",
            endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=False,
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            deploy_options=apigw.StageOptions(
                stage_name="v1", tracing_enabled=True, logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=THROTTLE_RATE, throttling_burst_limit=THROTTLE_BURST,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True, resource_path=True,
                    response_length=True, status=True, user=True)))
        self.api.node.add_dependency(platform.api_gateway_account)
        integration = apigw.LambdaIntegration(self.function.function, proxy=True)
        validator = apigw.RequestValidator(self, "Validator", rest_api=self.api, validate_request_body=False,
                                           validate_request_parameters=True)
        pipelines = self.api.root.add_resource("pipelines")
        for method in ("GET", "POST"):
            pipelines.add_method(method, integration, request_validator=validator)
        pipelines.add_resource("{pipeline_id}").add_method(
            "GET", integration, request_validator=validator,
            request_parameters={"method.request.path.pipeline_id": True})
        self.api.root.add_resource("openapi.json").add_method("GET", integration, request_validator=validator)
        plan = self.api.add_usage_plan("Plan", name=api_name(prefix), throttle=apigw.ThrottleSettings(
            rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST))
        plan.add_api_stage(stage=self.api.deployment_stage)
        acknowledge(self.api, "APIG3", "A WAF web ACL is an account-level choice; the API is IAM-authorized and "
                    "throttled per stage and per usage plan.")
        acknowledge(self.api, "APIG2", "The function validates bodies against the OpenAPI document's StartRequest "
                    "and answers 400/422 with the reason.")
        acknowledge(self.api, "COG4", "IAM (SigV4) authorization: operators and their tools call it with AWS "
                    "credentials, not Cognito users.")


def catalog_json(prefix: str, manifests: list[SourceManifest]) -> str:
    """The sources file the function reads (`framework.runtime.pipeline_api.load_catalog`)."""
    return json.dumps({m.name: {"kind": m.kind, "load_mode": m.data["redshift"].get("mode", "append"),
                                "state_machine": resource_name(prefix, m.name), "lake": m.lake,
                                **({"connector": function_name(prefix, m.name, "land")} if m.kind == "rest_api"
                                   else {})}
                       for m in manifests}, sort_keys=True, indent=1)
