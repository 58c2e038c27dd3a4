"""Each `onboard doctor` check against moto (botocore's Stubber where moto lacks the API): exact lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from framework import doctor

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def stubbed(service: str, region: str = REGION):
    client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


# --- credentials, region, identity ----------------------------------------------------------------------------

class NoCredentialsSession:
    region_name = None

    def get_credentials(self):
        return None


def test_without_credentials_the_line_says_so_and_nothing_else_runs():
    checks = list(doctor.run_checks(NoCredentialsSession(), target()))
    assert [c.line() for c in checks] == [
        "fail  credentials: no AWS credentials were found -> set AWS_PROFILE (aws configure, aws sso login) or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"]


def test_without_a_region_the_checks_stop_there(aws):
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y")
    session._session.set_config_variable("region", None)
    checks = list(doctor.run_checks(NoRegion(session), target()))
    assert [c.line() for c in checks] == [
        "ok    credentials: found (explicit)",
        "fail  region: no AWS region configured -> set AWS_REGION (or AWS_DEFAULT_REGION, or region in ~/.aws/config)"]


class NoRegion:
    def __init__(self, session):
        self.session = session
        self.region_name = None

    def get_credentials(self):
        return self.session.get_credentials()


def test_identity_names_the_account(aws):
    check, account = doctor.identity(aws.client("sts"))
    assert account == ACCOUNT
    assert check.line() == f"ok    identity: account {ACCOUNT} as arn:aws:sts::{ACCOUNT}:user/moto"


def test_refused_credentials_fail_with_the_reason():
    sts, stub = stubbed("sts")
    stub.add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired")
    with stub:
        check, account = doctor.identity(sts)
    assert account is None
    assert check.line() == ("fail  identity: the credentials were refused (ExpiredToken: The security token included "
                            "in the request is expired) -> renew them (aws sso login, or new access keys)")


# --- CDK bootstrap --------------------------------------------------------------------------------------------

BOOTSTRAP_TEMPLATE = json.dumps({
    "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {"BootstrapVersion": {"Value": "28"}}})


def test_missing_bootstrap_stack_fails_with_both_ways_to_create_it(aws):
    check = doctor.cdk_bootstrap(aws.client("cloudformation"), ACCOUNT, REGION)
    assert check.line() == (f"fail  cdk-bootstrap: no CDKToolkit stack in {REGION} -> run `onboard deploy --bootstrap` "
                            f"(or `cdk bootstrap aws://{ACCOUNT}/{REGION}`)")


def test_a_bootstrapped_environment_reports_the_bootstrap_version(aws):
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack(StackName="CDKToolkit", TemplateBody=BOOTSTRAP_TEMPLATE)
    assert doctor.bootstrap_stack(cloudformation)["StackName"] == "CDKToolkit"
    check = doctor.cdk_bootstrap(cloudformation, ACCOUNT, REGION)
    assert check.line() == "ok    cdk-bootstrap: CDKToolkit is CREATE_COMPLETE (bootstrap version 28)"


@pytest.mark.parametrize("status, line", [
    ("ROLLBACK_COMPLETE", "fail  cdk-bootstrap: CDKToolkit is ROLLBACK_COMPLETE (bootstrap version ?) -> delete the "
     "CDKToolkit stack (aws cloudformation delete-stack --stack-name CDKToolkit), then `onboard deploy --bootstrap` "
     f"(or `cdk bootstrap aws://{ACCOUNT}/{REGION}`)"),
    ("UPDATE_IN_PROGRESS", "warn  cdk-bootstrap: CDKToolkit is UPDATE_IN_PROGRESS (bootstrap version ?) -> wait for it "
     "to finish, then run `onboard doctor` again"),
    ("UPDATE_ROLLBACK_COMPLETE", "ok    cdk-bootstrap: CDKToolkit is UPDATE_ROLLBACK_COMPLETE (bootstrap version ?)"),
])
def test_bootstrap_stack_states(status, line):
    cloudformation, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", {"Stacks": [{
        "StackName": "CDKToolkit", "StackStatus": status, "CreationTime": datetime(2026, 1, 1, tzinfo=UTC)}]},
        {"StackName": "CDKToolkit"})
    with stub:
        assert doctor.cdk_bootstrap(cloudformation, ACCOUNT, REGION).line() == line


# --- SES ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("region, sources, line", [
    ("eu-west-1", ["supplier_invoices"], "ok    ses-receiving: SES receives email in eu-west-1 (for supplier_invoices)"),
    ("eu-central-1", ["a", "b"], "ok    ses-receiving: SES receives email in eu-central-1 (for a, b)"),
    ("eu-north-1", ["supplier_invoices"],
     "fail  ses-receiving: SES does not receive email in eu-north-1, which email source(s) supplier_invoices need -> "
     "deploy to one of ap-northeast-1, ap-southeast-1, ap-southeast-2, ca-central-1, eu-central-1, eu-west-1, "
     "eu-west-2, us-east-1, us-east-2, us-west-2 (see https://docs.aws.amazon.com/general/latest/gr/ses.html)"),
    ("eu-north-1", [], "ok    ses-receiving: no email source: SES receiving is not needed"),
])
def test_ses_receiving_by_region(region, sources, line):
    assert doctor.ses_receiving(region, sources).line() == line


def test_ses_rule_set_must_be_the_active_one(aws):
    ses = aws.client("ses")
    assert doctor.ses_rule_set(ses, "onboard-inbound", ["supplier_invoices"]).line() == (
        "warn  ses-rule-set: no receipt rule set is active: mail for supplier_invoices is not received yet -> after "
        "the first deploy run `aws ses set-active-receipt-rule-set --rule-set-name onboard-inbound` (and verify the "
        "domain)")
    ses.create_receipt_rule_set(RuleSetName="corporate")
    ses.set_active_receipt_rule_set(RuleSetName="corporate")
    assert doctor.ses_rule_set(ses, "onboard-inbound", ["supplier_invoices"]).line() == (
        "warn  ses-rule-set: the active receipt rule set is corporate, not onboard-inbound -> SES has one active rule "
        "set per region: move corporate's rules into onboard-inbound before `aws ses set-active-receipt-rule-set "
        "--rule-set-name onboard-inbound`, or add Onboard's rules to corporate")
    ses.create_receipt_rule_set(RuleSetName="onboard-inbound")
    ses.set_active_receipt_rule_set(RuleSetName="onboard-inbound")
    assert doctor.ses_rule_set(ses, "onboard-inbound", ["supplier_invoices"]).line() == (
        "ok    ses-rule-set: onboard-inbound is the active receipt rule set")


# --- Lambda concurrency (moto has no GetAccountSettings) ------------------------------------------------------

def lambda_with(total: int, unreserved: int, reserved_now: dict[str, int | None]):
    client, stub = stubbed("lambda")
    stub.add_response("get_account_settings", {"AccountLimit": {
        "ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}})
    for name, count in reserved_now.items():
        if count is None:
            stub.add_client_error("get_function_concurrency", "ResourceNotFoundException", "Function not found",
                                  expected_params={"FunctionName": name})
        else:
            stub.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": count},
                              {"FunctionName": name})
    return client, stub


@pytest.mark.parametrize("total, unreserved, now, wanted, line", [
    (1000, 1000, {}, {}, "ok    lambda-concurrency: 1000 of 1000 concurrent executions unreserved; the stacks reserve "
     "0 more, leaving 1000 (Lambda needs at least 100 unreserved)"),
    (1000, 990, {"onboard-a-land": 10, "onboard-b-land": None}, {"onboard-a-land": 10, "onboard-b-land": 5},
     "ok    lambda-concurrency: 990 of 1000 concurrent executions unreserved; the stacks reserve 5 more, leaving 985 "
     "(Lambda needs at least 100 unreserved)"),
    (100, 100, {"onboard-a-land": None}, {"onboard-a-land": 5},
     "fail  lambda-concurrency: 100 of 100 concurrent executions unreserved; the stacks reserve 5 more, leaving 95 "
     "(Lambda needs at least 100 unreserved) -> request a higher 'Concurrent executions' quota (Service Quotas, "
     "AWS Lambda) or reserve less (reserved_concurrency in deploy.yaml)"),
    (10, 10, {}, {}, "warn  lambda-concurrency: 10 of 10 concurrent executions unreserved; the stacks reserve none, "
     "but connectors and loaders share so few executions that they will be throttled -> request a higher "
     "'Concurrent executions' quota (Service Quotas, AWS Lambda)"),
], ids=["nothing reserved", "a redeploy counts what is reserved already", "a new account's 100", "a quota of 10"])
def test_lambda_concurrency(total, unreserved, now, wanted, line):
    client, stub = lambda_with(total, unreserved, now)
    with stub:
        assert doctor.lambda_concurrency(client, wanted).line() == line
    stub.assert_no_pending_responses()


# --- availability zones ---------------------------------------------------------------------------------------

def test_three_available_zones_and_the_configured_ones(aws):
    ec2 = aws.client("ec2")
    assert doctor.availability_zones(ec2, None).line() == (
        "ok    availability-zones: 3 usable: eu-west-1a, eu-west-1b, eu-west-1c")
    assert doctor.availability_zones(ec2, ("eu-west-1a", "eu-west-1b", "euw1-az2")).line() == (
        "ok    availability-zones: eu-west-1a, eu-west-1b, euw1-az2 are available (of 3 usable)")
    assert doctor.availability_zones(ec2, ("us-east-1a", "us-east-1b", "us-east-1c")).line() == (
        "fail  availability-zones: deploy.yaml warehouse.availability_zones names us-east-1a, us-east-1b, us-east-1c, "
        "not usable here (usable: eu-west-1a, eu-west-1b, eu-west-1c) -> list 3 of eu-west-1a, eu-west-1b, "
        "eu-west-1c in deploy.yaml warehouse.availability_zones")


def test_zones_that_need_opting_in_or_are_impaired_do_not_count():
    ec2, stub = stubbed("ec2")
    zone = {"RegionName": REGION, "ZoneType": "availability-zone", "OptInStatus": "opt-in-not-required"}
    stub.add_response("describe_availability_zones", {"AvailabilityZones": [
        {**zone, "ZoneName": "eu-west-1a", "ZoneId": "euw1-az1", "State": "available"},
        {**zone, "ZoneName": "eu-west-1b", "ZoneId": "euw1-az2", "State": "impaired"},
        {**zone, "ZoneName": "eu-west-1c", "ZoneId": "euw1-az3", "State": "available"},
        {**zone, "ZoneName": "eu-west-1-lhr-1a", "ZoneId": "euw1-lhr1-az1", "State": "available",
         "ZoneType": "local-zone", "OptInStatus": "opted-in"}]})
    with stub:
        assert doctor.availability_zones(ec2, None).line() == (
            "fail  availability-zones: 2 usable availability zone(s) (eu-west-1a, eu-west-1c); Redshift Serverless "
            "needs subnets in 3 -> deploy to another region, or name an existing cluster in deploy.yaml "
            "(warehouse.kind: cluster)")


# --- Kinesis and MSK ------------------------------------------------------------------------------------------

def test_kinesis_streams_must_exist(aws):
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="iot-sensor-readings", ShardCount=1)
    assert doctor.kinesis_stream(kinesis, "sensor_readings_stream", "iot-sensor-readings", REGION).line() == (
        "ok    kinesis:sensor_readings_stream: Kinesis stream iot-sensor-readings is ACTIVE")
    assert doctor.kinesis_stream(kinesis, "sensor_readings_stream", "iot-other", REGION).line() == (
        f"fail  kinesis:sensor_readings_stream: Kinesis stream iot-other not found in {REGION} -> create it, or "
        "correct config.stream_name of source sensor_readings_stream")


def test_an_msk_cluster_that_exists_and_is_still_being_created(aws):
    kafka = aws.client("kafka")
    arn = kafka.create_cluster_v2(ClusterName="iot", Provisioned={
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-1", "subnet-2"]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2})["ClusterArn"]
    assert doctor.kafka_cluster(kafka, "readings", arn).line() == (
        "warn  kafka:readings: MSK cluster iot is CREATING -> wait until it is ACTIVE")


def test_an_msk_cluster_that_does_not_exist():
    kafka, stub = stubbed("kafka")
    arn = f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/iot/5a1e0c3b-7d2f-4b8e-9c1d-2e3f4a5b6c7d-3"
    stub.add_client_error("describe_cluster_v2", "NotFoundException", "cluster not found")
    with stub:
        assert doctor.kafka_cluster(kafka, "readings", arn).line() == (
            f"fail  kafka:readings: MSK cluster {arn} not found -> correct config.cluster_arn of source readings (the "
            "cluster must exist before the deploy)")


# --- the loader's database identity (Data API) ----------------------------------------------------------------

WAREHOUSE = {"WorkgroupName": "onboard-warehouse", "Database": "analytics"}


def answers(stub: Stubber, statement: str, sql: str, parameters: dict[str, str], rows: list[list[dict]],
            target: dict[str, str] = WAREHOUSE) -> None:
    stub.add_response("execute_statement", {"Id": statement}, {
        "Sql": sql, "Parameters": [{"name": k, "value": v} for k, v in parameters.items()], **target})
    stub.add_response("describe_statement", {"Id": statement, "Status": "STARTED"}, {"Id": statement})
    stub.add_response("describe_statement", {"Id": statement, "Status": "FINISHED", "HasResultSet": True},
                      {"Id": statement})
    stub.add_response("get_statement_result", {"Records": rows, "ColumnMetadata": [], "TotalNumRows": len(rows)},
                      {"Id": statement})


GRANTS = ("SELECT 'database ' || :database, has_database_privilege(:user, :database, 'CREATE') UNION ALL SELECT "
          "'schema ' || nspname, has_schema_privilege(:user, nspname, 'CREATE') FROM pg_namespace WHERE nspname IN "
          "(:schema0, :schema1)")
GRANT_PARAMETERS = {"user": "onboard_loader", "database": "analytics", "schema0": "onboard_meta", "schema1": "sales"}


def check_loader(stub_answers) -> str:
    data_api, stub = stubbed("redshift-data")
    stub_answers(stub)
    with stub:
        check = doctor.loader_identity(data_api, WAREHOUSE, "onboard_loader", "analytics", ["onboard_meta", "sales"],
                                       sleep=lambda _: None)
    stub.assert_no_pending_responses()
    return check.line()


def test_the_loader_user_with_its_grants():
    def stub_answers(stub):
        answers(stub, "s1", doctor.USER_SQL, {"user": "onboard_loader"}, [[{"stringValue": "onboard_loader"}]])
        answers(stub, "s2", GRANTS, GRANT_PARAMETERS, [
            [{"stringValue": "database analytics"}, {"booleanValue": True}],
            [{"stringValue": "schema sales"}, {"booleanValue": True}]])

    assert check_loader(stub_answers) == (
        "ok    loader-identity: database user onboard_loader exists and may create in analytics and schema sales")


def test_a_missing_loader_user_points_at_the_bootstrap_sql():
    def stub_answers(stub):
        answers(stub, "s1", doctor.USER_SQL, {"user": "onboard_loader"}, [])

    assert check_loader(stub_answers) == (
        "fail  loader-identity: database user onboard_loader does not exist -> run generated/_platform/bootstrap.sql "
        "as the namespace admin (Redshift query editor, or psql)")


def test_missing_grants_are_named():
    def stub_answers(stub):
        answers(stub, "s1", doctor.USER_SQL, {"user": "onboard_loader"}, [[{"stringValue": "onboard_loader"}]])
        answers(stub, "s2", GRANTS, GRANT_PARAMETERS, [
            [{"stringValue": "database analytics"}, {"booleanValue": False}],
            [{"stringValue": "schema sales"}, {"booleanValue": False}],
            [{"stringValue": "schema onboard_meta"}, {"booleanValue": True}]])

    assert check_loader(stub_answers) == (
        "fail  loader-identity: database user onboard_loader lacks CREATE on database analytics, schema sales -> run "
        "generated/_platform/bootstrap.sql as the namespace admin (Redshift query editor, or psql)")


@pytest.mark.parametrize("failure, reason", [
    (lambda stub: stub.add_client_error("execute_statement", "ValidationException",
                                        "Workgroup onboard-warehouse not found."),
     "ValidationException: Workgroup onboard-warehouse not found."),
    (lambda stub: (stub.add_response("execute_statement", {"Id": "s1"}),
                   stub.add_response("describe_statement", {"Id": "s1", "Status": "FAILED",
                                                           "Error": "connection refused"})),
     "connection refused"),
], ids=["no workgroup", "statement failed"])
def test_an_unreachable_warehouse_is_a_warning(failure, reason):
    assert check_loader(failure) == (
        f"warn  loader-identity: warehouse not reachable ({reason}); the loader user is not checked -> run "
        "`onboard doctor` again after the first deploy, with credentials that may read the admin secret")


def target(**changes) -> doctor.Target:
    base = doctor.Target(prefix="onboard", email_sources=(), kinesis_streams=(), kafka_clusters=(),
                         self_managed_kafka=(), reserved={}, availability_zones=(), warehouse=WAREHOUSE,
                         loader_user="onboard_loader", schemas=("onboard_meta", "sales"), namespace=None)
    return doctor.Target(**{**base.__dict__, **changes})


def test_the_checks_sign_in_as_the_namespace_admin():
    serverless, stub = stubbed("redshift-serverless")
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:redshift!onboard-warehouse-onboard_admin-AbCdEf"
    stub.add_response("get_namespace", {"namespace": {"namespaceName": "onboard-warehouse",
                                                      "adminPasswordSecretArn": secret}},
                      {"namespaceName": "onboard-warehouse"})
    with stub:
        assert doctor.admin_connection(serverless, "onboard-warehouse", WAREHOUSE) == {**WAREHOUSE, "SecretArn": secret}
