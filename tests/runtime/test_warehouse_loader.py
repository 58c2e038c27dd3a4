"""The deployed load step: summary from S3 (moto), one BatchExecuteStatement, polling, failures."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from framework.runtime import warehouse_loader
from framework.runtime.warehouse_loader import LoadFailed, handler
from tests.conftest import REPO

PROCESSED = "onboard-processed-123456789012-eu-west-1"
BATCH = "20241116T100000Z-1a2b3c4d"
MANIFEST = f"s3://{PROCESSED}/_manifests/sales_transactions/{BATCH}.manifest"
SUMMARY = f"s3://{PROCESSED}/_manifests/sales_transactions/{BATCH}.summary.json"
LOADER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onboard-warehouse-loader-AbCdEf"
CHAIN = "arn:aws:iam::123456789012:role/onboard-copy-chain,arn:aws:iam::123456789012:role/onboard-copy-sales_transactions"
LAKE = json.loads((REPO / "generated/sales_transactions/manifest.json").read_text())["lake"]
EXECUTION = f"arn:aws:states:eu-west-1:123456789012:execution:onboard-sales_transactions:{BATCH}"
RESUMED = f"{EXECUTION}-resume-20241117T080000"
CONFLICT = ("ERROR: 1023 DETAIL: Serializable isolation violation on table - 142857, transactions forming the "
            "cycle are: 9001, 9002 (pid:4242)")


@pytest.fixture
def environment(monkeypatch):
    values = {"ONBOARD_SOURCE": "sales_transactions", "ONBOARD_LAKE": json.dumps(LAKE),
              "ONBOARD_BUCKET_PROCESSED": PROCESSED, "ONBOARD_BUCKET_RAW": "onboard-raw-123456789012-eu-west-1",
              "ONBOARD_BUCKET_QUARANTINE": "onboard-quarantine-123456789012-eu-west-1",
              "ONBOARD_COPY_ROLE_ARN": CHAIN, "ONBOARD_REDSHIFT_DATABASE": "analytics",
              "ONBOARD_REDSHIFT_WORKGROUP": "onboard-warehouse", "ONBOARD_REDSHIFT_SECRET_ARN": LOADER_SECRET,
              "ONBOARD_SQL_DIR": str(REPO / "generated/sales_transactions/redshift")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return values


@pytest.fixture
def s3(environment):
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=PROCESSED, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def put_summary(s3, files: int, rows: int) -> None:
    summary = {"batch_id": BATCH, "rows_in": rows + 2, "rows_loaded": rows, "rows_quarantined": 1,
               "rows_duplicate": 1, "files": files, "quarantine_reasons": {"cast": 1}}
    s3.put_object(Bucket=PROCESSED, Key=SUMMARY.split(f"{PROCESSED}/")[1], Body=json.dumps(summary).encode())


def start_event(execution: str = EXECUTION) -> dict:
    return {"action": "start", "batch_id": BATCH, "manifest_uri": MANIFEST, "summary_uri": SUMMARY,
            "execution": execution}


def expected_load_sqls() -> list[str]:
    folder = REPO / "generated/sales_transactions/redshift"
    return warehouse_loader.load_batch((folder / "ddl.sql").read_text(), (folder / "load.sql").read_text(),
                                       MANIFEST, CHAIN)[0]


def token(execution: str, purpose: str) -> str:
    import hashlib

    return hashlib.sha256(f"{execution}\x1f{purpose}".encode()).hexdigest()


def test_start_submits_ddl_and_load_as_one_batch_to_the_workgroup_as_the_loader_user(s3):
    put_summary(s3, files=4, rows=13)
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    folder = REPO / "generated/sales_transactions/redshift"
    expected_sqls, _ = warehouse_loader.load_batch((folder / "ddl.sql").read_text(), (folder / "load.sql").read_text(),
                                                   MANIFEST, CHAIN)
    with Stubber(data_api) as stub:
        stub.add_response("batch_execute_statement", {"Id": "stmt-1", "Database": "analytics"}, {
            "Sqls": expected_sqls, "Database": "analytics", "WorkgroupName": "onboard-warehouse",
            "SecretArn": LOADER_SECRET, "StatementName": f"onboard-sales_transactions-{BATCH}",
            "ClientToken": token(EXECUTION, "load#1")})
        result = handler(start_event(), data_api=data_api, s3=s3)
        stub.assert_no_pending_responses()
    assert result == {"status": "SUBMITTED", "statement_id": "stmt-1", "attempt": 1,
                      "rows": {"rows_in": 15, "rows_loaded": 13, "rows_quarantined": 1, "rows_duplicate": 1}}
    assert any(f"FROM '{MANIFEST}' IAM_ROLE '{CHAIN}'" in sql for sql in expected_sqls)


def test_a_batch_without_files_is_not_loaded(s3):
    put_summary(s3, files=0, rows=0)
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:  # no response queued: any Data API call would fail the test
        result = handler(start_event(), data_api=data_api, s3=s3)
        stub.assert_no_pending_responses()
    assert result["status"] == "SKIPPED" and result["statement_id"] is None


def test_a_manifest_outside_the_sources_prefix_is_refused_before_any_call(s3):
    put_summary(s3, files=1, rows=1)
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    event = dict(start_event(), manifest_uri=f"s3://{PROCESSED}/_manifests/customers/{BATCH}.manifest")
    with Stubber(data_api), pytest.raises(ValueError, match="outside this source's manifest prefix"):
        handler(event, data_api=data_api, s3=s3)


def test_migration_steps_run_as_the_loader_user_too(environment):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    where = {"Database": "analytics", "WorkgroupName": "onboard-warehouse", "SecretArn": LOADER_SECRET}
    with Stubber(data_api) as stub:
        stub.add_response("execute_statement", {"Id": "meta-1"}, {"Sql": "CREATE SCHEMA IF NOT EXISTS onboard_meta",
                                                                   **where})
        assert warehouse_loader.DataApiExecutor(data_api, warehouse_loader.target(environment)).submit(
            ["CREATE SCHEMA IF NOT EXISTS onboard_meta"]) == "meta-1"
        stub.assert_no_pending_responses()


def test_a_workgroup_without_the_loader_secret_is_refused(environment, monkeypatch):
    monkeypatch.delenv("ONBOARD_REDSHIFT_SECRET_ARN")
    import os

    with pytest.raises(LookupError, match="set ONBOARD_REDSHIFT_WORKGROUP and ONBOARD_REDSHIFT_SECRET_ARN"):
        warehouse_loader.target(os.environ)


def test_provisioned_cluster_target_uses_cluster_and_db_user(environment, monkeypatch):
    monkeypatch.delenv("ONBOARD_REDSHIFT_WORKGROUP")
    monkeypatch.delenv("ONBOARD_REDSHIFT_SECRET_ARN")
    monkeypatch.setenv("ONBOARD_REDSHIFT_CLUSTER", "analytics")
    monkeypatch.setenv("ONBOARD_REDSHIFT_DB_USER", "onboard_loader")
    import os

    assert warehouse_loader.target(os.environ) == {"Database": "analytics", "ClusterIdentifier": "analytics",
                                                   "DbUser": "onboard_loader"}


@pytest.mark.parametrize("state", ["SUBMITTED", "PICKED", "STARTED", "FINISHED"])
def test_status_reports_running_and_finished(environment, state):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "stmt-1", "Status": state}, {"Id": "stmt-1"})
        assert handler({"action": "status", "statement_id": "stmt-1"}, data_api=data_api, s3=object()) == {
            "status": state, "statement_id": "stmt-1", "attempt": 1}


def test_status_raises_load_failed_with_redshifts_error(environment):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FAILED",
                                                 "Error": "ERROR: Spectrum Scan Error: column count mismatch"},
                          {"Id": "stmt-1"})
        with pytest.raises(LoadFailed, match="load statement stmt-1 failed: ERROR: Spectrum Scan Error"):
            handler({"action": "status", "statement_id": "stmt-1"}, data_api=data_api, s3=object())


def test_describe_statement_against_moto_redshift_data(environment):
    """moto's redshift-data keeps statements run with ExecuteStatement (it has no BatchExecuteStatement)."""
    with mock_aws():
        data_api = boto3.client("redshift-data", region_name="eu-west-1")
        statement = data_api.execute_statement(ClusterIdentifier="analytics", Database="analytics",
                                               DbUser="onboard_loader", Sql="SELECT 1")
        result = handler({"action": "status", "statement_id": statement["Id"]}, data_api=data_api, s3=object())
    assert result == {"status": "STARTED", "statement_id": statement["Id"], "attempt": 1}  # moto reports STARTED


def test_unknown_action_is_refused(environment):
    with pytest.raises(ValueError, match="unknown action 'go'; valid: migrate, start, status"):
        handler({"action": "go"}, data_api=object(), s3=object())


def test_a_resumed_execution_submits_the_load_with_its_own_token(s3):
    """The token derives from the execution: a Lambda retry within one execution repeats it (the Data API returns
    the first submission), a resumed execution does not (it would get the failed statement back)."""
    put_summary(s3, files=4, rows=13)
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    tokens = []
    with Stubber(data_api) as stub:
        for execution, statement in ((EXECUTION, "stmt-1"), (EXECUTION, "stmt-1"), (RESUMED, "stmt-2")):
            stub.add_response("batch_execute_statement", {"Id": statement}, {
                "Sqls": expected_load_sqls(), "Database": "analytics", "WorkgroupName": "onboard-warehouse",
                "SecretArn": LOADER_SECRET, "StatementName": f"onboard-sales_transactions-{BATCH}", "ClientToken": token(execution, "load#1")})
            tokens.append(token(execution, "load#1"))
            handler(start_event(execution), data_api=data_api, s3=s3)
        stub.assert_no_pending_responses()
    assert tokens[0] == tokens[1] != tokens[2] and BATCH not in tokens and {len(t) for t in tokens} == {64}


def test_a_load_without_its_execution_is_refused(s3):
    put_summary(s3, files=4, rows=13)
    event = {k: v for k, v in start_event().items() if k != "execution"}
    with Stubber(boto3.client("redshift-data", region_name="eu-west-1")) as stub, \
            pytest.raises(ValueError, match="names no execution"):
        handler(event, data_api=stub.client, s3=s3)


def status_event(statement: str, attempt: int) -> dict:
    rows = {"rows_in": 15, "rows_loaded": 13, "rows_quarantined": 1, "rows_duplicate": 1}
    return {**start_event(), "action": "status", "statement_id": statement, "attempt": attempt, "rows": rows}


def test_a_serializable_isolation_conflict_is_submitted_again_after_a_backoff(s3, environment):
    put_summary(s3, files=4, rows=13)
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    waits: list[float] = []
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FAILED", "Error": CONFLICT},
                          {"Id": "stmt-1"})
        stub.add_response("batch_execute_statement", {"Id": "stmt-2"}, {
            "Sqls": expected_load_sqls(), "Database": "analytics", "WorkgroupName": "onboard-warehouse",
            "SecretArn": LOADER_SECRET, "StatementName": f"onboard-sales_transactions-{BATCH}", "ClientToken": token(EXECUTION, "load#2")})
        stub.add_response("describe_statement", {"Id": "stmt-2", "Status": "FINISHED"}, {"Id": "stmt-2"})
        resubmitted = warehouse_loader.status(status_event("stmt-1", 1), data_api, environment, s3, waits.append)
        finished = warehouse_loader.status(status_event("stmt-2", 2), data_api, environment, s3, waits.append)
        stub.assert_no_pending_responses()
    rows = status_event("stmt-1", 1)["rows"]
    assert resubmitted == {"status": "SUBMITTED", "statement_id": "stmt-2", "attempt": 2, "rows": rows}
    assert finished == {"status": "FINISHED", "statement_id": "stmt-2", "attempt": 2, "rows": rows}
    assert len(waits) == 1 and 0 <= waits[0] <= 2.0


def test_serializable_isolation_retries_are_bounded(s3, environment):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "stmt-4", "Status": "FAILED", "Error": CONFLICT},
                          {"Id": "stmt-4"})
        with pytest.raises(LoadFailed, match="load statement stmt-4 failed after 4 attempts: ERROR: 1023 DETAIL: "
                                             "Serializable isolation violation"):
            warehouse_loader.status(status_event("stmt-4", warehouse_loader.MAX_LOAD_ATTEMPTS), data_api,
                                    environment, s3, lambda _: None)


def test_backoff_is_full_jitter_doubling_to_a_cap():
    assert [warehouse_loader.backoff(n, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 16.0, 20.0]
    assert warehouse_loader.backoff(3, lambda: 0.25) == 2.0


def test_migration_bookkeeping_retries_a_serializable_isolation_conflict(environment):
    """Two sources' first loads both write onboard_meta.schema_migrations: the loser runs its statement again."""
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    waits: list[float] = []
    where = {"Database": "analytics", "WorkgroupName": "onboard-warehouse"}
    executor = warehouse_loader.DataApiExecutor(data_api, where, sleep=waits.append)
    insert = "INSERT INTO onboard_meta.schema_migrations VALUES ('a', 1, 'baseline', 'none', GETDATE())"
    with Stubber(data_api) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"}, {"Sql": insert, **where})
        stub.add_response("describe_statement", {"Id": "s-1", "Status": "FAILED", "Error": CONFLICT}, {"Id": "s-1"})
        stub.add_response("execute_statement", {"Id": "s-2"}, {"Sql": insert, **where})
        stub.add_response("describe_statement", {"Id": "s-2", "Status": "FINISHED"}, {"Id": "s-2"})
        executor.transaction([insert])
        stub.assert_no_pending_responses()
    assert len(waits) == 1
