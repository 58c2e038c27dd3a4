"""After a finished load the loader adds the batch's partitions to `<source>_batches` (moto Glue), so the Athena
view sees the batch before the crawler's daily run; a failure there never fails the committed load."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from framework.runtime.lake_catalog import partition_values, register_partitions
from framework.runtime.warehouse_loader import status
from tests.runtime.test_warehouse_loader import BATCH, MANIFEST, PROCESSED

TABLE_LOCATION = f"s3://{PROCESSED}/sales_transactions/"
KEYS = ["onboard_year", "onboard_month", "onboard_day"]


def file_url(year: str, month: str, day: str, index: int = 0) -> str:
    return f"{TABLE_LOCATION}onboard_year={year}/onboard_month={month}/onboard_day={day}/part-{index:05d}-{BATCH}.parquet"


def test_partition_values_are_read_from_the_file_paths_in_key_order_once_each():
    urls = [file_url("2024", "11", "15"), file_url("2024", "11", "15", 1), file_url("2024", "12", "01"),
            "/lake/processed/sales_transactions/onboard_year=2025/onboard_month=01/onboard_day=02/x.parquet",
            f"{TABLE_LOCATION}onboard_year=2024/x.parquet"]  # a folder missing: not a partition of this table
    assert partition_values(urls, KEYS) == [["2024", "11", "15"], ["2024", "12", "01"], ["2025", "01", "02"]]


@pytest.fixture
def catalog(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        glue = boto3.client("glue", region_name="eu-west-1")
        glue.create_database(DatabaseInput={"Name": "onboard_lake"})
        glue.create_table(DatabaseName="onboard_lake", TableInput={
            "Name": "sales_transactions_batches", "PartitionKeys": [{"Name": k, "Type": "string"} for k in KEYS],
            "StorageDescriptor": {"Columns": [{"Name": "transaction_id", "Type": "string"}], "Location": TABLE_LOCATION,
                                  "SerdeInfo": {"SerializationLibrary":
                                                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=PROCESSED, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield glue, s3


def partitions(glue) -> list[tuple[list[str], str]]:
    found = glue.get_partitions(DatabaseName="onboard_lake", TableName="sales_transactions_batches")["Partitions"]
    return sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in found)


def test_a_finished_load_adds_its_partitions_and_a_second_load_of_the_same_folders_is_fine(catalog):
    glue, s3 = catalog
    urls = [file_url("2024", "11", "15"), file_url("2024", "12", "01")]
    key = MANIFEST.split(f"{PROCESSED}/")[1]
    s3.put_object(Bucket=PROCESSED, Key=key, Body=json.dumps({"entries": [{"url": u} for u in urls]}).encode())
    environ = {"ONBOARD_GLUE_TABLE": "onboard_lake.sales_transactions_batches"}
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    for _ in range(2):
        with Stubber(data_api) as stub:
            stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FINISHED"}, {"Id": "stmt-1"})
            answer = status({"statement_id": "stmt-1", "manifest_uri": MANIFEST}, data_api, environ, s3, glue=glue)
        assert answer == {"status": "FINISHED", "statement_id": "stmt-1", "attempt": 1, "partitions": 2}
    assert partitions(glue) == [
        (["2024", "11", "15"], f"{TABLE_LOCATION}onboard_year=2024/onboard_month=11/onboard_day=15/"),
        (["2024", "12", "01"], f"{TABLE_LOCATION}onboard_year=2024/onboard_month=12/onboard_day=01/")]


def test_an_unpartitioned_table_needs_nothing_and_a_missing_table_does_not_fail_the_load(catalog):
    glue, s3 = catalog
    glue.create_table(DatabaseName="onboard_lake", TableInput={
        "Name": "customers_batches", "StorageDescriptor": {"Location": f"s3://{PROCESSED}/customers/"}})
    assert register_partitions(glue, "onboard_lake.customers_batches", [f"s3://{PROCESSED}/customers/x.parquet"]) == 0
    s3.put_object(Bucket=PROCESSED, Key=MANIFEST.split(f"{PROCESSED}/")[1], Body=b'{"entries": []}')
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FINISHED"}, {"Id": "stmt-1"})
        answer = status({"statement_id": "stmt-1", "manifest_uri": MANIFEST}, data_api,
                        {"ONBOARD_GLUE_TABLE": "onboard_lake.missing_batches"}, s3, glue=glue)
    assert answer["status"] == "FINISHED"
    assert answer["partitions"]["error"].startswith("An error occurred (EntityNotFoundException)")
