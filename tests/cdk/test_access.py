"""ARNs and statements built from a manifest's scopes, resolved the way CloudFormation will see them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from onboard_cdk.access import ScopedPolicy, objects_arn, secret_statement, zone_of
from tests.cdk import cfn


def resolved(statement) -> dict:
    return cfn.flatten(cdk.Stack().resolve(statement.to_statement_json()))


def test_a_sources_secrets_are_granted_by_name_with_secrets_managers_suffix_only():
    statement = secret_statement(["customer_api_key", "shop/oauth"])
    assert resolved(statement) == {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": [
        f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:customer_api_key-??????",
        f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:shop/oauth-??????"]}
    assert secret_statement([]) is None


def test_prefix_scopes_become_object_and_listing_statements_and_their_nag_findings():
    policy = ScopedPolicy("onboard", ("raw", "processed")).objects(
        [{"bucket": "${BUCKET:raw}", "prefix": "sales/"}], ("s3:GetObject",))
    assert [resolved(s) for s in policy.statements] == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": f"{cfn.bucket_arn('raw')}/sales/*"},
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": cfn.bucket_arn("raw"),
         "Condition": {"StringLike": {"s3:prefix": ["sales/*"]}}},
    ]
    assert policy.findings == ["Resource::arn:<AWS::Partition>:s3:::onboard-raw-<AWS::AccountId>-<AWS::Region>/sales/*"]


@pytest.mark.parametrize("prefix", ["", "/", "/abs/", "a/*/"])
def test_a_prefix_that_would_widen_the_grant_is_refused(prefix):
    with pytest.raises(ValueError, match="is not a key prefix"):
        objects_arn("onboard", "raw", prefix)


def test_only_lake_buckets_can_be_granted():
    with pytest.raises(ValueError, match=r"'my-bucket' does not name a lake bucket; expected \$\{BUCKET:zone\}"):
        zone_of("my-bucket", ("raw",))
