"""A source's Glue job (Glue 5.0, onboard_glue as --extra-py-files) and its crawler.

Job bookmarks are off: every run names its input explicitly (the execution's `glue_arguments`), so a bookmark
would only skip input a resumed or repeated batch must read again. Metrics are on (`--enable-metrics`, with
`cloudwatch:PutMetricData` in the `Glue` namespace); Glue 5.0 always sends the job's logs to CloudWatch
continuously, so `--enable-continuous-cloudwatch-log` is not set. Python packages a format needs (openpyxl for
XLSX) ship as wheels from the artifact bucket (onboard_cdk.wheels): a job start never reaches the public index.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

import onboard_glue
from onboard_cdk.access import (
    READ_ACTIONS,
    WRITE_AND_DELETE_ACTIONS,
    Arn,
    ScopedPolicy,
    bucket_name,
    key_statement,
    secret_statement,
)
from onboard_cdk.lake_buckets import BUCKETS, GLUE_TEMP_PREFIX
from onboard_cdk.lake_catalog import LakeTables
from onboard_cdk.manifests import SourceManifest
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import crawler_name
from onboard_cdk.wheels import wheel_keys

# New partitions reach the catalog once a day (a schema change is crawled at once by the state machine).
CRAWL_SCHEDULE = "cron(30 0 * * ? *)"
LIBRARY_DIR = Path(onboard_glue.__file__).resolve().parent
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed timestamps: the same library gives the same asset hash


def build_library_zip(target: Path) -> Path:
    """glue/*.py (the onboard_glue package) as a zip for --extra-py-files, byte-for-byte reproducible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(LIBRARY_DIR.rglob("*.py")):
            info = zipfile.ZipInfo(f"onboard_glue/{path.relative_to(LIBRARY_DIR).as_posix()}", FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target


def crawler_table_name(crawler: Mapping[str, Any]) -> str:
    """The table the crawler keeps: `<source>_batches`, created by the stack and named by its catalog target."""
    [target] = crawler["Targets"]["CatalogTargets"]
    [table] = target["Tables"]
    return table


class GlueResources(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, manifest: SourceManifest, prefix: str, job_name: str,
                 key_arn: str, database: str, security_configuration: str, library_zip: Path) -> None:
        super().__init__(scope, construct_id)
        settings = manifest.glue
        script = s3_assets.Asset(self, "Script", path=str(manifest.path(settings["script"])))
        library = s3_assets.Asset(self, "Library", path=str(library_zip))
        temp_dir = f"{GLUE_TEMP_PREFIX}{manifest.name}/"

        self.job_role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                                 description=f"Glue job of source {manifest.name}")
        iam_scopes = manifest.iam["glue"]
        job_logs = _glue_logs_arn("jobs")
        artifact = bucket_name(prefix, "artifact")
        wheels = [f"s3://{artifact}/{key}" for key in wheel_keys(manifest.glue.get("python_modules", []))]
        temp = {"bucket": "${BUCKET:artifact}", "prefix": temp_dir}
        (ScopedPolicy(prefix, BUCKETS)
         .objects(iam_scopes["read"], READ_ACTIONS)
         .objects(iam_scopes["write"], (*READ_ACTIONS, *WRITE_AND_DELETE_ACTIONS))
         .objects([temp], (*READ_ACTIONS, *WRITE_AND_DELETE_ACTIONS))
         .folders(iam_scopes["read"], write=False)
         .folders([*iam_scopes["write"], temp], write=True)
         .add(iam.PolicyStatement(actions=["s3:GetObject"], resources=[
             script.bucket.arn_for_objects(script.s3_object_key),
             library.bucket.arn_for_objects(library.s3_object_key),
             *(wheel.replace("s3://", f"arn:{Aws.PARTITION}:s3:::", 1) for wheel in wheels)]))
         .add(_glue_logs_statement(job_logs), [job_logs.shown])
         .add(iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"],
                                  conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}}), ["*"])
         .add(key_statement(key_arn))
         .add(secret_statement([settings["pii_secret"]] if settings.get("pii_secret") else []))  # pii: hash
         .attach(self.job_role, _WILDCARD_REASON))

        self.job = glue.CfnJob(
            self, "Job", name=job_name, role=self.job_role.role_arn, glue_version=settings["glue_version"],
            command=glue.CfnJob.JobCommandProperty(name="glueetl", python_version="3",
                                                   script_location=script.s3_object_url),
            worker_type=settings["worker_type"], number_of_workers=settings["workers"],
            timeout=settings["timeout_minutes"], max_retries=0,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=security_configuration,
            description=f"Onboard transform of source {manifest.name}",
            default_arguments={
                "--extra-py-files": library.s3_object_url,
                "--job-bookmark-option": "job-bookmark-disable",
                "--job-language": "python",
                "--TempDir": f"s3://{bucket_name(prefix, 'artifact')}/{temp_dir}",
                "--enable-metrics": "true",
                **({"--additional-python-modules": ",".join(wheels),
                    "--python-modules-installer-option": "--no-index"} if wheels else {}),
            })

        crawler = manifest.crawler()
        self.crawler_role = iam.Role(self, "CrawlerRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                                     description=f"Glue crawler of source {manifest.name}")
        processed = manifest.lake["processed"]
        self.tables = LakeTables(self, "Catalog", manifest=manifest, prefix=prefix, database=database)
        table = crawler_table_name(crawler)
        catalog = Arn.of("arn:{partition}:glue:{region}:{account}").value
        crawler_logs = _glue_logs_arn("crawlers")
        (ScopedPolicy(prefix, BUCKETS)
         .objects([processed], READ_ACTIONS)
         .add(iam.PolicyStatement(actions=[
                "glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartition",
                "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition", "glue:BatchCreatePartition",
                "glue:UpdatePartition", "glue:BatchUpdatePartition"],
                resources=[f"{catalog}:catalog", f"{catalog}:database/{database}",
                           f"{catalog}:table/{database}/{table}"]))
         .add(_glue_logs_statement(crawler_logs), [crawler_logs.shown])
         .add(key_statement(key_arn))
         .attach(self.crawler_role, _WILDCARD_REASON))
        self.crawler = glue.CfnCrawler(
            self, "Crawler", name=crawler_name(prefix, manifest.name), role=self.crawler_role.role_arn,
            database_name=database, description=crawler["Description"],
            targets=glue.CfnCrawler.TargetsProperty(catalog_targets=[
                glue.CfnCrawler.CatalogTargetProperty(database_name=database, tables=target["Tables"])
                for target in crawler["Targets"]["CatalogTargets"]]),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior=crawler["SchemaChangePolicy"]["UpdateBehavior"],
                delete_behavior=crawler["SchemaChangePolicy"]["DeleteBehavior"]),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(
                recrawl_behavior=crawler["RecrawlPolicy"]["RecrawlBehavior"]),
            configuration=crawler["Configuration"], crawler_security_configuration=security_configuration,
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=CRAWL_SCHEDULE))
        # Glue checks the role's permissions when it creates the job and crawler: add them first.
        self.job.node.add_dependency(self.job_role.node.find_child("DefaultPolicy"))
        self.crawler.node.add_dependency(self.crawler_role.node.find_child("DefaultPolicy"))
        self.crawler.add_resource_dependency(self.tables.batches)
        for resource in (self.job, self.crawler):
            for rule in ("GL1", "GL3") if resource is self.job else ("GL1",):
                acknowledge(resource, rule, _SECURITY_CONFIGURATION_REASON)


_WILDCARD_REASON = ("Object keys below this source's own prefixes need a trailing *; Glue names its log groups "
                    "under /aws-glue/ at run time (with the security configuration's name in them); "
                    "cloudwatch:PutMetricData has no resource-level permission and is limited to the Glue namespace.")
_SECURITY_CONFIGURATION_REASON = (
    "The job and crawler use the platform's Glue security configuration (CloudWatch logs SSE-KMS, job "
    "bookmarks CSE-KMS, S3 SSE-KMS); cdk-nag cannot follow its name across stacks. Asserted by the template tests.")


def _glue_logs_arn(kind: str) -> Arn:
    return Arn.of("arn:{partition}:logs:{region}:{account}:log-group:/aws-glue/{kind}*", kind=kind)


def _glue_logs_statement(log_groups: Arn) -> iam.PolicyStatement:
    """Glue's log groups (/aws-glue/jobs/..., /aws-glue/crawlers...), encrypted by the security configuration."""
    return iam.PolicyStatement(
        actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
        resources=[log_groups.value])
