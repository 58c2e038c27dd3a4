"""`onboard doctor` end to end: no credentials (a real process with an empty environment), and the example
project against moto, with stubbed answers for the two APIs moto lacks (Lambda account settings, Data API)."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework import doctor
from framework.cli import main
from framework.project import Project
from framework.spec import load_project
from tests.conftest import REPO
from tests.doctor.test_checks import BOOTSTRAP_TEMPLATE, answers, stubbed

REGION = "us-east-1"
NO_CREDENTIALS = ("fail  credentials: no AWS credentials were found -> set AWS_PROFILE (aws configure, aws sso login) "
                  "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


@pytest.mark.parametrize("flags, expected", [
    ([], NO_CREDENTIALS),
    (["--json"], json.dumps({"check": "credentials", "status": "fail", "detail": "no AWS credentials were found",
                             "fix": "set AWS_PROFILE (aws configure, aws sso login) or AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY"})),
])
def test_without_credentials_one_line_says_so_and_the_exit_code_is_1(tmp_path, flags, expected):
    environment = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}  # no instance role lookup either
    done = subprocess.run([sys.executable, "-m", "framework.cli", "--project", str(REPO), "doctor", *flags],
                          env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (1, [expected], "")


class MotoSession:
    """A boto3 session on moto, except for the clients given (stubbed)."""

    def __init__(self, stubs: dict):
        self.session = boto3.Session(region_name=REGION)
        self.region_name = REGION
        self.stubs = stubs

    def get_credentials(self):
        return self.session.get_credentials()

    def client(self, name: str, **kwargs):
        return self.stubs.get(name) or self.session.client(name, **kwargs)


@pytest.fixture
def doctor_run(monkeypatch):
    """Run `onboard doctor --json` on the example project in a moto account; returns (exit code, checks)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        def run(prepare=lambda session: None, warehouse=None):
            lambda_client, lambda_stub = stubbed("lambda", REGION)
            lambda_stub.add_response("get_account_settings", {"AccountLimit": {
                "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}})
            serverless, serverless_stub = stubbed("redshift-serverless", REGION)
            data_api, data_stub = stubbed("redshift-data", REGION)
            if warehouse is None:
                serverless_stub.add_client_error("get_namespace", "ResourceNotFoundException",
                                                 "Namespace onboard-warehouse not found.")
            else:
                warehouse(serverless_stub, data_stub)
            session = MotoSession({"lambda": lambda_client, "redshift-serverless": serverless,
                                   "redshift-data": data_api})
            prepare(session)
            monkeypatch.setattr(doctor, "aws_session", lambda: session)
            with lambda_stub, serverless_stub, data_stub:
                result = CliRunner().invoke(main, ["--project", str(REPO), "doctor", "--json"])
            data_stub.assert_no_pending_responses()
            assert result.exception is None or isinstance(result.exception, SystemExit), result.output
            return result.exit_code, [json.loads(line) for line in result.output.splitlines()]
        yield run


def test_a_fresh_account_fails_on_the_bootstrap_stack_and_the_missing_stream(doctor_run):
    code, checks = doctor_run()
    assert code == 1
    assert [(c["check"], c["status"]) for c in checks] == [
        ("credentials", "ok"), ("region", "ok"), ("identity", "ok"), ("cdk-bootstrap", "fail"),
        ("ses-receiving", "ok"), ("ses-rule-set", "warn"), ("lambda-concurrency", "ok"),
        ("availability-zones", "ok"), ("kinesis:sensor_readings_stream", "fail"), ("loader-identity", "warn")]
    assert checks[8] == {"check": "kinesis:sensor_readings_stream", "status": "fail",
                         "detail": f"Kinesis stream iot-sensor-readings not found in {REGION}",
                         "fix": "create it, or correct config.stream_name of source sensor_readings_stream"}
    assert all(set(c) == {"check", "status", "detail", "fix"} for c in checks)
    assert checks[-1]["detail"] == ("warehouse not reachable (ResourceNotFoundException: Namespace onboard-warehouse "
                                    "not found.); the loader user is not checked")


def test_a_prepared_account_passes_with_warnings_only(doctor_run):
    def prepare(session):
        session.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAP_TEMPLATE)
        session.client("kinesis").create_stream(StreamName="iot-sensor-readings", ShardCount=1)
        session.client("ses").create_receipt_rule_set(RuleSetName="onboard-inbound")
        session.client("ses").set_active_receipt_rule_set(RuleSetName="onboard-inbound")

    code, checks = doctor_run(prepare)
    assert code == 0
    assert {c["check"]: c["status"] for c in checks if c["status"] != "ok"} == {"loader-identity": "warn"}


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!onboard-warehouse-onboard_admin-AbCdEf"


def test_a_deployed_and_bootstrapped_warehouse_passes_as_the_admin_sees_it(doctor_run):
    target = {"WorkgroupName": "onboard-warehouse", "Database": "analytics", "SecretArn": SECRET}
    schemas = sorted({"onboard_meta", *(s.definition.redshift.schema_ for s in load_project(Project.at(REPO)))})
    names = {f"schema{i}": schema for i, schema in enumerate(schemas)}
    grants = doctor.GRANTS_SQL.format(schemas=", ".join(f":{key}" for key in names))

    def warehouse(serverless_stub, data_stub):
        serverless_stub.add_response("get_namespace", {"namespace": {"adminPasswordSecretArn": SECRET}},
                                     {"namespaceName": "onboard-warehouse"})
        answers(data_stub, "s1", doctor.USER_SQL, {"user": "onboard_loader"}, [[{"stringValue": "onboard_loader"}]],
                target)
        answers(data_stub, "s2", grants, {"user": "onboard_loader", "database": "analytics", **names},
                [[{"stringValue": "database analytics"}, {"booleanValue": True}]]
                + [[{"stringValue": f"schema {name}"}, {"booleanValue": True}] for name in schemas], target)

    def prepare(session):
        session.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAP_TEMPLATE)
        session.client("kinesis").create_stream(StreamName="iot-sensor-readings", ShardCount=1)

    code, checks = doctor_run(prepare, warehouse)
    assert code == 0
    assert checks[-1]["status"] == "ok"
    assert checks[-1]["detail"] == "database user onboard_loader exists and may create in analytics and " + \
        ", ".join(f"schema {name}" for name in schemas)
