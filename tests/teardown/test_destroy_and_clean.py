"""`onboard destroy` runs `cdk destroy` (a stand-in CDK CLI records it), keeps the retained resources unless
`--delete-data` and the prefix typed back (moto S3/DynamoDB, a stubbed Redshift Serverless); `onboard clean`
removes the local state."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto import mock_aws

import framework.cli
from framework import doctor
from framework.cli import main
from onboard_cdk.synth import SynthResult
from tests.conftest import REPO

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TEMPLATE = '{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"BootstrapVersion": {"Value": "28"}}}'
FAKE_CDK = """#!/bin/sh
printf '%s\\n' "$*" >> "$(dirname "$0")/../../cdk-calls.txt"
"""
WG = "onboard-warehouse"  # the Serverless namespace and workgroup
STACKS = {"Platform": "onboard-platform", "Source-customers": "onboard-source-customers",
          "Source-orders": "onboard-source-orders"}


class Session:
    """moto for S3, DynamoDB, STS and CloudFormation; one stubbed Redshift Serverless client (moto has none)."""

    def __init__(self, moto_session, serverless):
        self.moto, self.serverless, self.region_name = moto_session, serverless, REGION

    def get_credentials(self):
        return self.moto.get_credentials()

    def client(self, name):
        return self.serverless if name == "redshift-serverless" else self.moto.client(name)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        moto_session = boto3.Session(region_name=REGION)
        moto_session.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=TEMPLATE)
        serverless = boto3.client("redshift-serverless", region_name=REGION)
        stub = Stubber(serverless)
        session = Session(moto_session, serverless)
        monkeypatch.setattr(doctor, "aws_session", lambda: session)
        with stub:
            yield session, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO / "generated", tmp_path / "generated")
    cli = tmp_path / "node_modules/.bin/cdk"
    cli.parent.mkdir(parents=True)
    cli.write_text(FAKE_CDK)
    cli.chmod(0o755)
    monkeypatch.setattr(framework.cli_teardown, "_synthesize",
                        lambda project, outdir: SynthResult(tmp_path / outdir, STACKS, [], {}))
    return tmp_path


def calls(project: Path) -> list[str]:
    path = project / "cdk-calls.txt"
    return path.read_text().splitlines() if path.is_file() else []


def test_destroy_names_the_source_stacks(aws, project):
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "orders", "customers"])
    assert result.exit_code == 0, result.output
    assert calls(project) == [f"destroy --app {project / 'cdk.out'} --no-notices Source-orders Source-customers"]


def test_destroy_everything_keeps_the_data_and_says_so(aws, project):
    session, _ = aws
    session.client("s3").create_bucket(Bucket=f"onboard-raw-{ACCOUNT}-{REGION}",
                                       CreateBucketConfiguration={"LocationConstraint": REGION})
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "--yes"])
    assert result.exit_code == 0, result.output
    assert calls(project) == [
        f"destroy --app {project / 'cdk.out'} --no-notices --force Source-customers Source-orders Platform"]
    assert result.output.splitlines()[-1] == (
        "retained (they hold data): the lake buckets, the run ledger and the warehouse; `onboard destroy "
        "--delete-data` removes them")
    assert [b["Name"] for b in session.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("onboard")] \
        == [f"onboard-raw-{ACCOUNT}-{REGION}"]


def test_an_unknown_source_is_refused_before_cdk_runs(aws, project):
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "nope"])
    assert result.exit_code == 2
    assert "unknown source nope; choose from: customers, orders" in result.output
    assert calls(project) == []


def onboard_buckets(session) -> list[str]:
    return [b["Name"] for b in session.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("onboard")]


def _retained(session, stub):
    s3 = session.client("s3")
    for zone in ("raw", "processed"):
        s3.create_bucket(Bucket=f"onboard-{zone}-{ACCOUNT}-{REGION}",
                         CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=f"onboard-raw-{ACCOUNT}-{REGION}", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=f"onboard-raw-{ACCOUNT}-{REGION}", Key="customers/a.csv", Body=b"1")
    s3.put_object(Bucket=f"onboard-raw-{ACCOUNT}-{REGION}", Key="customers/a.csv", Body=b"2")
    session.client("dynamodb").create_table(
        TableName="onboard-runs", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    stub.add_response("get_workgroup", {"workgroup": {"workgroupName": WG}}, {"workgroupName": WG})
    stub.add_response("get_namespace", {"namespace": {"namespaceName": WG}}, {"namespaceName": WG})


LISTED = [
    "retained resources, with their data:",
    f"  bucket onboard-raw-{ACCOUNT}-{REGION}",
    f"  bucket onboard-processed-{ACCOUNT}-{REGION}",
    "  table onboard-runs",
    "  workgroup onboard-warehouse",
    "  namespace onboard-warehouse",
]


def test_delete_data_needs_the_prefix_typed_back(aws, project):
    session, stub = aws
    _retained(session, stub)
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "--delete-data"], input="onbaord\n")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1:7] == LISTED
    assert lines[-1] == "not deleted: the prefix did not match"
    assert len(onboard_buckets(session)) == 2
    assert session.client("dynamodb").list_tables()["TableNames"] == ["onboard-runs"]


def test_delete_data_deletes_every_retained_resource(aws, project):
    session, stub = aws
    _retained(session, stub)
    stub.add_response("delete_workgroup", {"workgroup": {"workgroupName": WG}}, {"workgroupName": WG})
    stub.add_client_error("get_workgroup", "ResourceNotFoundException", expected_params={"workgroupName": WG})
    stub.add_response("delete_namespace", {"namespace": {"namespaceName": WG}}, {"namespaceName": WG})
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "--delete-data", "--yes"],
                                input="onboard\n")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:7] == LISTED
    assert result.output.splitlines()[-5:] == [line.replace("  ", "deleted ", 1) for line in LISTED[1:]]
    assert onboard_buckets(session) == []
    assert session.client("dynamodb").list_tables()["TableNames"] == []


def test_delete_data_is_refused_with_sources(aws, project):
    result = CliRunner().invoke(main, ["--project", str(project), "destroy", "orders", "--delete-data"])
    assert result.exit_code == 2
    assert "--delete-data deletes the shared lake and warehouse: use it without SOURCES" in result.output
    assert calls(project) == []


def test_clean_removes_the_local_state_after_confirmation(tmp_path, monkeypatch):
    monkeypatch.delenv("ONBOARD_HOME", raising=False)
    (tmp_path / ".onboard/lake/raw").mkdir(parents=True)
    (tmp_path / ".onboard/warehouse.duckdb").write_text("x")
    cli = CliRunner()
    refused = cli.invoke(main, ["--project", str(tmp_path), "clean"], input="n\n")
    assert refused.exit_code == 1 and (tmp_path / ".onboard").is_dir()
    assert "remove .onboard (local lake, warehouse, run ledger)? [y/N]" in refused.output
    done = cli.invoke(main, ["--project", str(tmp_path), "clean"], input="y\n")
    assert (done.exit_code, done.output.splitlines()[-1]) == (0, "removed .onboard")
    assert not (tmp_path / ".onboard").exists()
    (tmp_path / ".onboard").mkdir()
    assert cli.invoke(main, ["--project", str(tmp_path), "clean", "--yes"]).output == "removed .onboard\n"
    assert cli.invoke(main, ["--project", str(tmp_path), "clean"]).output == \
        "nothing to clean: .onboard does not exist\n"
