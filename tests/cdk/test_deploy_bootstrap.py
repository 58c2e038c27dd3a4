"""`onboard deploy` checks for the CDK bootstrap stack first (moto CloudFormation) and, with `--bootstrap`, runs
`cdk bootstrap aws://ACCOUNT/REGION` before `cdk deploy`. The CDK CLI is a stand-in that records its arguments
and the synthesis is replaced by its result: no CDK CLI ever talks to AWS here."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto import mock_aws

import framework.cli
from framework import doctor
from framework.cli import main
from onboard_cdk.synth import SynthResult, bootstrap_command
from tests.conftest import REPO

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TEMPLATE = '{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"BootstrapVersion": {"Value": "28"}}}'
FAKE_CDK = """#!/bin/sh
printf '%s\\n' "$*" >> "$(dirname "$0")/../../cdk-calls.txt"
"""


def test_the_bootstrap_command_names_the_environment_and_the_assembly(tmp_path):
    cli = tmp_path / "node_modules/.bin/cdk"
    assert bootstrap_command(cli, tmp_path / "cdk.out", ACCOUNT, REGION) == [
        str(cli), "bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(tmp_path / "cdk.out"), "--no-notices"]


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        monkeypatch.setattr(doctor, "aws_session", lambda: session)
        yield session


def test_the_environment_of_a_deploy_and_whether_it_is_bootstrapped(aws):
    assert doctor.deploy_environment(aws) == doctor.DeployEnvironment(ACCOUNT, REGION, bootstrapped=False)
    aws.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=TEMPLATE)
    assert doctor.deploy_environment(aws) == doctor.DeployEnvironment(ACCOUNT, REGION, bootstrapped=True)


def test_a_broken_bootstrap_stack_stops_the_deploy_with_what_to_do():
    class Session:
        region_name = REGION

        def get_credentials(self):
            return boto3.Session(aws_access_key_id="x", aws_secret_access_key="y").get_credentials()

        def client(self, name):
            client = boto3.client(name, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
            stub = Stubber(client)
            if name == "sts":
                stub.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/a"})
            else:
                stub.add_response("describe_stacks", {"Stacks": [{
                    "StackName": "CDKToolkit", "StackStatus": "ROLLBACK_COMPLETE",
                    "CreationTime": datetime(2026, 1, 1, tzinfo=UTC)}]})
            stub.activate()
            return client

    with pytest.raises(doctor.PreflightError) as caught:
        doctor.deploy_environment(Session())
    assert str(caught.value) == (
        "fail  cdk-bootstrap: CDKToolkit is ROLLBACK_COMPLETE (bootstrap version ?) -> delete the CDKToolkit stack "
        "(aws cloudformation delete-stack --stack-name CDKToolkit), then `onboard deploy --bootstrap` (or "
        f"`cdk bootstrap aws://{ACCOUNT}/{REGION}`)")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project with the example manifests, a stand-in CDK CLI and a synthesis that only reports its stacks."""
    shutil.copytree(REPO / "generated", tmp_path / "generated")
    cli = tmp_path / "node_modules/.bin/cdk"
    cli.parent.mkdir(parents=True)
    cli.write_text(FAKE_CDK)
    cli.chmod(0o755)

    def synthesize(project, outdir):
        target = tmp_path / outdir
        return SynthResult(target, {"Platform": "onboard-platform", "Source-customers": "onboard-source-customers"},
                           [], {})

    monkeypatch.setattr(framework.cli, "_synthesize", synthesize)
    return tmp_path


def calls(project: Path) -> list[str]:
    path = project / "cdk-calls.txt"
    return path.read_text().splitlines() if path.is_file() else []


def test_without_a_bootstrap_stack_the_deploy_stops_before_synthesizing(aws, project, monkeypatch):
    monkeypatch.setattr(framework.cli, "_synthesize", lambda *a: pytest.fail("synthesized"))
    result = CliRunner().invoke(main, ["--project", str(project), "deploy"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"no CDK bootstrap stack (CDKToolkit) in account {ACCOUNT}, region {REGION}: run `onboard deploy --bootstrap` "
        f"(or `cdk bootstrap aws://{ACCOUNT}/{REGION}`)"]
    assert calls(project) == []


def test_with_bootstrap_the_environment_is_bootstrapped_then_deployed(aws, project):
    result = CliRunner().invoke(main, ["--project", str(project), "deploy", "--bootstrap", "--require-approval",
                                       "never"])
    assert result.exit_code == 0, result.output
    cdk_out = project / "cdk.out"
    assert calls(project) == [
        f"bootstrap aws://{ACCOUNT}/{REGION} --app {cdk_out} --no-notices",
        f"deploy --app {cdk_out} --require-approval never --no-notices Platform Source-customers"]
    assert f"$ {project / 'node_modules/.bin/cdk'} bootstrap aws://{ACCOUNT}/{REGION}" in result.output


def test_a_bootstrapped_environment_is_deployed_without_bootstrapping_again(aws, project):
    aws.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=TEMPLATE)
    for flags in ([], ["--bootstrap"]):
        result = CliRunner().invoke(main, ["--project", str(project), "deploy", *flags])
        assert result.exit_code == 0, result.output
    cdk_out = project / "cdk.out"
    assert calls(project) == [
        f"deploy --app {cdk_out} --require-approval broadening --no-notices Platform Source-customers"] * 2


def test_without_credentials_the_deploy_says_so(project, monkeypatch):
    class NoCredentials:
        region_name = None

        def get_credentials(self):
            return None

    monkeypatch.setattr(doctor, "aws_session", NoCredentials)
    result = CliRunner().invoke(main, ["--project", str(project), "deploy"])
    assert (result.exit_code, result.output.splitlines()) == (1, [
        "fail  credentials: no AWS credentials were found -> set AWS_PROFILE (aws configure, aws sso login) or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"])
    assert calls(project) == []


def test_deploy_help_tells_about_bootstrap():
    result = CliRunner().invoke(main, ["deploy", "--help"])
    text = " ".join(result.output.split())
    assert "--bootstrap When the account and region have no CDK bootstrap stack (CDKToolkit), run `cdk bootstrap " \
           "aws://ACCOUNT/REGION` first." in text
    assert "without it the deploy stops and says so; `--bootstrap` creates it first" in text
    assert "then run generated/_platform/bootstrap.sql as the Redshift admin (see docs/deploy.md)" in text
