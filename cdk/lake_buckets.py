"""The lake's buckets: raw, processed, curated, quarantine and artifact, plus their access-log bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from onboard_cdk.access import bucket_name
from onboard_cdk.settings import Retention

ZONES = ("raw", "processed", "curated", "quarantine")
BUCKETS = (*ZONES, "artifact")
GLUE_TEMP_PREFIX = "glue-temp/"


def lifecycle_rules(zone: str, retention: Retention) -> list[s3.LifecycleRule]:
    """Per zone: raw ages to Standard-IA then Glacier; quarantine expires; every zone drops old versions."""
    housekeeping = s3.LifecycleRule(
        id="housekeeping", abort_incomplete_multipart_upload_after=Duration.days(7),
        noncurrent_version_expiration=Duration.days(30))
    if zone == "raw":
        return [housekeeping, s3.LifecycleRule(id="age-raw", transitions=[
            s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                          transition_after=Duration.days(retention.raw_infrequent_access_days)),
            s3.Transition(storage_class=s3.StorageClass.GLACIER,
                          transition_after=Duration.days(retention.raw_glacier_days)),
        ])]
    if zone == "quarantine":
        return [housekeeping, s3.LifecycleRule(id="expire-quarantine",
                                               expiration=Duration.days(retention.quarantine_days))]
    if zone == "artifact":
        return [housekeeping, s3.LifecycleRule(id="expire-glue-temp", prefix=GLUE_TEMP_PREFIX,
                                               expiration=Duration.days(7))]
    return [housekeeping]


class LakeBuckets(Construct):
    """`buckets[zone]` for each lake zone and "artifact"; all SSE-KMS with one key, TLS only, private."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, key: kms.IKey,
                 retention: Retention) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))])
        self.buckets: dict[str, s3.Bucket] = {}
        for zone in BUCKETS:
            self.buckets[zone] = s3.Bucket(
                self, zone.capitalize(), bucket_name=bucket_name(prefix, zone),
                encryption=s3.BucketEncryption.KMS, encryption_key=key,
                bucket_key_enabled=True, enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=True,
                server_access_logs_bucket=self.access_logs, server_access_logs_prefix=f"{zone}/",
                lifecycle_rules=lifecycle_rules(zone, retention), removal_policy=RemovalPolicy.RETAIN)
        # S3 -> EventBridge, set on the bucket itself (the `event_bridge_enabled` prop would add a custom
        # resource Lambda to do the same).
        raw = self.buckets["raw"].node.default_child
        raw.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True))
