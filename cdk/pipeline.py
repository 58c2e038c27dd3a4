"""A source's state machine: ingest -> transform -> migrate -> crawl (on a schema change) -> load -> notify.

- Ingest records the landed batch in the run ledger (the source's ledger Lambda,
  `framework.runtime.pipeline_runs`, writes every ledger item) and says where it starts: a resumed batch
  (`resume_from: load` in the execution input) skips the finished transform (the `ResumeAt?` choice).
- Transform runs the Glue job with the execution input's `glue_arguments` and waits for it (.sync).
- Migrate brings the table to the deployed schema version before anything is loaded: the loader submits
  one step at a time (a migration, or the table itself on a fresh install), the state machine waits and
  polls it, then asks for the next step until the loader answers CURRENT.
- Crawl starts the crawler over the processed output only when the schema changed in this execution (a
  step was submitted: the table was created or migrated), after the transform wrote the new shape; one
  already running is fine. New partitions reach the catalog by the crawler's own daily schedule: a crawl per
  (micro-)batch would cost more than the data.
- Load starts the loader (Redshift Data API BatchExecuteStatement, one transaction), then waits and
  polls its status until FINISHED; a batch that kept no rows is not loaded.
- RecordTransform (after the Glue job) and RecordSuccess record stage seconds, counts and quality score;
  Notify publishes a summary to the alert topic.
Every task retries its transient errors with exponential backoff and full jitter; any failure is
caught, marked in the ledger (failed stage, error; the batch's object
claims are released so a re-delivery is processed) and published to the alert topic, and the execution fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from onboard_cdk.access import default_policy, function_arn_finding, key_statement
from onboard_cdk.nag import acknowledge


@dataclass(frozen=True)
class RetryPolicy:
    errors: tuple[str, ...]
    interval_seconds: int
    max_attempts: int
    backoff_rate: float = 2.0
    max_delay_seconds: int = 300

    def apply(self, state: sfn.TaskStateBase) -> None:
        state.add_retry(errors=list(self.errors), interval=Duration.seconds(self.interval_seconds),
                        max_attempts=self.max_attempts, backoff_rate=self.backoff_rate,
                        max_delay=Duration.seconds(self.max_delay_seconds), jitter_strategy=sfn.JitterType.FULL)


LAMBDA_RETRY = RetryPolicy(("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                            "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"),
                           interval_seconds=2, max_attempts=6, max_delay_seconds=60)
GLUE_RETRY = RetryPolicy(("Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException",
                          "Glue.InternalServiceException"), interval_seconds=30, max_attempts=10, backoff_rate=1.5)
SNS_RETRY = RetryPolicy(("SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KmsThrottlingException"),
                        interval_seconds=1, max_attempts=5, max_delay_seconds=30)
CRAWLER_RETRY = RetryPolicy(("Glue.ThrottlingException", "Glue.InternalServiceException"),
                            interval_seconds=5, max_attempts=4, max_delay_seconds=60)
POLL_INTERVAL = Duration.seconds(15)


class Pipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, source: str, state_machine_name: str,
                 job: glue.CfnJob, crawler: glue.CfnCrawler | None, loader: lambda_.IFunction,
                 runs: lambda_.IFunction, alerts: sns.ITopic, key: kms.IKey, log_retention: logs.RetentionDays,
                 timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        self.runs = runs
        alert = self._alert_path(source, alerts)
        ingest = self._ledger_task("Ingest", "start", "Record the batch as running at its first stage (transform, "
                                   "or the execution input's resume_from) and claim its objects",
                                   result_selector={"stage.$": "$.Payload.stage"}, result_path="$.ledger")
        transform = tasks.GlueStartJobRun(
            self, "Transform", glue_job_name=job.ref, integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_json_path_at("$.glue_arguments"), comment="Run the source's Glue job",
            result_selector={"job_run_id.$": "$.Id", "state.$": "$.JobRunState"}, result_path="$.transform")
        GLUE_RETRY.apply(transform)
        record_transform = self._ledger_task(
            "RecordTransform", "stage", "Record the transform's seconds, counts and quality score; the load begins")
        migration_start = sfn.Pass(self, "MigrationStart", comment="No migration step has run yet",
                                   result=sfn.Result.from_object({"record_version": 0}), result_path="$.migration")
        migrate = tasks.LambdaInvoke(
            self, "Migrate", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Submit the next schema migration step, or answer CURRENT",
            payload=sfn.TaskInput.from_object({
                "action": "migrate", "record_version": sfn.JsonPath.number_at("$.migration.record_version")}),
            result_selector={"status.$": "$.Payload.status", "statement_id.$": "$.Payload.statement_id",
                             "version.$": "$.Payload.version", "record_version.$": "$.Payload.record_version"},
            result_path="$.migration")
        LAMBDA_RETRY.apply(migrate)
        wait_migration = sfn.Wait(self, "WaitForMigration", time=sfn.WaitTime.duration(POLL_INTERVAL))
        migration_status = tasks.LambdaInvoke(
            self, "MigrationStatus", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Poll the migration step; fails with MigrationFailed when Redshift rejected it",
            payload=sfn.TaskInput.from_object({"action": "status", "step": "migrate",
                                               "statement_id": sfn.JsonPath.string_at("$.migration.statement_id")}),
            result_selector={"status.$": "$.Payload.status"}, result_path="$.migration_status")
        LAMBDA_RETRY.apply(migration_status)
        # The load's submissions: the Data API idempotency token derives from the execution (a resumed execution
        # submits anew), and the status poll may resubmit after a serializable isolation conflict.
        load_context = {"batch_id": sfn.JsonPath.string_at("$.batch_id"),
                        "manifest_uri": sfn.JsonPath.string_at("$.manifest_uri"),
                        "summary_uri": sfn.JsonPath.string_at("$.summary_uri"), "execution": sfn.JsonPath.execution_id}
        load_selector = {"status.$": "$.Payload.status", "statement_id.$": "$.Payload.statement_id",
                         "rows.$": "$.Payload.rows", "attempt.$": "$.Payload.attempt"}
        load_start = tasks.LambdaInvoke(
            self, "Load", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Submit ddl.sql + load.sql as one Data API batch (one transaction)",
            payload=sfn.TaskInput.from_object({**load_context, "action": "start"}),
            result_selector=load_selector, result_path="$.load")
        LAMBDA_RETRY.apply(load_start)
        wait = sfn.Wait(self, "WaitForLoad", time=sfn.WaitTime.duration(POLL_INTERVAL))
        load_status = tasks.LambdaInvoke(
            self, "LoadStatus", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Poll the Data API statement (a serializable isolation conflict is submitted again, as a new "
                    "statement); fails with LoadFailed when Redshift rejected it",
            payload=sfn.TaskInput.from_object({
                **load_context, "action": "status", "statement_id": sfn.JsonPath.string_at("$.load.statement_id"),
                "attempt": sfn.JsonPath.number_at("$.load.attempt"), "rows": sfn.JsonPath.object_at("$.load.rows")}),
            result_selector=load_selector, result_path="$.load")
        LAMBDA_RETRY.apply(load_status)
        record_success = self._ledger_task("RecordSuccess", "succeeded", "Record the load's seconds; the batch "
                                           "succeeded")
        notify = tasks.SnsPublish(
            self, "Notify", topic=alerts, subject=f"Onboard: {source} batch loaded",
            message=sfn.TaskInput.from_object({"source": source, "batch_id": sfn.JsonPath.string_at("$.batch_id"),
                                               "status": "succeeded", "rows": sfn.JsonPath.object_at("$.load.rows")}),
            message_attributes={"status": tasks.MessageAttribute(value="succeeded")},
            result_path=sfn.JsonPath.DISCARD)
        SNS_RETRY.apply(notify)
        for state in (ingest, transform, record_transform, migrate, migration_status, load_start, load_status,
                      record_success, notify):
            state.add_catch(alert, errors=["States.ALL"], result_path="$.error")

        succeeded = record_success.next(notify).next(sfn.Succeed(self, "Done"))
        polling = wait.next(load_status).next(
            sfn.Choice(self, "LoadFinished?").when(
                sfn.Condition.string_equals("$.load.status", "FINISHED"), succeeded).otherwise(wait))
        after_load = sfn.Choice(self, "LoadSubmitted?").when(
            sfn.Condition.string_equals("$.load.status", "SKIPPED"), succeeded).otherwise(polling)
        finished = sfn.Condition.string_equals("$.migration_status.status", "FINISHED")
        wait_migration.next(migration_status).next(
            sfn.Choice(self, "MigrationFinished?").when(finished, migrate).otherwise(wait_migration))
        after_migrations: sfn.IChainable = load_start
        schema_changing: sfn.IChainable = wait_migration
        if crawler is not None:
            crawl = tasks.CallAwsService(
                self, "Crawl", service="glue", action="startCrawler", parameters={"Name": crawler.ref},
                iam_resources=[crawler_arn(crawler)], comment="Catalog the table's new schema",
                result_path=sfn.JsonPath.DISCARD)
            CRAWLER_RETRY.apply(crawl)
            crawl.add_catch(load_start, errors=["Glue.CrawlerRunningException"], result_path=sfn.JsonPath.DISCARD)
            crawl.add_catch(alert, errors=["States.ALL"], result_path="$.error")
            crawl.next(load_start)
            after_migrations = sfn.Choice(self, "SchemaChanged?").when(
                sfn.Condition.is_present("$.schema_changed"), crawl).otherwise(load_start)
            schema_changing = sfn.Pass(
                self, "SchemaChanging", comment="A migration step was submitted: crawl once the schema is current",
                result=sfn.Result.from_boolean(True), result_path="$.schema_changed").next(wait_migration)
        migrations = migration_start.next(migrate).next(
            sfn.Choice(self, "SchemaCurrent?").when(
                sfn.Condition.string_equals("$.migration.status", "CURRENT"), after_migrations)
            .otherwise(schema_changing))
        load_stage: sfn.IChainable = migrations
        load_start.next(after_load)
        transform.next(record_transform).next(load_stage)
        chain = ingest.next(self._resume_choice(transform, load_stage))

        log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(chain), timeout=timeout, tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False))
        self.state_machine.add_to_role_policy(key_statement(key.key_arn, ("kms:Decrypt", "kms:GenerateDataKey")))
        policy = default_policy(self.state_machine.role)
        acknowledge(policy, "IAM5", "CloudWatch Logs delivery and X-Ray actions have no resource-level permissions.",
                    "Resource::*")
        for function in (loader, runs):
            acknowledge(policy, "IAM5", "LambdaInvoke allows the function's versions too (its ARN with a :* "
                        "qualifier); no other function.", function_arn_finding(function))

    def _resume_choice(self, transform: sfn.IChainable, load_stage: sfn.IChainable) -> sfn.Choice:
        """Where the batch starts: the transform, or (a resumed batch whose transform finished) the load."""
        return sfn.Choice(self, "ResumeAt?").when(
            sfn.Condition.string_equals("$.ledger.stage", "load"), load_stage).otherwise(transform)

    def _ledger_task(self, construct_id: str, action: str, comment: str, *, result_selector: dict | None = None,
                     result_path: str = sfn.JsonPath.DISCARD) -> tasks.LambdaInvoke:
        """A run ledger write (`framework.runtime.pipeline_runs`) with the execution's whole state as `run`."""
        task = tasks.LambdaInvoke(
            self, construct_id, lambda_function=self.runs, retry_on_service_exceptions=False, comment=comment,
            payload=sfn.TaskInput.from_object({"action": action, "run": sfn.JsonPath.object_at("$"),
                                               "execution": sfn.JsonPath.execution_id}),
            result_selector=result_selector, result_path=result_path)
        LAMBDA_RETRY.apply(task)
        return task

    def _alert_path(self, source: str, alerts: sns.ITopic) -> sfn.IChainable:
        record_failure = self._ledger_task(
            "RecordFailure", "failed", "Record the failed stage, its error and counts; release the batch's "
            "object claims so a re-delivery is processed")
        alert = tasks.SnsPublish(
            self, "Alert", topic=alerts, subject=f"Onboard: {source} batch FAILED",
            message=sfn.TaskInput.from_object({
                "source": source, "batch_id": sfn.JsonPath.string_at("$.batch_id"), "status": "failed",
                "error": sfn.JsonPath.string_at("$.error.Error"), "cause": sfn.JsonPath.string_at("$.error.Cause"),
                "execution": sfn.JsonPath.execution_id}),
            message_attributes={"status": tasks.MessageAttribute(value="failed")},
            result_path=sfn.JsonPath.DISCARD)
        SNS_RETRY.apply(alert)
        failed = sfn.Fail(self, "Failed", cause_path="$.error.Cause", error_path="$.error.Error")
        record_failure.add_catch(alert, errors=["States.ALL"], result_path="$.ledger_error")
        return record_failure.next(alert).next(failed)


def crawler_arn(crawler: glue.CfnCrawler) -> str:
    from aws_cdk import Stack

    return Stack.of(crawler).format_arn(service="glue", resource="crawler", resource_name=crawler.ref)
