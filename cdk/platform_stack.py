"""PlatformStack: what every source shares — key, lake buckets, Glue catalog, alerts, warehouse, run ledger.

Region- and account-wide pieces exist only when a source needs them: the SES receipt rule set (email sources)
and API Gateway's account-level CloudWatch role (http_push sources, whose stage logs need it).
"""

from __future__ import annotations

from collections.abc import Collection

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

from onboard_cdk.analytics import AnalyticsLayer
from onboard_cdk.lake_buckets import LakeBuckets
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import ledger_table_name
from onboard_cdk.settings import DEFAULT_AVAILABILITY_ZONES, DeploySettings, ServerlessWarehouse
from onboard_cdk.warehouse import ServerlessWarehouseConstruct, WarehouseTarget, existing_cluster_target

# Services that write with the platform key on the platform's behalf (logs, alarms, rule targets).
# The wildcard actions aws-cdk-lib's BucketDeployment grants its handler (read the asset, write the bucket).
BUCKET_DEPLOYMENT_ACTIONS = ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*",
                             "kms:ReEncrypt*", "kms:GenerateDataKey*")
KEY_USING_SERVICES = ("events.amazonaws.com", "cloudwatch.amazonaws.com", "ses.amazonaws.com")


class PlatformStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, sources: list[str],
                 trigger_kinds: Collection[str] = (), python_modules: Collection[str] = (),
                 processed_prefixes: Collection[str] = (), exported_datasets: Collection[str] = (), **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.log_retention = logs.RetentionDays(_retention_name(settings.retention.log_days))
        self.key = kms.Key(self, "LakeKey", enable_key_rotation=True, alias=f"alias/{settings.prefix}-lake",
                           description="Onboard: encrypts the lake, logs, queues, topics and the warehouse",
                           removal_policy=RemovalPolicy.RETAIN)
        self._allow_services(self.key)
        self.lake = LakeBuckets(self, "Lake", prefix=settings.prefix, key=self.key, retention=settings.retention)
        self.buckets = self.lake.buckets
        if python_modules:
            self._ship_wheels(sorted(python_modules))
        if "ses" in trigger_kinds:
            self._receive_email(settings.prefix)
        self.api_gateway_account = self._api_gateway_logging() if "http" in trigger_kinds else None
        self.glue_database_name = f"{settings.prefix.replace('-', '_')}_lake"
        glue.CfnDatabase(
            self, "GlueDatabase", catalog_id=Aws.ACCOUNT_ID, database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.glue_database_name,
                description="Onboard: the lake's tables: <source>_batches (every batch) and the view <source> (what "
                            "Redshift holds) per source; the curated exports"))
        self.glue_security_configuration = glue.CfnSecurityConfiguration(
            self, "GlueSecurity", name=f"{settings.prefix}-glue",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=self.key.key_arn),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.key.key_arn),
                s3_encryptions=[glue.CfnSecurityConfiguration.S3EncryptionProperty(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=self.key.key_arn)]))
        self.analytics = AnalyticsLayer(
            self, "Analytics", prefix=settings.prefix, settings=settings.analytics, key=self.key,
            artifact=self.buckets["artifact"], database=self.glue_database_name, processed_prefixes=processed_prefixes,
            exported_datasets=exported_datasets, security_configuration=self.glue_security_configuration.ref)
        self.alerts = sns.Topic(self, "Alerts", display_name="Onboard alerts", master_key=self.key, enforce_ssl=True)
        # The topic policy replaces SNS's default one, so CloudWatch alarms of this account need their own allow.
        self.alerts.add_to_resource_policy(iam.PolicyStatement(
            actions=["sns:Publish"], principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            resources=[self.alerts.topic_arn], conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        self.ledger = dynamodb.Table(
            self, "RunLedger", table_name=ledger_table_name(settings.prefix),
            partition_key=dynamodb.Attribute(name="source", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="batch_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key, point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True), removal_policy=RemovalPolicy.RETAIN)
        warehouse = settings.warehouse
        if isinstance(warehouse, ServerlessWarehouse):
            self.serverless = ServerlessWarehouseConstruct(
                self, "Warehouse", settings=settings, config=warehouse, key=self.key, sources=sources,
                log_retention=self.log_retention)
            self.warehouse: WarehouseTarget = self.serverless.target
        else:
            self.serverless = None
            self.warehouse = existing_cluster_target(warehouse)

    @property
    def availability_zones(self) -> list[str]:
        """The AZs of deploy.yaml (`warehouse.availability_zones`, at least three: a Redshift Serverless workgroup
        needs subnets in three), named explicitly: `Fn::GetAZs` may list an AZ Redshift Serverless does not serve."""
        warehouse = self.settings.warehouse
        zones = warehouse.availability_zones if isinstance(warehouse, ServerlessWarehouse) \
            else DEFAULT_AVAILABILITY_ZONES
        return list(zones)

    def _ship_wheels(self, requirements: list[str]) -> None:
        """The wheels the sources' Glue jobs install, under `glue-wheels/` of the artifact bucket (file names kept):
        the wheelhouse as one asset, checked to hold every wheel the requirements need."""
        from aws_cdk import aws_s3_deployment as s3_deployment

        from onboard_cdk.wheels import WHEELHOUSE, WHEELS_PREFIX, wheel_names

        missing = [name for name in wheel_names(requirements) if not (WHEELHOUSE / name).is_file()]
        if missing:
            raise FileNotFoundError(f"wheels missing from {WHEELHOUSE}: {', '.join(missing)}")
        deployment = s3_deployment.BucketDeployment(
            self, "GlueWheels", destination_bucket=self.buckets["artifact"], destination_key_prefix=WHEELS_PREFIX,
            sources=[s3_deployment.Source.asset(str(WHEELHOUSE))], prune=False, retain_on_delete=True,
            memory_limit=256, log_group=logs.LogGroup(self, "GlueWheelsLogs", retention=self.log_retention,
                                                      encryption_key=self.key))
        acknowledge(deployment.handler_role, "IAM4", "CDK's BucketDeployment handler logs with "
                    "AWSLambdaBasicExecutionRole.",
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        policy = deployment.handler_role.node.find_child("DefaultPolicy").node.default_child
        artifact = self.get_logical_id(self.buckets["artifact"].node.default_child)
        for finding in (*(f"Action::{a}" for a in BUCKET_DEPLOYMENT_ACTIONS),
                        "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                        f"Resource::<{artifact}.Arn>/*"):
            acknowledge(policy, "IAM5", "CDK's BucketDeployment reads its asset from the CDK asset bucket and writes "
                        "the wheels to the artifact bucket (with the lake key); its grants are aws-cdk-lib's own.",
                        finding)
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(child, "L1", "The runtime of CDK's BucketDeployment handler is chosen by aws-cdk-lib.")

    def _api_gateway_logging(self) -> apigw.CfnAccount:
        """API Gateway's account-level CloudWatch role, which stage execution logging needs (once per account
        and region). Kept when the stack is deleted: other APIs of the account may log through it."""
        role = iam.Role(self, "ApiGatewayCloudWatchRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                        description="API Gateway (account setting): writes execution and access logs to CloudWatch",
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "service-role/AmazonAPIGatewayPushToCloudWatchLogs")])
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(role, "IAM4", "AmazonAPIGatewayPushToCloudWatchLogs is the policy API Gateway documents for its "
                    "account-level logging role; its log groups are named by API Gateway at run time.",
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        return account

    def _receive_email(self, prefix: str) -> None:
        """The receipt rule set email sources add their rules to; SES may store messages under `_inbox/`
        of the raw bucket for this account only. (Activate the rule set once: SES has one active set.)"""
        from onboard_cdk.naming import receipt_rule_set_name
        from onboard_cdk.triggers.ses_inbox import INBOX_ROOT

        ses.ReceiptRuleSet(self, "Inbound", receipt_rule_set_name=receipt_rule_set_name(prefix))
        self.buckets["raw"].add_to_resource_policy(iam.PolicyStatement(
            actions=["s3:PutObject"], principals=[iam.ServicePrincipal("ses.amazonaws.com")],
            resources=[self.buckets["raw"].arn_for_objects(INBOX_ROOT + "*")],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))

    def _allow_services(self, key: kms.Key) -> None:
        """Key policy: CloudWatch Logs for this account's log groups; alarms and rules for the topic and DLQs."""
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")], resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"}}))
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            principals=[iam.ServicePrincipal(s) for s in KEY_USING_SERVICES], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))


RETENTION_NAMES = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1827: "FIVE_YEARS",
    3653: "TEN_YEARS",
}


def _retention_name(days: int) -> str:
    """The RetentionDays member for a number of days (deploy.yaml allows only CloudWatch's values)."""
    return RETENTION_NAMES[days]
