"""A source's state machine: ingest -> transform -> crawl (optional) -> load -> notify.

- Ingest records the landed batch in the run ledger.
- Transform runs the Glue job with the execution input's `glue_arguments` and waits for it (.sync).
- Crawl starts the crawler over the processed output the transform just wrote (so it runs after the
  transform, not before: before, it would catalog the previous batch); one already running is fine.
- Migrate brings the table to the deployed schema version before anything is loaded: the loader submits
  one step at a time (a migration, or the table itself on a fresh install), the state machine waits and
  polls it, then asks for the next step until the loader answers CURRENT.
- Load starts the loader (Redshift Data API BatchExecuteStatement, one transaction), then waits and
  polls its status until FINISHED; a batch that kept no rows is not loaded.
- Notify marks the batch succeeded in the ledger and publishes a summary to the alert topic.
Every task retries its transient errors with exponential backoff and full jitter; any failure is
caught, marked in the ledger and published to the alert topic, and the execution fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
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
                            "Lambda.TooManyRequestsException"),
                           interval_seconds=2, max_attempts=6, max_delay_seconds=60)
GLUE_RETRY = RetryPolicy(("Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException",
                          "Glue.InternalServiceException"), interval_seconds=30, max_attempts=10, backoff_rate=1.5)
DYNAMODB_RETRY = RetryPolicy(("DynamoDB.ThrottlingException", "DynamoDB.ProvisionedThroughputExceededException",
                              "DynamoDB.InternalServerErrorException", "DynamoDB.RequestLimitExceeded"),
                             interval_seconds=1, max_attempts=5, max_delay_seconds=30)
SNS_RETRY = RetryPolicy(("SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KmsThrottlingException"),
                        interval_seconds=1, max_attempts=5, max_delay_seconds=30)
CRAWLER_RETRY = RetryPolicy(("Glue.ThrottlingException", "Glue.InternalServiceException"),
                            interval_seconds=5, max_attempts=4, max_delay_seconds=60)
POLL_INTERVAL = Duration.seconds(15)


class Pipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, source: str, state_machine_name: str,
                 job: glue.CfnJob, crawler: glue.CfnCrawler | None, loader: lambda_.IFunction,
                 ledger: dynamodb.ITable, alerts: sns.ITopic, key: kms.IKey, log_retention: logs.RetentionDays,
                 timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        key_of_batch = {"source": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.source")),
                        "batch_id": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.batch_id"))}

        alert = self._alert_path(source, ledger, alerts, key_of_batch)
        ingest = tasks.DynamoPutItem(
            self, "Ingest", table=ledger, comment="Record the landed batch in the run ledger",
            item={**key_of_batch, "status": tasks.DynamoAttributeValue.from_string("running"),
                  "ingest_time": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.ingest_time")),
                  "execution": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.execution_id)},
            result_path=sfn.JsonPath.DISCARD)
        DYNAMODB_RETRY.apply(ingest)
        transform = tasks.GlueStartJobRun(
            self, "Transform", glue_job_name=job.ref, integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_json_path_at("$.glue_arguments"), comment="Run the source's Glue job",
            result_selector={"job_run_id.$": "$.Id", "state.$": "$.JobRunState"}, result_path="$.transform")
        GLUE_RETRY.apply(transform)
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
        load_start = tasks.LambdaInvoke(
            self, "Load", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Submit ddl.sql + load.sql as one Data API batch (one transaction)",
            payload=sfn.TaskInput.from_object({
                "action": "start", "batch_id": sfn.JsonPath.string_at("$.batch_id"),
                "manifest_uri": sfn.JsonPath.string_at("$.manifest_uri"),
                "summary_uri": sfn.JsonPath.string_at("$.summary_uri")}),
            result_selector={"status.$": "$.Payload.status", "statement_id.$": "$.Payload.statement_id",
                             "rows.$": "$.Payload.rows"}, result_path="$.load")
        LAMBDA_RETRY.apply(load_start)
        wait = sfn.Wait(self, "WaitForLoad", time=sfn.WaitTime.duration(POLL_INTERVAL))
        load_status = tasks.LambdaInvoke(
            self, "LoadStatus", lambda_function=loader, retry_on_service_exceptions=False,
            comment="Poll the Data API statement; fails with LoadFailed when Redshift rejected it",
            payload=sfn.TaskInput.from_object({"action": "status",
                                               "statement_id": sfn.JsonPath.string_at("$.load.statement_id")}),
            result_selector={"status.$": "$.Payload.status"}, result_path="$.load_status")
        LAMBDA_RETRY.apply(load_status)
        record_success = tasks.DynamoUpdateItem(
            self, "RecordSuccess", table=ledger, key=key_of_batch, comment="Mark the batch succeeded",
            update_expression="SET #status = :status, #rows = :rows",
            expression_attribute_names={"#status": "status", "#rows": "rows"},
            expression_attribute_values={
                ":status": tasks.DynamoAttributeValue.from_string("succeeded"),
                ":rows": tasks.DynamoAttributeValue.from_string(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.load.rows")))},
            result_path=sfn.JsonPath.DISCARD)
        DYNAMODB_RETRY.apply(record_success)
        notify = tasks.SnsPublish(
            self, "Notify", topic=alerts, subject=f"Onboard: {source} batch loaded",
            message=sfn.TaskInput.from_object({"source": source, "batch_id": sfn.JsonPath.string_at("$.batch_id"),
                                               "status": "succeeded", "rows": sfn.JsonPath.object_at("$.load.rows")}),
            message_attributes={"status": tasks.MessageAttribute(value="succeeded")},
            result_path=sfn.JsonPath.DISCARD)
        SNS_RETRY.apply(notify)
        for state in (ingest, transform, migrate, migration_status, load_start, load_status, record_success, notify):
            state.add_catch(alert, errors=["States.ALL"], result_path="$.error")

        succeeded = record_success.next(notify).next(sfn.Succeed(self, "Done"))
        polling = wait.next(load_status).next(
            sfn.Choice(self, "LoadFinished?").when(
                sfn.Condition.string_equals("$.load_status.status", "FINISHED"), succeeded).otherwise(wait))
        after_load = sfn.Choice(self, "LoadSubmitted?").when(
            sfn.Condition.string_equals("$.load.status", "SKIPPED"), succeeded).otherwise(polling)
        finished = sfn.Condition.string_equals("$.migration_status.status", "FINISHED")
        wait_migration.next(migration_status).next(
            sfn.Choice(self, "MigrationFinished?").when(finished, migrate).otherwise(wait_migration))
        migrations = migration_start.next(migrate).next(
            sfn.Choice(self, "SchemaCurrent?").when(
                sfn.Condition.string_equals("$.migration.status", "CURRENT"), load_start).otherwise(wait_migration))
        chain = ingest.next(transform)
        if crawler is not None:
            crawl = tasks.CallAwsService(
                self, "Crawl", service="glue", action="startCrawler", parameters={"Name": crawler.ref},
                iam_resources=[crawler_arn(crawler)], comment="Catalog the new processed partitions",
                result_path=sfn.JsonPath.DISCARD)
            CRAWLER_RETRY.apply(crawl)
            crawl.add_catch(migration_start, errors=["Glue.CrawlerRunningException"], result_path=sfn.JsonPath.DISCARD)
            crawl.add_catch(alert, errors=["States.ALL"], result_path="$.error")
            chain = chain.next(crawl)
        load_start.next(after_load)
        chain = chain.next(migrations)

        log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(chain), timeout=timeout, tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False))
        self.state_machine.add_to_role_policy(key_statement(key.key_arn, ("kms:Decrypt", "kms:GenerateDataKey")))
        policy = default_policy(self.state_machine.role)
        acknowledge(policy, "IAM5", "CloudWatch Logs delivery and X-Ray actions have no resource-level permissions.",
                    "Resource::*")
        acknowledge(policy, "IAM5", "LambdaInvoke allows the loader's versions too (its ARN with a :* qualifier); "
                    "no other function.", function_arn_finding(loader))

    def _alert_path(self, source: str, ledger: dynamodb.ITable, alerts: sns.ITopic,
                    key_of_batch: dict[str, tasks.DynamoAttributeValue]) -> sfn.IChainable:
        record_failure = tasks.DynamoUpdateItem(
            self, "RecordFailure", table=ledger, key=key_of_batch, comment="Mark the batch failed",
            update_expression="SET #status = :status, #error = :error",
            expression_attribute_names={"#status": "status", "#error": "error"},
            expression_attribute_values={
                ":status": tasks.DynamoAttributeValue.from_string("failed"),
                ":error": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.error.Error"))},
            result_path=sfn.JsonPath.DISCARD)
        DYNAMODB_RETRY.apply(record_failure)
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
