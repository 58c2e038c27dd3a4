"""A source stack of every source kind: connector Lambda, trigger, Glue job and crawler, state machine
(retries with backoff and jitter, catches that alert), alarms."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from framework.spec.kinds import SOURCE_KINDS
from tests.cdk import cfn
from tests.conftest import REPO

pytestmark = pytest.mark.slow
MANIFESTS = {p.parent.name: json.loads(p.read_text()) for p in sorted((REPO / "generated").glob("*/manifest.json"))}


def example_of(kind: str) -> str:
    """The first example source of a kind: every kind must have one, so its stack is synthesized and tested."""
    names = [name for name, manifest in MANIFESTS.items() if manifest["type"] == kind]
    assert names, f"no example source of type {kind} in sources/: add one so its stack is tested"
    return names[0]


def assert_s3_trigger(template: dict, source: str) -> None:
    trigger = MANIFESTS[source]["connector"]["trigger"]
    rules = [r for r in cfn.resources(template, "AWS::Events::Rule").values()
             if r.get("EventPattern", {}).get("source") == ["aws.s3"]]
    [rule] = rules
    key = {"wildcard": f"{trigger['prefix']}*{trigger['suffix']}"} if trigger["suffix"] else {"prefix": trigger["prefix"]}
    assert rule["EventPattern"] == {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [f"onboard-raw-{cfn.ACCOUNT}-{cfn.REGION}"]}, "object": {"key": [key]}}}
    [target] = rule["Targets"]
    connector = next(k for k in cfn.resources(template, "AWS::Lambda::Function") if k.startswith("Connector"))
    queue = next(iter(cfn.resources(template, "AWS::SQS::Queue")))
    assert target["Arn"] == f"<{connector}.Arn>"
    assert target["DeadLetterConfig"] == {"Arn": f"<{queue}.Arn>"}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 21600, "MaximumRetryAttempts": 8}


def assert_schedule_trigger(template: dict, source: str) -> None:
    [rule] = [r for r in cfn.resources(template, "AWS::Events::Rule").values() if "ScheduleExpression" in r]
    assert rule["ScheduleExpression"] == MANIFESTS[source]["connector"]["trigger"]["expression"]
    [target] = rule["Targets"]
    connector = next(k for k in cfn.resources(template, "AWS::Lambda::Function") if k.startswith("Connector"))
    queue = next(iter(cfn.resources(template, "AWS::SQS::Queue")))
    assert target["Arn"] == f"<{connector}.Arn>"
    assert target["DeadLetterConfig"] == {"Arn": f"<{queue}.Arn>"}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}



def assert_ses_trigger(template: dict, source: str) -> None:
    """The receipt rule stores the message under the source's inbox prefix, then invokes the connector."""
    trigger = MANIFESTS[source]["connector"]["trigger"]
    connector = next(k for k in cfn.resources(template, "AWS::Lambda::Function") if k.startswith("Connector"))
    [rule] = cfn.resources(template, "AWS::SES::ReceiptRule").values()
    assert rule == {"RuleSetName": "onboard-inbound", "Rule": {
        "Name": f"onboard-{source.replace('_', '-')}", "Enabled": True, "Recipients": trigger["recipients"],
        "ScanEnabled": True, "TlsPolicy": "Require",
        "Actions": [{"S3Action": {"BucketName": f"onboard-raw-{cfn.ACCOUNT}-{cfn.REGION}",
                                  "ObjectKeyPrefix": f"_inbox/{source}/"}},
                    {"LambdaAction": {"FunctionArn": f"<{connector}.Arn>", "InvocationType": "Event"}}]}}
    [permission] = [p for p in cfn.resources(template, "AWS::Lambda::Permission").values()
                    if p["FunctionName"] == f"<{connector}.Arn>"]
    assert permission == {"Action": "lambda:InvokeFunction", "FunctionName": f"<{connector}.Arn>",
                          "Principal": "ses.amazonaws.com", "SourceAccount": cfn.ACCOUNT}


def assert_http_trigger(template: dict, source: str) -> None:
    """A REST API with a proxy POST at the source's path, its auth from the YAML, throttled and access-logged."""
    trigger = MANIFESTS[source]["connector"]["trigger"]
    connector = next(k for k in cfn.resources(template, "AWS::Lambda::Function") if k.startswith("Connector"))
    [method] = cfn.resources(template, "AWS::ApiGateway::Method").values()
    assert method["HttpMethod"] == "POST"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert method["Integration"]["Uri"].endswith(f"functions/<{connector}.Arn>/invocations")
    api_key = trigger["auth"] == "api_key"
    assert (method["ApiKeyRequired"], method["AuthorizationType"]) == ((True, "NONE") if api_key else (False, "AWS_IAM"))
    parts = {r["PathPart"] for r in cfn.resources(template, "AWS::ApiGateway::Resource").values()}
    assert parts == set(trigger["path"].strip("/").split("/"))
    [stage] = cfn.resources(template, "AWS::ApiGateway::Stage").values()
    assert stage["StageName"] == "v1" and stage["TracingEnabled"] is True
    assert stage["AccessLogSetting"]["DestinationArn"].startswith("<ApiAccessLogs")
    if api_key:
        [plan] = cfn.resources(template, "AWS::ApiGateway::UsagePlan").values()
        assert plan["Throttle"] == {"BurstLimit": 200, "RateLimit": 100}
        assert len(cfn.resources(template, "AWS::ApiGateway::UsagePlanKey")) == 1
    permissions = [p for p in cfn.resources(template, "AWS::Lambda::Permission").values()
                   if p["FunctionName"] == f"<{connector}.Arn>"]  # the flush's schedule has its own
    assert {p["SourceArn"].rsplit("/POST/", 1)[1] for p in permissions} == {trigger["path"].lstrip("/")}


def assert_stream_trigger(template: dict, source: str) -> None:
    """An event source mapping with the YAML's batch size and window, bisect, bounded retries, partial batch
    responses and the dead-letter queue as on-failure destination."""
    trigger = MANIFESTS[source]["connector"]["trigger"]
    connector = next(k for k in cfn.resources(template, "AWS::Lambda::Function") if k.startswith("Connector"))
    queue = next(iter(cfn.resources(template, "AWS::SQS::Queue")))
    [mapping] = cfn.resources(template, "AWS::Lambda::EventSourceMapping").values()
    mapping.pop("Tags")
    assert trigger["stream"] == "kinesis"
    assert mapping == {
        "FunctionName": f"<{connector}>", "BatchSize": trigger["batch_size"],
        "MaximumBatchingWindowInSeconds": trigger["batch_window_seconds"],
        "StartingPosition": trigger["starting_position"], "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": trigger["max_retries"], "MaximumRecordAgeInSeconds": 86400,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": f"<{queue}.Arn>"}},
        "EventSourceArn": f"arn:aws:kinesis:{cfn.REGION}:{cfn.ACCOUNT}:stream/{trigger['stream_name']}"}


TRIGGER_ASSERTIONS = {"s3_file": assert_s3_trigger, "rest_api": assert_schedule_trigger, "email": assert_ses_trigger,
                      "http_push": assert_http_trigger, "stream": assert_stream_trigger}


@pytest.fixture(scope="module", params=sorted(SOURCE_KINDS))
def kind_stack(request, assembly):
    source = example_of(request.param)
    return request.param, source, cfn.load(assembly, f"Source-{source}")


def test_every_kind_has_its_trigger_asserted(kind_stack):
    kind, source, template = kind_stack
    assert kind in TRIGGER_ASSERTIONS, f"add the trigger assertions of kind {kind}"
    TRIGGER_ASSERTIONS[kind](template, source)


def test_lambdas_are_pinned_arm64_with_log_retention_and_encrypted_logs(kind_stack):
    _, source, template = kind_stack
    functions = cfn.resources(template, "AWS::Lambda::Function")
    buffered = [f"onboard-{source}-ship"] if "buffer" in MANIFESTS[source]["connector"] else []
    checked = [f"onboard-{source}-late"] if "freshness" in MANIFESTS[source] else []
    assert sorted(f["FunctionName"] for f in functions.values()) == sorted([
        f"onboard-{source}-land", f"onboard-{source}-load", f"onboard-{source}-runs", *buffered, *checked])
    assert {(f["Runtime"], tuple(f["Architectures"])) for f in functions.values()} == {("python3.13", ("arm64",))}
    assert not any("ReservedConcurrentExecutions" in f for f in functions.values())  # opt-in (deploy.yaml)
    for log_group in cfn.resources(template, "AWS::Logs::LogGroup").values():
        assert log_group["RetentionInDays"] == 30
        assert log_group["KmsKeyId"].startswith("<import:onboard-platform:")


def test_connector_failures_go_to_an_encrypted_tls_only_dead_letter_queue(kind_stack):
    _, source, template = kind_stack
    [(queue_id, queue)] = cfn.resources(template, "AWS::SQS::Queue").items()
    assert queue["KmsMasterKeyId"].startswith("<import:onboard-platform:")
    connector = next(f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                     if f["FunctionName"].endswith("-land"))
    assert connector["DeadLetterConfig"] == {"TargetArn": f"<{queue_id}.Arn>"}
    assert connector["Handler"] == "connector.handler.handler"
    [policy] = cfn.resources(template, "AWS::SQS::QueuePolicy").values()
    assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["PolicyDocument"]["Statement"])
    Template.from_json(template).has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2})


def test_connector_environment_resolves_the_lake_and_names_the_state_machine(kind_stack):
    _, source, template = kind_stack
    connector = next(f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                     if f["FunctionName"].endswith("-land"))
    env = connector["Environment"]["Variables"]
    state_machine = next(iter(cfn.resources(template, "AWS::StepFunctions::StateMachine")))
    assert json.loads(env["ONBOARD_LAKE"]) == MANIFESTS[source]["lake"]
    assert env["ONBOARD_STATE_MACHINE_ARN"] == f"<{state_machine}>"
    assert {k: v for k, v in env.items() if k.startswith("ONBOARD_BUCKET_")} == {
        f"ONBOARD_BUCKET_{z.upper()}": f"onboard-{z}-{cfn.ACCOUNT}-{cfn.REGION}"
        for z in ("raw", "processed", "curated", "quarantine")}


def test_connector_claims_objects_only_in_its_own_partition_of_the_run_ledger(kind_stack):
    _, source, template = kind_stack
    connector = next(f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                     if f["FunctionName"].endswith("-land"))
    ledger_ref = "<import:onboard-platform:ExportsOutputRefRunLedger05F8E29A5513F23A>"
    assert connector["Environment"]["Variables"]["ONBOARD_LEDGER_TABLE"] == ledger_ref
    policy = next(p for k, p in cfn.resources(template, "AWS::IAM::Policy").items() if k.startswith("ConnectorRole"))
    claims = [s for s in policy["PolicyDocument"]["Statement"] if "#objects" in json.dumps(s.get("Condition"))]
    assert claims == [{
        "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], "Effect": "Allow",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"{source}#objects"]}},
        "Resource": "<import:onboard-platform:ExportsOutputFnGetAttRunLedger05F8E29AArn3E72F0F0>"}]


def test_glue_job_is_glue_5_with_the_sources_workers_library_metrics_and_no_bookmarks(kind_stack):
    _, source, template = kind_stack
    glue = MANIFESTS[source]["glue"]
    job = cfn.one(template, "AWS::Glue::Job")
    assert (job["Name"], job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"], job["Timeout"]) == (
        f"onboard-{source}", "5.0", glue["worker_type"], glue["workers"], glue["timeout_minutes"])
    assert job["Command"]["Name"] == "glueetl" and job["Command"]["ScriptLocation"].endswith(".py")
    assert job["SecurityConfiguration"].startswith("<import:onboard-platform:")
    arguments = job["DefaultArguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"  # every run names its input
    assert arguments["--enable-metrics"] == "true" and "--enable-continuous-cloudwatch-log" not in arguments
    assert arguments["--extra-py-files"].startswith("s3://cdk-") and arguments["--extra-py-files"].endswith(".zip")
    assert arguments["--TempDir"] == f"s3://onboard-artifact-{cfn.ACCOUNT}-{cfn.REGION}/glue-temp/{source}/"
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1} and job["MaxRetries"] == 0


def test_crawler_is_built_from_the_generated_crawler_json(kind_stack):
    _, source, template = kind_stack
    generated = json.loads((REPO / "generated" / source / "glue/crawler.json").read_text())
    crawler = cfn.one(template, "AWS::Glue::Crawler")
    assert crawler["Name"] == f"onboard-{source}" and crawler["DatabaseName"] == "onboard_lake"
    assert crawler["Schedule"] == {"ScheduleExpression": "cron(30 0 * * ? *)"}  # new partitions, daily
    # The crawler keeps the table the stack creates (a catalog target), not one named after the folder
    assert crawler["Targets"] == {"CatalogTargets": [{"DatabaseName": "onboard_lake", "Tables": [f"{source}_batches"]}]}
    assert crawler["SchemaChangePolicy"] == generated["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}  # catalog targets need LOG
    assert crawler["RecrawlPolicy"] == generated["RecrawlPolicy"]
    assert crawler["Configuration"] == generated["Configuration"]


def test_the_batches_table_is_created_by_the_stack_over_the_processed_prefix(kind_stack):
    _, source, template = kind_stack
    generated = json.loads((REPO / "generated" / source / "glue/crawler.json").read_text())["Table"]
    tables = {t["TableInput"]["Name"]: t for t in cfn.resources(template, "AWS::Glue::Table").values()}
    assert sorted(tables) == sorted([source, f"{source}_batches"])
    batches = tables[f"{source}_batches"]
    processed = MANIFESTS[source]["lake"]["processed"]["prefix"]
    assert batches["DatabaseName"] == "onboard_lake" and batches["TableInput"]["TableType"] == "EXTERNAL_TABLE"
    descriptor = batches["TableInput"]["StorageDescriptor"]
    assert descriptor["Location"] == f"s3://onboard-processed-{cfn.ACCOUNT}-{cfn.REGION}/{processed}"
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert descriptor["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert descriptor["Columns"] == generated["Columns"]
    assert [c["Name"] for c in descriptor["Columns"]][-2:] == ["_batch_id", "_ingested_at"]
    assert batches["TableInput"]["PartitionKeys"] == generated["PartitionKeys"]
    crawler_id = next(iter(cfn.resources(template, "AWS::Glue::Crawler")))
    batches_id = next(k for k, t in cfn.resources(template, "AWS::Glue::Table").items()
                      if t["TableInput"]["Name"] == f"{source}_batches")
    assert batches_id in template["Resources"][crawler_id]["DependsOn"]


def test_the_view_is_the_generated_athena_sql_as_a_catalog_view(kind_stack):
    import base64

    from framework.render.athena import view_query

    _, source, template = kind_stack
    text = (REPO / "generated" / source / "athena/view.sql").read_text()
    columns = json.loads((REPO / "generated" / source / "glue/crawler.json").read_text())["Table"]["Columns"]
    [view] = [t for t in cfn.resources(template, "AWS::Glue::Table").values() if t["TableInput"]["Name"] == source]
    table = view["TableInput"]
    assert table["TableType"] == "VIRTUAL_VIEW" and table["Parameters"] == {"presto_view": "true",
                                                                           "comment": "Presto View"}
    assert table["ViewExpandedText"] == "/* Presto View */"
    encoded = table["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    definition = json.loads(base64.b64decode(encoded))
    assert definition["originalSql"] == view_query(text, "onboard_lake").expression.sql(dialect="athena")
    assert f"FROM onboard_lake.{source}_batches" in definition["originalSql"]
    assert (definition["catalog"], definition["schema"]) == ("awsdatacatalog", "onboard_lake")
    assert [c["name"] for c in definition["columns"]] == [c["Name"] for c in columns]
    assert table["StorageDescriptor"]["Columns"] == columns


def test_view_columns_carry_athena_engine_types():
    from onboard_cdk.lake_catalog import presto_view_text

    text = presto_view_text("SELECT 1", "db", [{"Name": "a", "Type": "string"}, {"Name": "b", "Type": "int"},
                                               {"Name": "c", "Type": "decimal(12,2)"}, {"Name": "d", "Type": "timestamp"}])
    import base64
    definition = json.loads(base64.b64decode(text.removeprefix("/* Presto View: ").removesuffix(" */")))
    assert definition["columns"] == [{"name": "a", "type": "varchar"}, {"name": "b", "type": "integer"},
                                     {"name": "c", "type": "decimal(12,2)"}, {"name": "d", "type": "timestamp"}]


def walk(states: dict, state: str) -> list[str]:
    """States from `state` on, following Next (a Choice: its Default) until a state repeats or the path ends."""
    path: list[str] = []
    while state in states and state not in path:
        path.append(state)
        state = states[state].get("Next") or (states[state].get("Default") if states[state]["Type"] == "Choice" else None)
    return path


def test_state_machine_runs_ingest_transform_crawl_migrate_load_notify_in_order(kind_stack):
    _, source, template = kind_stack
    definition = cfn.state_machine_definition(template)
    states = definition["States"]
    assert walk(states, definition["StartAt"]) == [
        "Ingest", "ResumeAt?", "Transform", "RecordTransform", "MigrationStart", "Migrate", "SchemaCurrent?",
        "SchemaChanging", "WaitForMigration", "MigrationStatus", "MigrationFinished?"]
    assert states["SchemaCurrent?"]["Choices"] == [
        {"Variable": "$.migration.status", "StringEquals": "CURRENT", "Next": "SchemaChanged?"}]
    # the crawler runs only when this execution created or migrated the table
    assert states["SchemaChanging"] == {"Type": "Pass", "Comment": states["SchemaChanging"]["Comment"],
                                        "Result": True, "ResultPath": "$.schema_changed", "Next": "WaitForMigration"}
    assert states["SchemaChanged?"] == {"Type": "Choice", "Default": "Load", "Choices": [
        {"Variable": "$.schema_changed", "IsPresent": True, "Next": "Crawl"}]}
    assert states["Crawl"]["Next"] == "Load"
    assert states["MigrationFinished?"]["Choices"] == [
        {"Variable": "$.migration_status.status", "StringEquals": "FINISHED", "Next": "Migrate"}]
    assert states["MigrationFinished?"]["Default"] == "WaitForMigration"
    assert states["MigrationStart"]["Result"] == {"record_version": 0}
    assert states["Migrate"]["Parameters"]["Payload"] == {"action": "migrate",
                                                          "record_version.$": "$.migration.record_version"}
    assert states["MigrationStatus"]["Parameters"]["Payload"] == {
        "action": "status", "step": "migrate", "statement_id.$": "$.migration.statement_id"}
    assert walk(states, "Load") == ["Load", "LoadSubmitted?", "WaitForLoad", "LoadStatus", "LoadFinished?"]
    assert states["LoadSubmitted?"]["Choices"] == [
        {"Variable": "$.load.status", "StringEquals": "SKIPPED", "Next": "RecordSuccess"}]
    assert states["LoadFinished?"]["Choices"] == [
        {"Variable": "$.load.status", "StringEquals": "FINISHED", "Next": "RecordSuccess"}]
    assert [states["RecordSuccess"]["Next"], states["Notify"]["Next"]] == ["Notify", "Done"]
    assert states["Transform"]["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert states["Transform"]["Parameters"] == {"JobName": f"<{next(iter(cfn.resources(template, 'AWS::Glue::Job')))}>",
                                                 "Arguments.$": "$.glue_arguments"}
    assert states["Load"]["Parameters"]["Payload"] == {"action": "start", "batch_id.$": "$.batch_id",
                                                       "manifest_uri.$": "$.manifest_uri",
                                                       "summary_uri.$": "$.summary_uri",
                                                       "execution.$": "$$.Execution.Id"}


def test_the_load_names_its_execution_and_its_status_poll_can_resubmit_it(kind_stack):
    """The Data API token derives from the execution (a resumed one submits anew); a poll that resubmitted
    after a serializable isolation conflict hands the new statement to the next poll (both write $.load)."""
    _, _, template = kind_stack
    states = cfn.state_machine_definition(template)["States"]
    selector = {"status.$": "$.Payload.status", "statement_id.$": "$.Payload.statement_id",
                "rows.$": "$.Payload.rows", "attempt.$": "$.Payload.attempt"}
    assert states["LoadStatus"]["Parameters"]["Payload"] == {
        "action": "status", "statement_id.$": "$.load.statement_id", "attempt.$": "$.load.attempt",
        "rows.$": "$.load.rows", "batch_id.$": "$.batch_id", "manifest_uri.$": "$.manifest_uri",
        "summary_uri.$": "$.summary_uri", "execution.$": "$$.Execution.Id"}
    assert (states["Load"]["ResultSelector"], states["Load"]["ResultPath"]) == (selector, "$.load")
    assert (states["LoadStatus"]["ResultSelector"], states["LoadStatus"]["ResultPath"]) == (selector, "$.load")


def test_a_resumed_batch_skips_the_finished_transform(kind_stack):
    _, _, template = kind_stack
    states = cfn.state_machine_definition(template)["States"]
    assert states["Ingest"]["ResultSelector"] == {"stage.$": "$.Payload.stage"}
    assert states["Ingest"]["ResultPath"] == "$.ledger" and states["Ingest"]["Next"] == "ResumeAt?"
    assert states["ResumeAt?"] == {"Type": "Choice", "Default": "Transform", "Choices": [
        {"Variable": "$.ledger.stage", "StringEquals": "load", "Next": "MigrationStart"}]}


def test_the_run_ledger_task_writes_every_ledger_item_with_the_whole_state(kind_stack):
    _, source, template = kind_stack
    states = cfn.state_machine_definition(template)["States"]
    functions = cfn.resources(template, "AWS::Lambda::Function")
    [runs_id] = [k for k, f in functions.items() if f["FunctionName"] == f"onboard-{source}-runs"]
    assert functions[runs_id]["Handler"] == "framework.runtime.pipeline_runs.handler"
    actions = {"Ingest": "start", "RecordTransform": "stage", "RecordSuccess": "succeeded", "RecordFailure": "failed"}
    for name, action in actions.items():
        task = states[name]
        assert task["Resource"] == "arn:aws:states:::lambda:invoke", name
        assert task["Parameters"] == {"FunctionName": f"<{runs_id}.Arn>", "Payload": {
            "action": action, "run.$": "$", "execution.$": "$$.Execution.Id"}}, name
    assert [states[n]["ResultPath"] for n in ("RecordTransform", "RecordSuccess", "RecordFailure")] == [None] * 3
    assert not any(s.get("Resource", "").startswith("arn:aws:states:::dynamodb:") for s in states.values())
    policy = next(p for k, p in cfn.resources(template, "AWS::IAM::Policy").items() if k.startswith("RunsRole"))
    [ledger] = [s for s in policy["PolicyDocument"]["Statement"] if "dynamodb:PutItem" in s["Action"]]
    assert ledger == {
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], "Effect": "Allow",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [source, f"{source}#objects"]}},
        "Resource": "<import:onboard-platform:ExportsOutputFnGetAttRunLedger05F8E29AArn3E72F0F0>"}
    [summaries] = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "s3:GetObject"]
    manifests = MANIFESTS[source]["lake"]["manifests"]
    assert summaries["Resource"] == f"arn:aws:s3:::onboard-processed-{cfn.ACCOUNT}-{cfn.REGION}/{manifests['prefix']}*"


def test_every_task_retries_with_backoff_and_full_jitter_and_failures_alert(kind_stack):
    _, _, template = kind_stack
    states = cfn.state_machine_definition(template)["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert sorted(tasks) == ["Alert", "Crawl", "Ingest", "Load", "LoadStatus", "Migrate", "MigrationStatus", "Notify",
                             "RecordFailure", "RecordSuccess", "RecordTransform", "Transform"]
    for name, task in tasks.items():
        assert task["Retry"], name
        for retry in task["Retry"]:
            assert retry["JitterStrategy"] == "FULL" and retry["BackoffRate"] > 1, name
            assert retry["MaxDelaySeconds"] >= retry["IntervalSeconds"], name
            assert "States.ALL" not in retry["ErrorEquals"] and "States.TaskFailed" not in retry["ErrorEquals"], name
    assert tasks["Transform"]["Retry"][0]["ErrorEquals"][0] == "Glue.ConcurrentRunsExceededException"
    for name in ("Ingest", "Transform", "RecordTransform", "Crawl", "Migrate", "MigrationStatus", "Load", "LoadStatus",
                 "RecordSuccess", "Notify"):
        assert tasks[name]["Catch"][-1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                            "Next": "RecordFailure"}, name
    assert tasks["Crawl"]["Catch"][0] == {"ErrorEquals": ["Glue.CrawlerRunningException"], "ResultPath": None,
                                          "Next": "Load"}
    for name in ("Ingest", "Migrate", "MigrationStatus", "Load", "LoadStatus", "RecordSuccess", "RecordTransform"):
        assert "Lambda.ClientExecutionTimeoutException" in tasks[name]["Retry"][0]["ErrorEquals"], name
    assert tasks["RecordFailure"]["Next"] == "Alert" and tasks["Alert"]["Next"] == "Failed"
    assert tasks["Alert"]["Resource"] == "arn:aws:states:::sns:publish"
    assert tasks["Alert"]["Parameters"]["TopicArn"].startswith("<import:onboard-platform:")
    assert states["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_state_machine_logs_everything_and_traces(kind_stack):
    _, _, template = kind_stack
    machine = cfn.one(template, "AWS::StepFunctions::StateMachine")
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["TracingConfiguration"] == {"Enabled": True}


def test_alarms_on_lambda_errors_glue_failures_and_state_machine_failures_notify_the_topic(kind_stack):
    _, source, template = kind_stack
    alarms = cfn.resources(template, "AWS::CloudWatch::Alarm")
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms.values()}
    assert sorted(by_metric) == [("AWS/Events", "TriggeredRules"), ("AWS/Lambda", "Errors"),
                                 ("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/States", "ExecutionsFailed"),
                                 ("AWS/States", "ExecutionsTimedOut")]
    assert len(alarms) == 6  # Lambda errors twice: connector and loader
    for alarm in alarms.values():
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        [action] = alarm["AlarmActions"]
        assert action.startswith("<import:onboard-platform:") and "Alerts" in action
    glue_rule_id, glue_rule = next((k, r) for k, r in cfn.resources(template, "AWS::Events::Rule").items()
                                   if r.get("EventPattern", {}).get("source") == ["aws.glue"])
    assert glue_rule["EventPattern"]["detail"] == {"jobName": [f"<{next(iter(cfn.resources(template, 'AWS::Glue::Job')))}>"],
                                                   "state": ["FAILED", "TIMEOUT", "ERROR"]}
    assert by_metric[("AWS/Events", "TriggeredRules")]["Dimensions"] == [{"Name": "RuleName", "Value": f"<{glue_rule_id}>"}]


def test_template_assertions_on_the_connector(kind_stack):
    _, source, template = kind_stack
    Template.from_json(template).has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": f"onboard-{source}-land", "Handler": "connector.handler.handler",
        "KmsKeyArn": Match.any_value(), "LoggingConfig": {"LogGroup": Match.any_value()},
        "Timeout": MANIFESTS[source]["connector"]["timeout_seconds"]})


def test_the_loader_may_add_partitions_to_its_own_batches_table_only(kind_stack):
    _, source, template = kind_stack
    [loader] = [f for k, f in cfn.resources(template, "AWS::Lambda::Function").items() if k.startswith("Loader")]
    assert loader["Environment"]["Variables"]["ONBOARD_GLUE_TABLE"] == f"onboard_lake.{source}_batches"
    role = loader["Role"].strip("<>").removesuffix(".Arn")
    access = cfn.Access.of(template)
    glue = f"arn:aws:glue:{cfn.REGION}:{cfn.ACCOUNT}"
    assert access.allows(role, "glue:BatchCreatePartition", f"{glue}:table/onboard_lake/{source}_batches")
    assert access.allows(role, "glue:GetTable", f"{glue}:table/onboard_lake/{source}_batches")
    assert not access.allows(role, "glue:BatchCreatePartition", f"{glue}:table/onboard_lake/other_batches")
    assert not access.allows(role, "glue:UpdateTable", f"{glue}:table/onboard_lake/{source}_batches")


def test_the_crawler_may_change_its_batches_table_only_not_the_view(kind_stack):
    _, source, template = kind_stack
    crawler = cfn.one(template, "AWS::Glue::Crawler")
    role = crawler["Role"].strip("<>").removesuffix(".Arn")
    access = cfn.Access.of(template)
    glue = f"arn:aws:glue:{cfn.REGION}:{cfn.ACCOUNT}"
    assert access.allows(role, "glue:UpdateTable", f"{glue}:table/onboard_lake/{source}_batches")
    assert access.allows(role, "glue:BatchCreatePartition", f"{glue}:table/onboard_lake/{source}_batches")
    assert not access.allows(role, "glue:UpdateTable", f"{glue}:table/onboard_lake/{source}")  # the view
