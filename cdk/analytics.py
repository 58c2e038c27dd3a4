"""Athena over the lake: the `<prefix>-analytics` workgroup, the analyst policy and the curated exports' catalog.

- The workgroup enforces its configuration (a client cannot send results elsewhere or unencrypted): results go
  to `athena-results/` of the artifact bucket, SSE-KMS with the platform key, and expire after
  `analytics.results_days`; a query that would scan more than `analytics.scan_limit_mb` is cancelled. Deleting the
  stack (`onboard destroy`) deletes the workgroup with its saved queries (RecursiveDeleteOption); results stay
  in the retained artifact bucket until they expire.
- `<prefix>-analyst` (a managed policy attached to nothing: attach it to the analysts' role or permission set)
  allows queries in that workgroup only, reading the Glue database's tables and views, the processed zone's
  source folders and the curated exports, and writing results under the results prefix. Not the raw or
  quarantine zones (rows there are as received: PII not yet hashed or dropped), not the manifests.
- The curated exports (datasets with `export: parquet`, UNLOADed by the loaders to `curated/<dataset>/`) are
  catalogued by one crawler, `<prefix>-curated-exports`, one S3 target per dataset folder: the table is named
  after the folder (the dataset) and its column types are read from the Parquet Redshift wrote. It runs daily
  (a dataset's schema changes only with a redeploy; new files need no crawl: the table is not partitioned).
"""

from __future__ import annotations

from collections.abc import Collection

from aws_cdk import Duration
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from onboard_cdk.access import Arn, bucket_arn, bucket_name, key_statement, objects_arn
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import analyst_policy_name, curated_crawler_name, workgroup_name
from onboard_cdk.settings import Analytics

RESULTS_PREFIX = "athena-results/"
CURATED_PREFIX = "curated/"  # the datasets' folder in the curated bucket (as the loaders UNLOAD it)
ENGINE_VERSION = "Athena engine version 3"
CURATED_CRAWL_SCHEDULE = "cron(0 1 * * ? *)"
QUERY_ACTIONS = ("athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                 "athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:BatchGetQueryExecution",
                 "athena:ListQueryExecutions", "athena:GetWorkGroup", "athena:CreateNamedQuery",
                 "athena:GetNamedQuery", "athena:BatchGetNamedQuery", "athena:ListNamedQueries",
                 "athena:DeleteNamedQuery")
# Listing and catalog browsing (the console's workgroup picker and table tree) have no resource-level
# permission; what they may show is limited by the Glue permissions below.
BROWSE_ACTIONS = ("athena:ListWorkGroups", "athena:ListEngineVersions", "athena:ListDataCatalogs",
                  "athena:ListDatabases", "athena:GetDatabase", "athena:ListTableMetadata", "athena:GetTableMetadata")
CATALOG_READ_ACTIONS = ("glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                        "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition")


class AnalyticsLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, settings: Analytics, key: kms.IKey,
                 artifact: s3.Bucket, database: str, processed_prefixes: Collection[str],
                 exported_datasets: Collection[str], security_configuration: str) -> None:
        super().__init__(scope, construct_id)
        artifact.add_lifecycle_rule(id="expire-athena-results", prefix=RESULTS_PREFIX,
                                    expiration=Duration.days(settings.results_days))
        self.workgroup = athena.CfnWorkGroup(
            self, "Workgroup", name=workgroup_name(prefix), state="ENABLED", recursive_delete_option=True,
            description="Onboard: analysts' queries over the lake (results SSE-KMS, scan limit per query)",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True, publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version=ENGINE_VERSION),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket_name(prefix, 'artifact')}/{RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn))))
        self.analyst_policy = self._analyst_policy(prefix, key, database, processed_prefixes)
        self.curated_crawler = (self._curated_crawler(prefix, key, database, sorted(exported_datasets),
                                                      security_configuration) if exported_datasets else None)

    def _analyst_policy(self, prefix: str, key: kms.IKey, database: str,
                        processed_prefixes: Collection[str]) -> iam.ManagedPolicy:
        workgroup = Arn.of("arn:{partition}:athena:{region}:{account}:workgroup/{name}", name=workgroup_name(prefix))
        catalog = Arn.of("arn:{partition}:glue:{region}:{account}").value
        reads = [("processed", p) for p in sorted(processed_prefixes)] + [("curated", CURATED_PREFIX)]
        read_objects = [objects_arn(prefix, zone, key_prefix) for zone, key_prefix in reads]
        results = objects_arn(prefix, "artifact", RESULTS_PREFIX)
        statements = [
            iam.PolicyStatement(sid="QueryInTheWorkgroup", actions=list(QUERY_ACTIONS), resources=[workgroup.value]),
            iam.PolicyStatement(sid="BrowseAthena", actions=list(BROWSE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(sid="ReadTheCatalog", actions=list(CATALOG_READ_ACTIONS), resources=[
                f"{catalog}:catalog", f"{catalog}:database/{database}", f"{catalog}:table/{database}/*"]),
            iam.PolicyStatement(sid="ReadTheLake", actions=["s3:GetObject"], resources=[a.value for a in read_objects]),
            iam.PolicyStatement(sid="WriteResults", actions=["s3:GetObject", "s3:PutObject",
                                                             "s3:AbortMultipartUpload"], resources=[results.value]),
            iam.PolicyStatement(sid="LocateBuckets", actions=["s3:GetBucketLocation"], resources=[
                bucket_arn(prefix, zone).value for zone in ("processed", "curated", "artifact")]),
        ]
        for zone in ("processed", "curated", "artifact"):
            listed = [p for z, p in [*reads, ("artifact", RESULTS_PREFIX)] if z == zone]
            statements.append(iam.PolicyStatement(
                sid=f"List{zone.capitalize()}", actions=["s3:ListBucket"], resources=[bucket_arn(prefix, zone).value],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in listed]}}))
        statements.append(key_statement(key.key_arn, ("kms:Decrypt", "kms:GenerateDataKey")))
        policy = iam.ManagedPolicy(
            self, "AnalystPolicy", managed_policy_name=analyst_policy_name(prefix), statements=statements,
            description=f"Onboard: query the lake with Athena in workgroup {workgroup_name(prefix)} (attach to "
                        "analysts' roles)")
        for shown in (f"{catalog_shown()}:table/{database}/*", *(a.shown for a in read_objects), results.shown):
            acknowledge(policy, "IAM5", "Tables of the lake's Glue database and objects below the source folders, "
                        "the curated exports and the query results prefix need a trailing *; nothing else.",
                        f"Resource::{shown}")
        acknowledge(policy, "IAM5", "Athena's list and catalog-browsing actions have no resource-level permission "
                    "(AWS's own workgroup policy examples grant them on *); the tables they show are limited by "
                    "the Glue statement.", "Resource::*")
        return policy

    def _curated_crawler(self, prefix: str, key: kms.IKey, database: str, datasets: list[str],
                         security_configuration: str) -> glue.CfnCrawler:
        role = iam.Role(self, "CuratedCrawlerRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                        description="Glue crawler of the curated exports")
        catalog = Arn.of("arn:{partition}:glue:{region}:{account}").value
        folders = [f"{CURATED_PREFIX}{name}/" for name in datasets]
        objects = [objects_arn(prefix, "curated", folder) for folder in folders]
        logs = Arn.of("arn:{partition}:logs:{region}:{account}:log-group:/aws-glue/crawlers*")
        for statement in (
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[o.value for o in objects]),
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn(prefix, "curated").value],
                                conditions={"StringLike": {"s3:prefix": [f"{f}*" for f in folders]}}),
            iam.PolicyStatement(actions=[
                "glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartitions",
                "glue:BatchGetPartition"], resources=[f"{catalog}:catalog", f"{catalog}:database/{database}",
                                                      *(f"{catalog}:table/{database}/{name}" for name in datasets)]),
            iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                         "logs:AssociateKmsKey"], resources=[logs.value]),
            key_statement(key.key_arn),
        ):
            role.add_to_principal_policy(statement)
        policy = role.node.find_child("DefaultPolicy").node.default_child
        for shown in (*(o.shown for o in objects), logs.shown):
            acknowledge(policy, "IAM5", "Objects below the exported datasets' folders need a trailing *; Glue names "
                        "its crawler log groups under /aws-glue/crawlers at run time.", f"Resource::{shown}")
        crawler = glue.CfnCrawler(
            self, "CuratedCrawler", name=curated_crawler_name(prefix), role=role.role_arn, database_name=database,
            description="Catalogs the curated exports, one table per dataset",
            targets=glue.CfnCrawler.TargetsProperty(s3_targets=[
                glue.CfnCrawler.S3TargetProperty(path=f"s3://{bucket_name(prefix, 'curated')}/{folder}")
                for folder in folders]),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior="CRAWL_EVERYTHING"),
            crawler_security_configuration=security_configuration,
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=CURATED_CRAWL_SCHEDULE))
        crawler.node.add_dependency(role.node.find_child("DefaultPolicy"))
        acknowledge(crawler, "GL1", "The crawler uses the platform's Glue security configuration (CloudWatch logs "
                    "SSE-KMS); cdk-nag cannot follow it by name. Asserted by the template tests.")
        return crawler


def catalog_shown() -> str:
    return Arn.of("arn:{partition}:glue:{region}:{account}").shown

