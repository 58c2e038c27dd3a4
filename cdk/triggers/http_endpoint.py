"""`http`: an API Gateway REST API (proxy integration) at the source's path, in front of the connector.

Auth from the YAML: `api_key` (a key and a usage plan with throttling; callers send `x-api-key`) or `iam`
(SigV4-signed requests). Access logs go to an encrypted log group; execution errors are logged through the
account's API Gateway CloudWatch role, which the platform stack sets (this stack deploys after it);
API Gateway refuses bodies over 10 MB
and the connector answers 413 past the source's own `max_body_bytes`.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs

from onboard_cdk.nag import acknowledge
from onboard_cdk.triggers import TriggerContext, register

THROTTLE_RATE, THROTTLE_BURST = 100, 200


@register("http")
def http_trigger(context: TriggerContext) -> None:
    trigger, stack = context.trigger, context.stack
    access_logs = logs.LogGroup(stack, "ApiAccessLogs", retention=context.log_retention,
                                encryption_key=context.key, removal_policy=RemovalPolicy.RETAIN)
    api = apigw.RestApi(
        stack, "PushApi", rest_api_name=f"{context.prefix}-{context.source}".replace("_", "-"),
        description=f"Records of source {context.source} are POSTed to {trigger['path']}",
        endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=False,
        deploy_options=apigw.StageOptions(
            stage_name="v1", tracing_enabled=True, logging_level=apigw.MethodLoggingLevel.ERROR,
            throttling_rate_limit=THROTTLE_RATE,
            throttling_burst_limit=THROTTLE_BURST,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True, http_method=True, ip=True, protocol=True, request_time=True, resource_path=True,
                response_length=True, status=True, user=True)))
    resource = api.root.resource_for_path(trigger["path"])
    validator = apigw.RequestValidator(stack, "PushValidator", rest_api=api, validate_request_body=False,
                                       validate_request_parameters=True)
    iam_auth = trigger["auth"] == "iam"
    resource.add_method(
        "POST", apigw.LambdaIntegration(context.function, proxy=True), request_validator=validator,
        api_key_required=not iam_auth,
        authorization_type=apigw.AuthorizationType.IAM if iam_auth else apigw.AuthorizationType.NONE)
    if not iam_auth:
        key = api.add_api_key("PushKey", api_key_name=f"{context.prefix}-{context.source}".replace("_", "-"))
        plan = api.add_usage_plan("PushPlan", throttle=apigw.ThrottleSettings(
            rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST))
        plan.add_api_key(key)
        plan.add_api_stage(stage=api.deployment_stage)
    acknowledge(api, "APIG3", "A WAF web ACL is an account-level choice; the endpoint is throttled per stage "
                "and per usage plan and requires an API key or IAM auth.")
    acknowledge(api, "APIG2", "Request bodies are validated record by record by the connector against the "
                "source's schema, which answers 422 with each record's errors.")
    if not iam_auth:
        for rule in ("APIG4", "COG4"):
            acknowledge(api, rule, "The source's YAML chose API key auth: callers present a key of the usage "
                        "plan (auth: iam selects SigV4 instead).")
    else:
        acknowledge(api, "COG4", "The source's YAML chose IAM (SigV4) auth instead of a Cognito user pool.")
