"""One stack per source: connector Lambda + trigger, Glue job + crawler, loader, state machine, alarms."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from framework.runtime.datasets import CURATED_URI_ENV, affected
from framework.runtime.lake_catalog import CATALOG_TABLE_ENV
from onboard_cdk import lambda_assets
from onboard_cdk.access import (
    READ_ACTIONS,
    WRITE_ACTIONS,
    WRITE_AND_DELETE_ACTIONS,
    ScopedPolicy,
    bucket_name,
    key_statement,
    ledger_statement,
    secret_statement,
)
from onboard_cdk.alarms import SourceAlarms
from onboard_cdk.analytics import CURATED_PREFIX
from onboard_cdk.buffer_flush import BufferFlush, pending_statement
from onboard_cdk.dashboards import METRICS_REASON, SourceDashboard, put_metrics_statement
from onboard_cdk.execution_failures import record_unfinished_executions
from onboard_cdk.freshness import FreshnessCheck
from onboard_cdk.functions import OnboardFunction
from onboard_cdk.glue_resources import GlueResources
from onboard_cdk.lake_buckets import BUCKETS, ZONES
from onboard_cdk.manifests import SourceManifest
from onboard_cdk.nag import acknowledge
from onboard_cdk.naming import copy_role_name, function_name, resource_name
from onboard_cdk.pipeline import Pipeline
from onboard_cdk.platform_stack import PlatformStack
from onboard_cdk.triggers import TriggerContext, add_trigger

PREFIX_REASON = "Object keys below this source's own prefixes need a trailing *; no other S3 access is granted."


class SourceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, manifest: SourceManifest, platform: PlatformStack,
                 staging_dir: Path, library_zip: Path, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.add_stack_dependency(platform)
        self._staging = staging_dir
        prefix, source = platform.settings.prefix, manifest.name
        name = resource_name(prefix, source)
        key = platform.key
        bucket_env = {f"ONBOARD_BUCKET_{zone.upper()}": bucket_name(prefix, zone) for zone in ZONES}
        lake_env = json.dumps(manifest.lake, sort_keys=True, separators=(",", ":"))
        warehouse = platform.warehouse

        self.glue = GlueResources(
            self, "Glue", manifest=manifest, prefix=prefix, job_name=name, key_arn=key.key_arn,
            database=platform.glue_database_name, security_configuration=platform.glue_security_configuration.ref,
            library_zip=library_zip)

        self.copy_role = iam.Role(
            self, "CopyRole", role_name=copy_role_name(prefix, source),
            assumed_by=iam.ArnPrincipal(warehouse.attached_role_arn),
            description=f"Redshift COPY of source {source}: reads only its processed files and manifests")
        (ScopedPolicy(prefix, BUCKETS).objects(manifest.iam["redshift"]["read"], READ_ACTIONS)
         .add(key_statement(key.key_arn, ("kms:Decrypt",))).attach(self.copy_role, PREFIX_REASON))
        # The curated datasets this source's loads refresh and export: UNLOAD writes (CLEANPATH: lists and
        # deletes) their folders of the curated zone as this COPY role.
        exports = [{"bucket": "${BUCKET:curated}", "prefix": f"{CURATED_PREFIX}{dataset['name']}/"}
                   for dataset in exported_datasets(manifest)]
        curated_env = {CURATED_URI_ENV: f"s3://{bucket_name(prefix, 'curated')}/{CURATED_PREFIX}"} if exports else {}
        if exports:
            (ScopedPolicy(prefix, BUCKETS).objects(exports, WRITE_AND_DELETE_ACTIONS)
             .add(key_statement(key.key_arn, ("kms:Encrypt", "kms:GenerateDataKey")))
             .attach(self.copy_role, PREFIX_REASON))

        self.loader = OnboardFunction(
            self, "Loader", function_name=function_name(prefix, source, "load"),
            handler=lambda_assets.LOADER_HANDLER,
            code_dir=lambda_assets.stage_loader(manifest.folder, staging_dir / source / "loader"),
            description=f"Loads batches of {source} into Redshift through the Data API", key=key,
            log_retention=platform.log_retention, timeout=Duration.minutes(5), memory_mb=256,
            environment={"ONBOARD_SOURCE": source, "ONBOARD_LAKE": lake_env, **bucket_env,
                         "ONBOARD_COPY_ROLE_ARN": f"{warehouse.attached_role_arn},{self.copy_role.role_arn}",
                         CATALOG_TABLE_ENV: f"{platform.glue_database_name}.{self.glue.tables.batches_name}",
                         **curated_env, **warehouse.environment})
        (ScopedPolicy(prefix, BUCKETS).objects([manifest.lake["manifests"]], READ_ACTIONS)
         .add(iam.PolicyStatement(actions=["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"],
                                  resources=warehouse.data_api_resources))
         .add(warehouse.credential_statement)
         .add(iam.PolicyStatement(actions=["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"],
                                  resources=["*"], conditions={
             "StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}}), ["*"])
         .add(key_statement(key.key_arn, ("kms:Decrypt",)))
         .add(self.glue.tables.partitions_statement(platform.glue_database_name))
         .attach(self.loader.role, PREFIX_REASON + " redshift-data:DescribeStatement and GetStatementResult have no "
                 "resource-level permission; the condition limits them to statements this role ran."))

        self.runs = self._run_ledger_task(manifest, platform)
        self.pipeline = Pipeline(
            self, "Pipeline", source=source, state_machine_name=name, job=self.glue.job,
            crawler=self.glue.crawler if manifest.glue.get("crawl", True) else None,
            loader=self.loader.function, runs=self.runs.function, alerts=platform.alerts, key=key,
            log_retention=platform.log_retention,
            timeout=Duration.minutes(manifest.glue["timeout_minutes"] + 120))

        self.dead_letters = sqs.Queue(self, "DeadLetters", encryption=sqs.QueueEncryption.KMS,
                                      encryption_master_key=key, enforce_ssl=True,
                                      retention_period=Duration.days(14))
        acknowledge(self.dead_letters.node.default_child, "SQS3",
                    "This queue is itself the dead-letter queue of the connector Lambda and its trigger.")
        # stream and http_push: micro-batches wait in the run ledger; a flush ships them as one batch
        self.flush = (BufferFlush(
            self, "Buffer", prefix=prefix, source=source, buffer=manifest.connector["buffer"],
            state_machine=self.pipeline.state_machine, ledger_name=platform.ledger.table_name,
            ledger_arn=platform.ledger.table_arn, key=key, log_retention=platform.log_retention,
            environment={"ONBOARD_LAKE": lake_env, **bucket_env}, staging_dir=staging_dir,
            dead_letter_queue=self.dead_letters) if manifest.connector.get("buffer") else None)
        flush_env = {"ONBOARD_FLUSH_FUNCTION": self.flush.function.function.function_name} if self.flush else {}
        self.connector = OnboardFunction(
            self, "Connector", function_name=function_name(prefix, source, "land"),
            handler=lambda_assets.CONNECTOR_HANDLER,
            code_dir=lambda_assets.stage_connector(manifest.folder, staging_dir / source / "connector"),
            description=f"Lands new input of {source} in the raw zone and starts its pipeline", key=key,
            log_retention=platform.log_retention,
            reserved_concurrency=platform.settings.reserved_concurrency.get(source),
            timeout=Duration.seconds(manifest.connector["timeout_seconds"]), dead_letter_queue=self.dead_letters,
            environment={"ONBOARD_LAKE": lake_env, **bucket_env,
                         "ONBOARD_STATE_MACHINE_ARN": self.pipeline.state_machine.state_machine_arn,
                         "ONBOARD_LEDGER_TABLE": platform.ledger.table_name, **flush_env})
        connector_scopes = manifest.iam["connector"]
        policy = (ScopedPolicy(prefix, BUCKETS)
                  .objects(connector_scopes["read"], READ_ACTIONS)
                  .objects(connector_scopes["write"], WRITE_ACTIONS))
        if connector_scopes.get("delete"):
            policy.objects(connector_scopes["delete"], ("s3:DeleteObject",))
        if manifest.connector["ledger"]:
            policy.add(ledger_statement(platform.ledger.table_arn, source))
        if self.flush is not None:  # marks micro-batches pending; past the size, invokes the flush at once
            policy.add(pending_statement(platform.ledger.table_arn, source, ("dynamodb:PutItem", "dynamodb:Query")))
            policy.add(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                           resources=[self.flush.function.function.function_arn]))
        (policy
         .add(secret_statement(manifest.secrets))
         .add(key_statement(key.key_arn))
         .add(iam.PolicyStatement(actions=["states:StartExecution"],
                                  resources=[self.pipeline.state_machine.state_machine_arn]))
         .add(object_claims_statement(platform.ledger.table_arn, source))
         .attach(self.connector.role, PREFIX_REASON))
        record_unfinished_executions(self, source=source, state_machine=self.pipeline.state_machine,
                                     runs=self.runs.function, dead_letter_queue=self.dead_letters)
        add_trigger(TriggerContext(stack=self, source=source, prefix=prefix, trigger=manifest.trigger,
                                   function=self.connector.function, dead_letter_queue=self.dead_letters,
                                   key=key, log_retention=platform.log_retention))

        self.alarms = SourceAlarms(
            self, "Alarms", source=source, connector=self.connector.function, loader=self.loader.function,
            dead_letter_queue=self.dead_letters, job=self.glue.job, state_machine=self.pipeline.state_machine,
            alerts=platform.alerts)
        self.freshness = (FreshnessCheck(
            self, "Freshness", prefix=prefix, source=source, freshness=manifest.data["freshness"],
            ledger_name=platform.ledger.table_name, ledger_arn=platform.ledger.table_arn, key=key,
            log_retention=platform.log_retention, alerts=platform.alerts, staging_dir=staging_dir,
            dead_letter_queue=self.dead_letters) if manifest.data.get("freshness") else None)
        self.dashboard = SourceDashboard(
            self, "Dashboard", prefix=prefix, source=source, job_name=name, state_machine=self.pipeline.state_machine,
            alarms=[*self.alarms.alarms.values(), *(self.freshness.alarms.values() if self.freshness else ())],
            freshness=manifest.data.get("freshness"))


    def _run_ledger_task(self, manifest: SourceManifest, platform: PlatformStack) -> OnboardFunction:
        """The Lambda the state machine writes the run ledger with: this source's items and claims, and its
        Glue job's summaries (for counts and quality score); it publishes each batch's metrics."""
        prefix, source = platform.settings.prefix, manifest.name
        runs = OnboardFunction(
            self, "Runs", function_name=function_name(prefix, source, "runs"),
            handler=lambda_assets.RUNS_HANDLER, code_dir=lambda_assets.stage_runs(self._staging / source / "runs"),
            description=f"Records the batches of {source} in the run ledger", key=platform.key,
            log_retention=platform.log_retention, timeout=Duration.seconds(30), memory_mb=128,
            environment={"ONBOARD_LEDGER_TABLE": platform.ledger.table_name, "ONBOARD_SOURCE": source})
        (ScopedPolicy(prefix, BUCKETS).objects([manifest.lake["manifests"]], READ_ACTIONS)
         .add(iam.PolicyStatement(
             actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
             resources=[platform.ledger.table_arn],
             conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [source, f"{source}#objects"]}}))
         .add(key_statement(platform.key.key_arn))
         .add(put_metrics_statement(), ["*"])  # each batch's outcome as metrics (framework.runtime.metrics)
         .attach(runs.role, f"{PREFIX_REASON} {METRICS_REASON}"))
        return runs


def object_claims_statement(ledger_arn: str, source: str) -> iam.PolicyStatement:
    """The connector claims objects in the run ledger, only under its own `<source>#objects` partition."""
    return iam.PolicyStatement(
        actions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], resources=[ledger_arn],
        conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"{source}#objects"]}})


def exported_dataset_names(generated_dir: Path) -> list[str]:
    """Every dataset exported to the curated zone (generated/_datasets/datasets.json): Athena catalogs them."""
    path = generated_dir / "_datasets" / "datasets.json"
    if not path.is_file():
        return []
    return [d["name"] for d in json.loads(path.read_text(encoding="utf-8"))["datasets"] if d.get("unload")]


def exported_datasets(manifest: SourceManifest) -> list[dict]:
    """The exported curated datasets a load of this source refreshes (generated/_datasets/datasets.json)."""
    path = manifest.folder.parent / "_datasets" / "datasets.json"
    if not path.is_file():
        return []
    redshift = manifest.data["redshift"]
    datasets = json.loads(path.read_text(encoding="utf-8"))["datasets"]
    return [d for d in affected(datasets, f"{redshift['schema']}.{redshift['table']}") if d.get("unload")]
