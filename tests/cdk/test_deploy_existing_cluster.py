"""`onboard deploy` (with a stand-in CDK CLI that records its arguments) of a project whose deploy.yaml names
an existing Redshift cluster and its own prefix: the command it runs, and what that changes in the stacks."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework.cli import main
from tests.cdk import cfn

pytestmark = pytest.mark.slow
ATTACHED = "arn:aws:iam::123456789012:role/analytics-redshift-s3"
BOOTSTRAPPED = '{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}'
FAKE_CDK = """#!/bin/sh
printf '%s\\n' "$@" > "$(dirname "$0")/../../cdk-args.txt"
"""


@pytest.fixture(scope="module")
def deployed(one_source_project: Path) -> tuple[Path, object]:
    cli = one_source_project / "node_modules/.bin/cdk"
    cli.parent.mkdir(parents=True, exist_ok=True)
    cli.write_text(FAKE_CDK)
    cli.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch, mock_aws():  # a bootstrapped account (deploy checks first)
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        boto3.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAPPED)
        result = CliRunner().invoke(main, ["--project", str(one_source_project), "deploy", "sales_transactions",
                                           "--require-approval", "never"])
    return one_source_project, result


def test_deploy_synthesizes_then_runs_cdk_deploy_on_the_assembly(deployed):
    root, result = deployed
    assert result.exit_code == 0, result.output
    assert (root / "cdk-args.txt").read_text().splitlines() == [
        "deploy", "--app", str(root / "cdk.out"), "--require-approval", "never", "--no-notices",
        "Platform", "Source-sales_transactions"]
    assert f"$ {root / 'node_modules/.bin/cdk'} deploy --app" in result.output


def test_deploy_refuses_an_unknown_source_before_synthesizing(one_source_project):
    result = CliRunner().invoke(main, ["--project", str(one_source_project), "deploy", "nope"])
    assert result.exit_code == 2
    assert "unknown source nope; choose from: sales_transactions" in result.output


def test_without_the_cdk_cli_the_error_says_how_to_install_it(tmp_path):
    from onboard_cdk.synth import find_cdk_cli

    with pytest.raises(FileNotFoundError, match=r"no CDK CLI at .*node_modules/.bin/cdk: run `npm ci` where "
                                                r"package.json is \(make deploy-tools\)"):
        find_cdk_cli(tmp_path, tmp_path / "elsewhere")


def test_existing_cluster_means_no_serverless_warehouse_and_no_vpc(deployed):
    root, _ = deployed
    platform = cfn.load(root / "cdk.out", "Platform")
    kinds = {r["Type"] for r in platform["Resources"].values()}
    assert not {k for k in kinds if k.startswith(("AWS::RedshiftServerless::", "AWS::EC2::"))}
    # the role attached to the cluster is the configured one: the platform's roles are the pipeline API's
    assert sorted(k[:-8] for k in cfn.resources(platform, "AWS::IAM::Role")) == [
        "ApiGatewayCloudWatchRole", "PipelineApiHandlerRole"]


def test_without_email_sources_there_is_no_rule_set_or_loader_secret(deployed):
    root, _ = deployed
    kinds = {r["Type"] for r in cfn.load(root / "cdk.out", "Platform")["Resources"].values()}
    assert not kinds & {"AWS::SES::ReceiptRuleSet", "AWS::SecretsManager::Secret"}


def test_loader_reaches_the_cluster_through_the_data_api_as_its_db_user(deployed):
    root, _ = deployed
    template = cfn.load(root / "cdk.out", "Source-sales_transactions")
    loader = next(f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                  if f["FunctionName"] == "acme-sales_transactions-load")
    env = loader["Environment"]["Variables"]
    copy_role = next(k for k in cfn.resources(template, "AWS::IAM::Role") if k.startswith("CopyRole"))
    assert {k: env[k] for k in env if k.startswith("ONBOARD_REDSHIFT")} == {
        "ONBOARD_REDSHIFT_DATABASE": "dev", "ONBOARD_REDSHIFT_CLUSTER": "analytics",
        "ONBOARD_REDSHIFT_DB_USER": "onboard_loader"}
    assert env["ONBOARD_COPY_ROLE_ARN"] == f"{ATTACHED},<{copy_role}.Arn>"
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("LoaderRole"))
    cluster = f"arn:aws:redshift:{cfn.REGION}:{cfn.ACCOUNT}"
    assert access.allows(role, "redshift-data:BatchExecuteStatement", f"{cluster}:cluster:analytics")
    assert not access.allows(role, "redshift-data:BatchExecuteStatement", f"{cluster}:cluster:other")
    assert access.allows(role, "redshift-data:ExecuteStatement", f"{cluster}:cluster:analytics")  # migrations
    assert access.allows(role, "redshift:GetClusterCredentials", f"{cluster}:dbuser:analytics/onboard_loader")
    assert not access.allows(role, "redshift:GetClusterCredentials", f"{cluster}:dbuser:analytics/admin")


def test_deploy_yaml_prefix_and_retention_reach_names_and_log_groups(deployed):
    root, _ = deployed
    template = cfn.load(root / "cdk.out", "Source-sales_transactions")
    copy = next(r for k, r in cfn.resources(template, "AWS::IAM::Role").items() if k.startswith("CopyRole"))
    assert copy["RoleName"] == "acme-copy-sales_transactions"
    assert copy["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": ATTACHED}
    assert {g["RetentionInDays"] for g in cfn.resources(template, "AWS::Logs::LogGroup").values()} == {90}
    platform = cfn.load(root / "cdk.out", "Platform")
    names = sorted(b.get("BucketName", "") for b in cfn.resources(platform, "AWS::S3::Bucket").values())
    assert names == ["", *(f"acme-{z}-{cfn.ACCOUNT}-{cfn.REGION}"
                           for z in ("artifact", "curated", "processed", "quarantine", "raw"))]
    quarantine = next(b for b in cfn.resources(platform, "AWS::S3::Bucket").values()
                      if b.get("BucketName", "").startswith("acme-quarantine"))
    expiring = [r for r in quarantine["LifecycleConfiguration"]["Rules"] if r["Id"] == "expire-quarantine"]
    assert expiring[0]["ExpirationInDays"] == 14
    workgroup = cfn.one(platform, "AWS::Athena::WorkGroup")
    assert workgroup["Name"] == "acme-analytics"
    assert workgroup["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] == 2048 * 1024**2
    artifact = next(b for b in cfn.resources(platform, "AWS::S3::Bucket").values()
                    if b.get("BucketName", "").startswith("acme-artifact"))
    [results] = [r for r in artifact["LifecycleConfiguration"]["Rules"] if r["Id"] == "expire-athena-results"]
    assert results["ExpirationInDays"] == 7


def test_the_sources_glue_block_sizes_the_job_and_crawl_false_drops_the_crawl_step(deployed):
    root, _ = deployed
    template = cfn.load(root / "cdk.out", "Source-sales_transactions")
    job = cfn.one(template, "AWS::Glue::Job")
    assert (job["WorkerType"], job["NumberOfWorkers"], job["Timeout"]) == ("G.2X", 5, 30)
    states = cfn.state_machine_definition(template)["States"]
    assert "Crawl" not in states and states["RecordTransform"]["Next"] == "MigrationStart"
    assert states["ResumeAt?"]["Choices"] == [
        {"Variable": "$.ledger.stage", "StringEquals": "load", "Next": "MigrationStart"}]
    assert len(cfn.resources(template, "AWS::Glue::Crawler")) == 1  # the crawler exists, to run on demand
    assert "glue:startCrawler" not in json.dumps(cfn.flatten(template["Resources"]))  # nor may the pipeline start it
