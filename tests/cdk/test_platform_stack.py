"""PlatformStack: key rotation, lake buckets (KMS, TLS only, private, logged, lifecycle), Glue, alerts,
warehouse and ledger — asserted on the template `onboard synth` wrote."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.cdk import cfn
from tests.conftest import REPO

pytestmark = pytest.mark.slow
ZONES = ("raw", "processed", "curated", "quarantine", "artifact")
EXAMPLE_SOURCES = sorted(p.parent.name for p in (REPO / "generated").glob("*/manifest.json"))


@pytest.fixture(scope="module")
def platform(assembly):
    return cfn.load(assembly, "Platform")


@pytest.fixture(scope="module")
def template(platform):
    return Template.from_json(platform)


def buckets_by_zone(platform):
    found = {}
    for logical_id, props in cfn.resources(platform, "AWS::S3::Bucket").items():
        name = props.get("BucketName", "")
        zone = next((z for z in ZONES if name == f"onboard-{z}-{cfn.ACCOUNT}-{cfn.REGION}"), None)
        found[zone or "access-logs"] = (logical_id, props)
    return found


def test_the_key_rotates(template):
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.resource_count_is("AWS::KMS::Key", 1)


def test_every_lake_bucket_is_kms_encrypted_private_and_logged(platform):
    buckets = buckets_by_zone(platform)
    assert sorted(buckets) == sorted((*ZONES, "access-logs"))
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    logs_id = buckets["access-logs"][0]
    for zone in ZONES:
        _, props = buckets[zone]
        [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"<{key_id}.Arn>"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        assert props["LoggingConfiguration"] == {"DestinationBucketName": f"<{logs_id}>", "LogFilePrefix": f"{zone}/"}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_every_bucket_refuses_requests_without_tls(platform):
    policies = cfn.resources(platform, "AWS::S3::BucketPolicy").values()
    denied = set()
    for policy in policies:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                denied.add(policy["Bucket"])
    assert len(denied) == len(ZONES) + 1  # the lake buckets and the access-log bucket


def test_lifecycle_raw_ages_to_infrequent_access_then_glacier_and_quarantine_expires(platform):
    buckets = buckets_by_zone(platform)
    raw_rules = {r["Id"]: r for r in buckets["raw"][1]["LifecycleConfiguration"]["Rules"]}
    assert raw_rules["age-raw"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30}, {"StorageClass": "GLACIER", "TransitionInDays": 90}]
    quarantine_rules = {r["Id"]: r for r in buckets["quarantine"][1]["LifecycleConfiguration"]["Rules"]}
    assert quarantine_rules["expire-quarantine"]["ExpirationInDays"] == 30
    for zone in ZONES:
        housekeeping = {r["Id"]: r for r in buckets[zone][1]["LifecycleConfiguration"]["Rules"]}["housekeeping"]
        assert housekeeping["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
        assert housekeeping["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_raw_bucket_sends_object_events_to_eventbridge_without_a_custom_resource(platform, template):
    raw = buckets_by_zone(platform)["raw"][1]
    assert raw["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    template.resource_count_is("AWS::Lambda::Function", 2)  # the S3 prefix list lookup's (Custom::AWS), the pipeline API
    template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_glue_security_configuration_encrypts_logs_and_bookmarks(template):
    key = {"Fn::GetAtt": [Match.string_like_regexp("LakeKey"), "Arn"]}
    template.has_resource_properties("AWS::Glue::SecurityConfiguration", {"Name": "onboard-glue", "EncryptionConfiguration": {
        "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key},
        "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": key},
        "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key}]}})
    template.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": "onboard_lake"}})


def test_alert_topic_is_encrypted_and_tls_only(platform):
    topic_id, topic = next(iter(cfn.resources(platform, "AWS::SNS::Topic").items()))
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    assert topic["KmsMasterKeyId"] == f"<{key_id}.Arn>"
    [policy] = cfn.resources(platform, "AWS::SNS::TopicPolicy").values()
    deny_plain_http, *allows = policy["PolicyDocument"]["Statement"]
    assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= deny_plain_http.items()
    assert policy["Topics"] == [f"<{topic_id}>"]
    publishers = {s["Principal"]["Service"]: s.get("Condition") for s in allows if s["Action"] == "sns:Publish"}
    assert publishers == {"cloudwatch.amazonaws.com": {"StringEquals": {"aws:SourceAccount": cfn.ACCOUNT}},
                          "events.amazonaws.com": None}


def test_run_ledger_is_encrypted_with_point_in_time_recovery(template):
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": "onboard-runs",  # fixed: `onboard status --deployed` and `run --resume --deployed` find it
        "KeySchema": [{"AttributeName": "source", "KeyType": "HASH"}, {"AttributeName": "batch_id", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()}})


def test_serverless_warehouse_is_private_encrypted_and_in_three_isolated_subnets(platform, template):
    template.has_resource_properties("AWS::RedshiftServerless::Namespace", {
        "NamespaceName": "onboard-warehouse", "DbName": "analytics", "ManageAdminPassword": True,
        "KmsKeyId": Match.any_value(), "LogExports": ["userlog", "connectionlog", "useractivitylog"]})
    workgroup = cfn.one(platform, "AWS::RedshiftServerless::Workgroup")
    assert workgroup["PubliclyAccessible"] is False and workgroup["EnhancedVpcRouting"] is True
    subnets = cfn.resources(platform, "AWS::EC2::Subnet")
    assert len(workgroup["SubnetIds"]) == 3 == len(subnets)
    assert all(props["MapPublicIpOnLaunch"] is False for props in subnets.values())
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    [group] = cfn.resources(platform, "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group
    template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL"})


def test_the_role_attached_to_redshift_may_assume_only_the_named_copy_roles(platform):
    access = cfn.Access.of(platform)
    [chain_role] = [r for r in access.roles() if "CopyChainRole" in r]
    [statement] = access.statements[chain_role]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == [f"arn:aws:iam::{cfn.ACCOUNT}:role/onboard-copy-{source}"
                                     for source in EXAMPLE_SOURCES]


def test_ses_may_store_inbound_mail_only_under_the_raw_inbox_of_this_account(assembly):
    template = cfn.load(assembly, "Platform")
    [rule_set] = cfn.resources(template, "AWS::SES::ReceiptRuleSet").values()
    assert rule_set == {"RuleSetName": "onboard-inbound"}
    policies = [p for p in cfn.resources(template, "AWS::S3::BucketPolicy").values()
                if p["Bucket"].startswith("<LakeRaw")]
    [ses] = [s for p in policies for s in p["PolicyDocument"]["Statement"]
             if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert ses["Action"] == "s3:PutObject"
    assert ses["Resource"].endswith("/_inbox/*")
    assert ses["Condition"] == {"StringEquals": {"aws:SourceAccount": cfn.ACCOUNT}}


def test_the_analytics_workgroup_is_enforced_encrypted_with_the_key_and_limits_each_query(platform):
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    workgroup = cfn.one(platform, "AWS::Athena::WorkGroup")
    assert workgroup["Name"] == "onboard-analytics" and workgroup["State"] == "ENABLED"
    assert workgroup["RecursiveDeleteOption"] is True  # `onboard destroy` also removes saved queries
    assert workgroup["WorkGroupConfiguration"] == {
        "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": 10 * 1024**3,  # deploy.yaml's default analytics.scan_limit_mb: 10 GiB
        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
        "ResultConfiguration": {
            "OutputLocation": f"s3://onboard-artifact-{cfn.ACCOUNT}-{cfn.REGION}/athena-results/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": f"<{key_id}.Arn>"}}}


def test_athena_results_expire(platform):
    artifact = buckets_by_zone(platform)["artifact"][1]
    rules = {r["Id"]: r for r in artifact["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-athena-results"] == {"Id": "expire-athena-results", "Prefix": "athena-results/",
                                              "ExpirationInDays": 30, "Status": "Enabled"}


def test_the_analyst_policy_reads_the_lake_views_and_exports_only_through_the_workgroup(platform):
    [policy] = cfn.resources(platform, "AWS::IAM::ManagedPolicy").values()
    assert policy["ManagedPolicyName"] == "onboard-analyst" and "Roles" not in policy  # attached by the admin
    access = cfn.Access({"analyst": policy["PolicyDocument"]["Statement"]})
    glue = f"arn:aws:glue:{cfn.REGION}:{cfn.ACCOUNT}"
    bucket = f"arn:aws:s3:::onboard-{{}}-{cfn.ACCOUNT}-{cfn.REGION}"
    workgroup = f"arn:aws:athena:{cfn.REGION}:{cfn.ACCOUNT}:workgroup/onboard-analytics"
    assert access.allows("analyst", "athena:StartQueryExecution", workgroup)
    assert not access.allows("analyst", "athena:StartQueryExecution", workgroup.replace("onboard-analytics", "primary"))
    assert not access.allows("analyst", "athena:UpdateWorkGroup", workgroup)  # its settings stay enforced
    assert access.allows("analyst", "athena:ListWorkGroups", "*")
    assert access.allows("analyst", "glue:GetTable", f"{glue}:table/onboard_lake/customers")
    assert not access.allows("analyst", "glue:GetTable", f"{glue}:table/other_db/customers")
    assert not access.allows("analyst", "glue:CreateTable", f"{glue}:table/onboard_lake/customers")
    for source in EXAMPLE_SOURCES:
        assert access.allows("analyst", "s3:GetObject", bucket.format("processed") + f"/{source}/x.parquet")
        assert access.allows("analyst", "s3:ListBucket", bucket.format("processed"), s3_prefix=f"{source}/")
    assert access.allows("analyst", "s3:GetObject", bucket.format("curated") + "/curated/revenue_by_tier/0.parquet")
    assert access.allows("analyst", "s3:PutObject", bucket.format("artifact") + "/athena-results/q.csv")
    assert not access.allows("analyst", "s3:PutObject", bucket.format("processed") + "/customers/x.parquet")
    for zone, key in (("raw", "customers/x.csv"), ("quarantine", "customers/b/x.jsonl"),
                      ("processed", "_manifests/customers/b.manifest"), ("artifact", "glue-temp/x")):
        assert not access.allows("analyst", "s3:GetObject", f"{bucket.format(zone)}/{key}"), (zone, key)
    key_id = next(iter(cfn.resources(platform, "AWS::KMS::Key")))
    assert access.allows("analyst", "kms:Decrypt", f"<{key_id}.Arn>")


def test_the_curated_exports_are_catalogued_by_their_own_crawler(platform):
    [crawler] = [c for c in cfn.resources(platform, "AWS::Glue::Crawler").values()
                 if c["Name"] == "onboard-curated-exports"]
    assert crawler["DatabaseName"] == "onboard_lake"
    assert crawler["Targets"] == {"S3Targets": [
        {"Path": f"s3://onboard-curated-{cfn.ACCOUNT}-{cfn.REGION}/curated/revenue_by_tier/"}]}
    assert crawler["CrawlerSecurityConfiguration"] == "<GlueSecurity>"
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}
