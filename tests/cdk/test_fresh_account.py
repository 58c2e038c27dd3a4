"""What a first deploy into a fresh account needs (issue 13), asserted on the templates: one loader identity,
COPY's route to S3, API Gateway's account role, no reserved concurrency unless asked for, AZs from deploy.yaml,
a retained warehouse, names that carry the prefix, and executions that end without their catch recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from onboard_cdk.settings import DeploySettings, ServerlessWarehouse
from tests.cdk import cfn
from tests.conftest import REPO

pytestmark = pytest.mark.slow
SOURCES = sorted(p.parent.name for p in (REPO / "generated").glob("*/manifest.json"))
OTHER = DeploySettings(prefix="acme", reserved_concurrency={"customers": 5},
                       warehouse=ServerlessWarehouse(availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c")))


@pytest.fixture(scope="module")
def platform(assembly):
    return cfn.load(assembly, "Platform")


@pytest.fixture(scope="module")
def sources(assembly):
    return {source: cfn.load(assembly, f"Source-{source}") for source in SOURCES}


@pytest.fixture(scope="module")
def other_assembly(tmp_path_factory) -> Path:
    """The example project synthesized again with another prefix, AZs and an opt-in reserved concurrency
    (without cdk-nag and cfn-lint: the shared synthesis checks those)."""
    from onboard_cdk.app import build_app

    outdir = tmp_path_factory.mktemp("acme") / "cdk.out"
    onboard = build_app(REPO, outdir, nag=False, settings=OTHER)
    try:
        onboard.synth()
    finally:
        onboard.cleanup()
    return outdir


def loader(template: dict) -> dict:
    return next(f for k, f in cfn.resources(template, "AWS::Lambda::Function").items() if k.startswith("Loader"))


# -- 1. one database identity --------------------------------------------------------------------------------

def test_the_loader_secret_is_generated_kms_encrypted_and_names_the_loader_user(platform):
    [secret] = cfn.resources(platform, "AWS::SecretsManager::Secret").values()
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    assert secret["Name"] == "onboard-warehouse-loader" and secret["KmsKeyId"] == f"<{key_id}.Arn>"
    generated = secret["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"username": "onboard_loader"}
    assert generated["GenerateStringKey"] == "password" and generated["ExcludePunctuation"] is True
    assert generated["RequireEachIncludedType"] is True and generated["PasswordLength"] == 32
    [logical_id] = [k for k, r in platform["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert platform["Resources"][logical_id]["DeletionPolicy"] == "Retain"


def test_every_loader_connects_with_the_same_secret_and_may_read_only_that_secret(sources):
    values = set()
    for template in sources.values():
        env = loader(template)["Environment"]["Variables"]
        assert "ONBOARD_REDSHIFT_DB_USER" not in env
        values.add(env["ONBOARD_REDSHIFT_SECRET_ARN"])
        access = cfn.Access.of(template)
        role = next(r for r in access.roles() if r.startswith("LoaderRole"))
        secret = env["ONBOARD_REDSHIFT_SECRET_ARN"]
        assert access.allows(role, "secretsmanager:GetSecretValue", secret)
        assert not access.allows(role, "secretsmanager:GetSecretValue",
                                 f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:other-AbCdEf")
        assert not access.allows(role, "redshift-serverless:GetCredentials",
                                 f"arn:aws:redshift-serverless:{cfn.REGION}:{cfn.ACCOUNT}:workgroup/x")
        key = [s for s in access.statements[role] if any(a.startswith("kms:") for a in cfn._listify(s["Action"]))]
        assert [s["Action"] for s in key] == ["kms:Decrypt"]
    [value] = values  # the one export of the platform's secret, in every source stack
    assert value.startswith("<import:onboard-platform:")


# -- 2. COPY reaches S3 with enhanced VPC routing ---------------------------------------------------------------

def test_the_workgroup_reaches_s3_through_the_gateway_endpoints_prefix_list_only(platform):
    [workgroup] = cfn.resources(platform, "AWS::RedshiftServerless::Workgroup").values()
    assert workgroup["EnhancedVpcRouting"] is True
    [egress] = cfn.resources(platform, "AWS::EC2::SecurityGroupEgress").values()
    [lookup_id] = cfn.resources(platform, "Custom::AWS")
    assert egress["DestinationPrefixListId"] == f"<{lookup_id}.PrefixLists.0.PrefixListId>"
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert "CidrIp" not in egress
    lookup = platform["Resources"][lookup_id]["Properties"]["Create"]
    call = json.loads(cfn.flatten(lookup))
    assert (call["service"], call["action"]) == ("EC2", "describeManagedPrefixLists")
    assert call["parameters"]["Filters"] == [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{cfn.REGION}.s3"]}]
    [endpoint] = cfn.resources(platform, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["VpcEndpointType"] == "Gateway" and endpoint["ServiceName"].endswith(".s3")


# -- 3. API Gateway's account role -------------------------------------------------------------------------------

def test_the_platform_sets_api_gateways_cloudwatch_role_once_and_push_stacks_deploy_after_it(assembly, platform,
                                                                                              sources):
    [account_id] = cfn.resources(platform, "AWS::ApiGateway::Account")
    account = platform["Resources"][account_id]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = platform["Resources"][role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    dependencies = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    pushes = [s for s, t in sources.items() if cfn.resources(t, "AWS::ApiGateway::Stage")]
    assert pushes
    for source in pushes:
        assert "Platform" in dependencies[f"Source-{source}"]["dependencies"]
        Template.from_json(sources[source]).has_resource_properties("AWS::ApiGateway::Stage", {
            "MethodSettings": Match.array_with([Match.object_like({"LoggingLevel": "ERROR", "HttpMethod": "*",
                                                                   "ResourcePath": "/*"})])})


# -- 5. reserved concurrency -------------------------------------------------------------------------------------

def test_no_function_reserves_concurrency_by_default(sources, platform):
    for template in (platform, *sources.values()):
        for function in cfn.resources(template, "AWS::Lambda::Function").values():
            assert "ReservedConcurrentExecutions" not in function, function.get("FunctionName")


def test_deploy_yaml_reserves_concurrency_for_one_sources_connector(other_assembly):
    reserved = {}
    for source in SOURCES:
        for function in cfn.resources(cfn.load(other_assembly, f"Source-{source}"), "AWS::Lambda::Function").values():
            if "ReservedConcurrentExecutions" in function:
                reserved[function["FunctionName"]] = function["ReservedConcurrentExecutions"]
    assert reserved == {"acme-customers-land": 5}


# -- 6. region: AZs from deploy.yaml --------------------------------------------------------------------------------

def test_warehouse_subnets_are_in_the_azs_of_deploy_yaml(platform, other_assembly):
    default = sorted(s["AvailabilityZone"] for s in cfn.resources(platform, "AWS::EC2::Subnet").values())
    assert default == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert "Fn::GetAZs" not in json.dumps(platform)
    other = cfn.load(other_assembly, "Platform")
    assert sorted(s["AvailabilityZone"] for s in cfn.resources(other, "AWS::EC2::Subnet").values()) == [
        "eu-west-1a", "eu-west-1b", "eu-west-1c"]


# -- 11. the warehouse outlives its stack ----------------------------------------------------------------------------

def test_namespace_and_workgroup_are_retained(platform):
    for kind in ("AWS::RedshiftServerless::Namespace", "AWS::RedshiftServerless::Workgroup"):
        [resource] = [r for r in platform["Resources"].values() if r["Type"] == kind]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


# -- 12. every named resource carries the prefix ------------------------------------------------------------------

NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName",
    "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::Glue::Job": "Name", "AWS::Glue::Crawler": "Name",
    "AWS::Glue::SecurityConfiguration": "Name", "AWS::Glue::Database": "DatabaseInput.Name",
    "AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName", "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName", "AWS::RedshiftServerless::Namespace": "NamespaceName",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName", "AWS::SES::ReceiptRuleSet": "RuleSetName",
    "AWS::SES::ReceiptRule": "Rule.Name", "AWS::ApiGateway::RestApi": "Name", "AWS::ApiGateway::ApiKey": "Name",
    "AWS::Events::Rule": "Name", "AWS::Logs::LogGroup": "LogGroupName", "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::EventSourceMapping": "SelfManagedKafkaEventSourceConfig.ConsumerGroupId",
}


def named_resources(outdir: Path) -> set[tuple[str, str]]:
    found = set()
    for template_path in outdir.glob("*.template.json"):
        for resource in json.loads(template_path.read_text())["Resources"].values():
            path = NAME_PROPERTIES.get(resource["Type"])
            value = cfn.flatten(resource.get("Properties", {}))
            for part in (path or "-").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                found.add((resource["Type"], str(value)))
    return found


def test_two_prefixes_in_one_account_name_nothing_alike(assembly, other_assembly):
    ours, theirs = named_resources(assembly), named_resources(other_assembly)
    assert ("AWS::Glue::Crawler", "onboard-customers") in ours and ("AWS::Glue::Crawler", "acme-customers") in theirs
    assert ours & theirs == set()
    for kind, name in theirs:
        assert name.replace("_", "-").removeprefix("alias/").startswith("acme-"), (kind, name)


# -- 13. executions that end without their catch ----------------------------------------------------------------

def test_failed_timed_out_and_aborted_executions_invoke_the_run_ledger_task(sources):
    for source, template in sources.items():
        [machine_id] = cfn.resources(template, "AWS::StepFunctions::StateMachine")
        functions = cfn.resources(template, "AWS::Lambda::Function")
        [runs_id] = [k for k, f in functions.items() if f["FunctionName"] == f"onboard-{source}-runs"]
        assert functions[runs_id]["Environment"]["Variables"]["ONBOARD_SOURCE"] == source
        [rule] = [r for r in cfn.resources(template, "AWS::Events::Rule").values()
                  if r.get("EventPattern", {}).get("source") == ["aws.states"]]
        assert rule["EventPattern"] == {"source": ["aws.states"],
                                        "detail-type": ["Step Functions Execution Status Change"],
                                        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"],
                                                   "stateMachineArn": [f"<{machine_id}>"]}}
        [target] = rule["Targets"]
        assert target["Arn"] == f"<{runs_id}.Arn>" and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
        assert target["DeadLetterConfig"]["Arn"].startswith("<DeadLetters")
        assert any(p["FunctionName"] == f"<{runs_id}.Arn>" and p["Principal"] == "events.amazonaws.com"
                   for p in cfn.resources(template, "AWS::Lambda::Permission").values())


# -- Glue: metrics, Hadoop's folder keys, wheels ------------------------------------------------------------------

def test_the_glue_role_may_put_glue_metrics_and_touch_exactly_the_folder_keys_beside_its_prefixes(sources):
    template = sources["customers"]
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("GlueJobRole"))
    [metrics] = [s for s in access.statements[role] if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}
    processed, raw = cfn.bucket_arn("processed"), cfn.bucket_arn("raw")
    assert access.allows(role, "s3:GetObject", f"{processed}/customers")  # HEAD on the parent key
    assert access.allows(role, "s3:PutObject", f"{processed}/customers_$folder$")
    assert access.allows(role, "s3:PutObject", f"{processed}/_manifests/customers_$folder$")
    assert access.allows(role, "s3:GetObject", f"{processed}/_manifests")
    assert access.allows(role, "s3:GetObject", f"{raw}/customers_$folder$")
    assert not access.allows(role, "s3:PutObject", f"{raw}/customers_$folder$")  # read-only there
    assert not access.allows(role, "s3:PutObject", f"{processed}/customersX")
    assert not access.allows(role, "s3:GetObject", f"{processed}/products")


XLSX_SOURCE = """\
source:
  name: price_lists
  type: email
  config:
    recipients: [prices@data.example.com]
    attachment_pattern: "*.xlsx"
  schema:
    type: xlsx
    sheet: Prices
    columns:
      - {name: sku, type: string, nullable: false}
      - {name: price, type: 'decimal(10,2)'}
  redshift:
    schema: procurement
    table: price_lists
"""


@pytest.fixture(scope="module")
def xlsx_assembly(tmp_path_factory) -> Path:
    """`onboard synth` (cdk-nag and cfn-lint) of a project with one XLSX email source."""
    from click.testing import CliRunner

    from framework.cli import main

    root = tmp_path_factory.mktemp("xlsx")
    (root / "sources").mkdir()
    (root / "sources/price_lists.yaml").write_text(XLSX_SOURCE)
    runner = CliRunner()
    assert runner.invoke(main, ["--project", str(root), "generate"]).exit_code == 0
    result = runner.invoke(main, ["--project", str(root), "synth", "--out", str(root / "cdk.out")])
    assert result.exit_code == 0, result.output
    return root / "cdk.out"


def test_xlsx_jobs_install_openpyxl_from_the_artifact_bucket_never_the_public_index(xlsx_assembly):
    platform = cfn.load(xlsx_assembly, "Platform")
    [deployment] = cfn.resources(platform, "Custom::CDKBucketDeployment").values()
    artifact = f"onboard-artifact-{cfn.ACCOUNT}-{cfn.REGION}"
    assert deployment["DestinationBucketName"] == f"<{next(k for k, b in cfn.resources(platform, 'AWS::S3::Bucket').items() if b.get('BucketName') == artifact)}>"
    assert deployment["DestinationBucketKeyPrefix"] == "glue-wheels/" and deployment["Prune"] is False
    template = cfn.load(xlsx_assembly, "Source-price_lists")
    arguments = cfn.one(template, "AWS::Glue::Job")["DefaultArguments"]
    wheels = [f"s3://{artifact}/glue-wheels/openpyxl-3.1.5-py2.py3-none-any.whl",
              f"s3://{artifact}/glue-wheels/et_xmlfile-2.0.0-py3-none-any.whl"]
    assert arguments["--additional-python-modules"] == ",".join(wheels)
    assert arguments["--python-modules-installer-option"] == "--no-index"
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("GlueJobRole"))
    for wheel in wheels:
        assert access.allows(role, "s3:GetObject", wheel.replace("s3://", "arn:aws:s3:::"))
    # only email sources: the rule set, no API Gateway account role
    kinds = {r["Type"] for r in platform["Resources"].values()}
    assert "AWS::SES::ReceiptRuleSet" in kinds and "AWS::ApiGateway::Account" not in kinds
