"""The Data API fake answers with the Data API's semantics, on the local DuckDB warehouse."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from framework.rehearse.data_api import DataApi
from framework.rehearse.endpoints import Endpoints

WHERE = {"Database": "analytics", "WorkgroupName": "onboard-warehouse"}


@pytest.fixture
def data_api(tmp_path):
    with mock_aws():
        boto3.setup_default_session(region_name="us-east-1")
        fake = DataApi(tmp_path / "warehouse.duckdb")
        endpoints = Endpoints()
        fake.register(endpoints)
        endpoints.install(boto3.DEFAULT_SESSION)
        yield fake, boto3.client("redshift-data")


def test_a_batch_is_one_transaction_and_reports_the_failed_statement(data_api):
    fake, client = data_api
    for sql in ("CREATE SCHEMA s", "CREATE TABLE s.t (id INTEGER)"):
        assert client.describe_statement(Id=client.execute_statement(Sql=sql, **WHERE)["Id"])["Status"] == "FINISHED"
    batch = client.batch_execute_statement(
        Sqls=["INSERT INTO s.t VALUES (1)", "INSERT INTO s.nope VALUES (2)", "INSERT INTO s.t VALUES (3)"],
        **WHERE)["Id"]
    described = client.describe_statement(Id=batch)
    assert described["Status"] == "FAILED"
    assert described["Error"].startswith("ERROR: ") and "nope" in described["Error"]
    assert [s["Status"] for s in described["SubStatements"]] == ["FINISHED", "FAILED", "ABORTED"]
    assert [s["Id"] for s in described["SubStatements"]] == [f"{batch}:1", f"{batch}:2", f"{batch}:3"]
    count = client.execute_statement(Sql="SELECT COUNT(*) AS n FROM s.t", **WHERE)["Id"]
    assert client.describe_statement(Id=count)["Status"] == "FINISHED"
    assert client.get_statement_result(Id=count)["Records"] == [[{"longValue": 0}]]  # the first insert rolled back


def test_separate_statements_are_separate_sessions(data_api):
    _, client = data_api
    created = client.execute_statement(Sql="CREATE TEMP TABLE scratch (id INTEGER)", **WHERE)["Id"]
    assert client.describe_statement(Id=created)["Status"] == "FINISHED"
    used = client.execute_statement(Sql="SELECT * FROM scratch", **WHERE)["Id"]
    described = client.describe_statement(Id=used)
    assert described["Status"] == "FAILED" and "scratch" in described["Error"]
    in_one_batch = client.batch_execute_statement(
        Sqls=["CREATE TEMP TABLE scratch (id INTEGER)", "INSERT INTO scratch VALUES (1)"], **WHERE)["Id"]
    assert client.describe_statement(Id=in_one_batch)["Status"] == "FINISHED"


def test_results_are_typed_fields_and_a_client_token_answers_the_first_statement(data_api):
    fake, client = data_api
    first = client.execute_statement(Sql="SELECT 1 AS a, 'x' AS b, NULL AS c, 2.5::float8 AS d, true AS e",
                                     ClientToken="token-1", **WHERE)["Id"]
    result = client.get_statement_result(Id=first)
    assert result["Records"] == [[{"longValue": 1}, {"stringValue": "x"}, {"isNull": True}, {"doubleValue": 2.5},
                                  {"booleanValue": True}]]
    assert [c["name"] for c in result["ColumnMetadata"]] == ["a", "b", "c", "d", "e"]
    again = client.execute_statement(Sql="SELECT 2", ClientToken="token-1", **WHERE)["Id"]
    assert again == first
    assert len([s for s in fake.statements.values() if ":" not in s.id]) == 1


def test_the_caller_identity_is_kept_and_a_target_is_required(data_api):
    fake, client = data_api
    statement = client.execute_statement(Sql="SELECT 1", Database="analytics", ClusterIdentifier="analytics",
                                         SecretArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:loader",
                                         )["Id"]
    assert fake.statements[statement].identity == "secret:arn:aws:secretsmanager:us-east-1:123456789012:secret:loader"
    with pytest.raises(client.exceptions.ValidationException, match="WorkgroupName or ClusterIdentifier"):
        client.execute_statement(Sql="SELECT 1", Database="analytics")
