"""The execution input the connector hands to the state machine: Glue job arguments and the manifest URI."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from framework.runtime.batch import Batch, LandedObject
from framework.runtime.lake import lake_from_env
from framework.runtime.orchestration import pipeline_input, start_pipeline
from tests.conftest import REPO

ENV = {"ONBOARD_BUCKET_RAW": "onboard-raw-1-eu", "ONBOARD_BUCKET_PROCESSED": "onboard-processed-1-eu",
       "ONBOARD_BUCKET_QUARANTINE": "onboard-quarantine-1-eu", "ONBOARD_BUCKET_CURATED": "onboard-curated-1-eu"}
BATCH_ID = "20241116T100000Z-1a2b3c4d"


def sales_batch() -> Batch:
    key = f"sales_transactions/ingest_date=2024-11-16/{BATCH_ID}.csv"
    landed = LandedObject("onboard-raw-1-eu", key, f"s3://onboard-raw-1-eu/{key}", "onboard-raw-1-eu/incoming/sales/a.csv")
    return Batch("sales_transactions", BATCH_ID, "2024-11-16T10:00:00Z", [landed])


def sales_lake(**overrides) -> str:
    lake = json.loads((REPO / "generated/sales_transactions/manifest.json").read_text())["lake"]
    lake.update(overrides)
    return json.dumps(lake)


def test_pipeline_input_carries_the_contracts_job_arguments_as_s3_uris():
    lake = lake_from_env({**ENV, "ONBOARD_LAKE": sales_lake()})
    assert pipeline_input(sales_batch(), lake) == {
        "source": "sales_transactions", "batch_id": BATCH_ID, "ingest_time": "2024-11-16T10:00:00Z", "files": 1,
        "objects": [f"s3://onboard-raw-1-eu/sales_transactions/ingest_date=2024-11-16/{BATCH_ID}.csv"],
        "landed_objects": [{
            "bucket": "onboard-raw-1-eu", "key": f"sales_transactions/ingest_date=2024-11-16/{BATCH_ID}.csv",
            "uri": f"s3://onboard-raw-1-eu/sales_transactions/ingest_date=2024-11-16/{BATCH_ID}.csv",
            "origin": "onboard-raw-1-eu/incoming/sales/a.csv", "etag": None, "size": None}],
        "folder": None,
        "glue_arguments": {
            "--batch_id": BATCH_ID,
            "--input": f"s3://onboard-raw-1-eu/sales_transactions/ingest_date=2024-11-16/{BATCH_ID}.csv",
            "--output": "s3://onboard-processed-1-eu/sales_transactions/",
            "--quarantine": f"s3://onboard-quarantine-1-eu/sales_transactions/{BATCH_ID}/",
            "--manifest": f"s3://onboard-processed-1-eu/_manifests/sales_transactions/{BATCH_ID}.manifest",
            "--summary": f"s3://onboard-processed-1-eu/_manifests/sales_transactions/{BATCH_ID}.summary.json",
            "--ingest_time": "2024-11-16T10:00:00Z",
        },
        "manifest_uri": f"s3://onboard-processed-1-eu/_manifests/sales_transactions/{BATCH_ID}.manifest",
        "summary_uri": f"s3://onboard-processed-1-eu/_manifests/sales_transactions/{BATCH_ID}.summary.json",
    }


def test_a_custom_destination_prefix_and_zone_reach_the_output_argument():
    lake = lake_from_env({**ENV, "ONBOARD_LAKE": sales_lake(
        processed={"bucket": "${BUCKET:curated}", "prefix": "shop/sales/"})})
    assert pipeline_input(sales_batch(), lake)["glue_arguments"]["--output"] == "s3://onboard-curated-1-eu/shop/sales/"


def test_job_arguments_are_exactly_the_contracts_names_less_the_one_glue_sets():
    from onboard_glue.args import OPTIONAL, REQUIRED

    arguments = pipeline_input(sales_batch(), lake_from_env({**ENV, "ONBOARD_LAKE": sales_lake()}))["glue_arguments"]
    # JOB_NAME is Glue's own; --slices is an operator's override of the config's files.slices, never the pipeline's
    assert sorted(arguments) == sorted(f"--{name}" for name in (*REQUIRED, *OPTIONAL) if name not in ("JOB_NAME",
                                                                                                     "slices"))


def test_start_pipeline_names_the_execution_by_batch_and_passes_the_input(monkeypatch):
    for key, value in {**ENV, "ONBOARD_LAKE": sales_lake()}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("stepfunctions", region_name="eu-west-1")
        machine = client.create_state_machine(
            name="onboard-sales_transactions", roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", machine)
        execution = start_pipeline(sales_batch(), client=client)
        described = client.describe_execution(executionArn=execution)
    assert described["name"] == BATCH_ID
    assert json.loads(described["input"]) == pipeline_input(sales_batch(), lake_from_env())


def test_a_batch_landed_as_pages_hands_its_folder_to_the_glue_job():
    from framework.runtime.batch import LandedFolder

    prefix = f"product_reviews/ingest_date=2024-11-16/{BATCH_ID}/"
    folder = LandedFolder("onboard-raw-1-eu", prefix, f"s3://onboard-raw-1-eu/{prefix}", 2000, 31_000_000)
    batch = Batch("product_reviews", BATCH_ID, "2024-11-16T10:00:00Z", folder=folder)
    lake = lake_from_env({**ENV, "ONBOARD_LAKE": sales_lake()})
    started = pipeline_input(batch, lake)
    assert (started["files"], started["objects"], started["glue_arguments"]["--input"]) == (
        2000, [f"s3://onboard-raw-1-eu/{prefix}"], f"s3://onboard-raw-1-eu/{prefix}")
