"""The deployed loader brings the curated datasets up to date after a finished load (stubbed Data API)."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from botocore.stub import ANY, Stubber

from framework.runtime.warehouse_loader import handler
from tests.conftest import REPO
from tests.runtime.test_warehouse_loader import CHAIN, MANIFEST
from tests.runtime.test_warehouse_loader import environment as environment  # noqa: F401 (the fixture)

WHERE = {"Database": "analytics", "WorkgroupName": "onboard-warehouse",
         "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onboard-warehouse-loader-AbCdEf"}
CURATED = "s3://onboard-curated-123456789012-eu-west-1/curated/"
DATASET = json.loads((REPO / "generated/_datasets/datasets.json").read_text())["datasets"][0]
SHOP = ["sales.customers", "sales.products", "sales.transactions"]


@pytest.fixture
def asset(tmp_path, monkeypatch, request):
    """The loader asset's redshift/ folder as lambda_assets.stage_loader builds it."""
    request.getfixturevalue("environment")
    folder = tmp_path / "redshift"
    shutil.copytree(REPO / "generated/sales_transactions/redshift", folder)
    shutil.copyfile(REPO / "generated/sales_transactions/schema.lock.json", folder / "schema.lock.json")
    shutil.copyfile(REPO / "generated/_datasets/datasets.json", folder / "datasets.json")
    monkeypatch.setenv("ONBOARD_SQL_DIR", str(folder))
    monkeypatch.setenv("ONBOARD_CURATED_URI", CURATED)
    return folder


def expect(stub: Stubber, statement_id: str, sql, rows: list[str] | None = None) -> None:
    stub.add_response("execute_statement", {"Id": statement_id}, {"Sql": sql, **WHERE})
    stub.add_response("describe_statement", {"Id": statement_id, "Status": "FINISHED"}, {"Id": statement_id})
    if rows is not None:
        stub.add_response("get_statement_result", {"Records": [[{"stringValue": r}] for r in rows]},
                          {"Id": statement_id})


def finished_load(data_api) -> dict:
    return handler({"action": "status", "statement_id": "load-1", "manifest_uri": MANIFEST, "batch_id": "b"},
                   data_api=data_api, s3=object())


UNLOAD = ("UNLOAD ('SELECT * FROM curated.revenue_by_tier') TO "  # noqa: S608 (expected text)
          f"'{CURATED}revenue_by_tier/' IAM_ROLE '{CHAIN}' FORMAT AS PARQUET CLEANPATH")


def test_a_load_refreshes_the_materialized_view_then_unloads_it(asset):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "load-1", "Status": "FINISHED"}, {"Id": "load-1"})
        expect(stub, "q-1", ANY, rows=[*SHOP, "curated.revenue_by_tier"])
        expect(stub, "r-1", "REFRESH MATERIALIZED VIEW curated.revenue_by_tier")
        expect(stub, "u-1", UNLOAD)
        answer = finished_load(data_api)
        stub.assert_no_pending_responses()
    assert answer["datasets"] == {"created": [], "refreshed": ["revenue_by_tier"], "exported": ["revenue_by_tier"],
                                  "waiting": []}


def test_the_load_that_completes_its_tables_creates_the_view(asset):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "load-1", "Status": "FINISHED"}, {"Id": "load-1"})
        expect(stub, "q-1", ANY, rows=SHOP)
        for i, statement in enumerate(DATASET["create"]):
            expect(stub, f"c-{i}", statement)
        expect(stub, "u-1", UNLOAD)
        answer = finished_load(data_api)
        stub.assert_no_pending_responses()
    assert DATASET["create"][2].startswith("CREATE MATERIALIZED VIEW curated.revenue_by_tier AS\nSELECT c.customer")
    assert answer["datasets"]["created"] == ["revenue_by_tier"]


def test_a_dataset_waits_while_a_table_it_reads_is_missing(asset):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "load-1", "Status": "FINISHED"}, {"Id": "load-1"})
        expect(stub, "q-1", ANY, rows=["sales.transactions"])
        answer = finished_load(data_api)
        stub.assert_no_pending_responses()
    assert answer["datasets"]["waiting"] == ["revenue_by_tier"]


def test_a_failed_refresh_is_reported_not_turned_into_a_failed_load(asset):
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "load-1", "Status": "FINISHED"}, {"Id": "load-1"})
        expect(stub, "q-1", ANY, rows=[*SHOP, "curated.revenue_by_tier"])
        stub.add_response("execute_statement", {"Id": "r-1"},
                          {"Sql": "REFRESH MATERIALIZED VIEW curated.revenue_by_tier", **WHERE})
        stub.add_response("describe_statement", {"Id": "r-1", "Status": "FAILED", "Error": "ERROR: permission denied"},
                          {"Id": "r-1"})
        answer = finished_load(data_api)
    assert answer["status"] == "FINISHED"
    assert answer["datasets"] == {"error": "statement r-1 failed: ERROR: permission denied"}


def test_an_export_without_its_curated_location_is_an_error_not_skipped(asset, monkeypatch):
    monkeypatch.delenv("ONBOARD_CURATED_URI")
    data_api = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data_api) as stub:
        stub.add_response("describe_statement", {"Id": "load-1", "Status": "FINISHED"}, {"Id": "load-1"})
        expect(stub, "q-1", ANY, rows=[*SHOP, "curated.revenue_by_tier"])
        expect(stub, "r-1", "REFRESH MATERIALIZED VIEW curated.revenue_by_tier")
        answer = finished_load(data_api)
    assert answer["datasets"] == {"error": "ONBOARD_CURATED_URI must be an s3://bucket/prefix/ location to export "
                                           "revenue_by_tier"}
