"""The catch paths of the deployed state machine, rehearsed: a failed batch is `failed` in the run ledger,
nothing of it is loaded, and the alert is published to the SNS topic; a failed load is resumed with
`onboard run --resume --deployed`'s own code against the rehearsal's ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from framework.deployed import resume_deployed
from framework.rehearse.assembly import Assembly
from framework.rehearse.execution import Rehearsal
from framework.warehouse import DuckDBWarehouse
from tests.conftest import REPO
from tests.rehearse.conftest import failed_at

pytestmark = pytest.mark.slow

CUSTOMERS = REPO / "sources/samples/customers_data.json"
HEADER = "transaction_id,date,customer_id,product_id,quantity,unit_price,total_amount,region,payment_method\n"
GOOD = [f"TXN{i:03d},2024-11-16,CUST002,PROD102,2,5.00,10.00,US-EAST,paypal\n" for i in range(2)]
BAD = ["TXN901,2024-11-16,CUST001,PROD101,1,10.00,10.00,MARS,credit_card\n",
       "TXN902,2024-11-16,CUST001,PROD101,2,10.00,25.00,APAC,credit_card\n",
       "BAD903,2024-11-16,CUST001,PROD101,0,10.00,0.00,APAC,credit_card\n",
       "TXN904,2024-11-16,CUST001,PROD101,abc,10.00,10.00,APAC,credit_card\n"]


def table_rows(project, table: str) -> list[tuple]:
    if not project.warehouse_path.exists():
        return []
    with DuckDBWarehouse(project.warehouse_path, read_only=True) as warehouse:
        schema, name = table.split(".")
        if not warehouse.table_columns(schema, name):
            return []
        return warehouse.query(f"SELECT * FROM {table}")[1]  # noqa: S608 (a constant of the test)


def failure_alert(alerts: list[dict], source: str, batch_id: str) -> dict:
    [alert] = [a for a in alerts if a["subject"] == f"Onboard: {source} batch FAILED"]
    assert (alert["message"]["source"], alert["message"]["batch_id"], alert["message"]["status"]) == (
        source, batch_id, "failed")
    return alert["message"]


def published(rehearsal: Rehearsal, source: str) -> dict[str, tuple[int, float]]:
    """What the pipeline's Lambdas published to (moto's) CloudWatch for the source: metric -> (data points, sum)."""
    cloudwatch = rehearsal.session.client("cloudwatch")
    now = datetime.now(UTC)
    found = {}
    for metric in cloudwatch.list_metrics(Namespace="Onboard", Dimensions=[{"Name": "Source", "Value": source}])[
            "Metrics"]:
        [point] = cloudwatch.get_metric_statistics(
            Namespace="Onboard", MetricName=metric["MetricName"], Dimensions=metric["Dimensions"],
            StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1), Period=7200,
            Statistics=["SampleCount", "Sum"])["Datapoints"]
        found[metric["MetricName"]] = (int(point["SampleCount"]), point["Sum"])
    return found


def test_a_quality_threshold_failure_ends_failed_with_nothing_loaded_and_an_alert(repo_project, rehearsal_assembly,
                                                                                tmp_path):
    data = tmp_path / "sales.csv"
    data.write_text(HEADER + "".join(GOOD + BAD), encoding="utf-8")
    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["sales_transactions"]) as rehearsal:
        [summary] = rehearsal.deliver("sales_transactions", data)
        record = rehearsal.ledger.get("sales_transactions", summary.batch_id)
        alerts = rehearsal.alerts()
    assert (summary.status, summary.failed_state) == ("failed", "Transform")
    assert summary.error == (
        "States.TaskFailed: QualityThresholdError: quality score 0.3333 is below the threshold 0.9: nothing was "
        "loaded; quarantined cast 1, quality 3 (rules id_format 1, quantity_positive 1, region_known 1, "
        "total_matches 1). To load such a batch, change those rules or quality.threshold in the source definition")
    assert summary.states == failed_at("Transform")
    assert [run["state"] for run in summary.glue_job_runs] == ["FAILED"]
    assert (summary.rows_in, summary.rows_loaded, summary.rows_quarantined) == (6, 0, 4)
    assert (record.status, record.stage, record.quality_score) == ("failed", "transform", 0.3333)
    assert record.rows["rows_not_loaded"] == 2
    assert failure_alert(alerts, "sales_transactions", summary.batch_id)["error"] == "States.TaskFailed"
    assert table_rows(repo_project, "sales.transactions") == []


# Every task before the load commits: a failure there must leave nothing in the table.
BEFORE_THE_LOAD = [("Ingest", []), ("Transform", ["FAILED"]), ("RecordTransform", ["SUCCEEDED"]),
                   ("Migrate", ["SUCCEEDED"]), ("MigrationStatus", ["SUCCEEDED"]), ("Crawl", ["SUCCEEDED"]),
                   ("Load", ["SUCCEEDED"])]


@pytest.mark.parametrize(("task", "job_runs"), BEFORE_THE_LOAD, ids=[t[0] for t in BEFORE_THE_LOAD])
def test_fail_at_a_task_ends_failed_with_nothing_loaded_and_an_alert(repo_project, rehearsal_assembly, task,
                                                                     job_runs):
    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["customers"], fail_at=task) as rehearsal:
        [summary] = rehearsal.deliver("customers", CUSTOMERS)
        record = rehearsal.ledger.get("customers", summary.batch_id)
        alerts = rehearsal.alerts()
    assert (summary.status, summary.failed_state) == ("failed", task)
    assert summary.states == failed_at(task)
    assert [run["state"] for run in summary.glue_job_runs] == job_runs
    assert "injected by onboard rehearse --fail-at " + task in summary.error
    assert record.status == "failed" and record.error == summary.error
    assert failure_alert(alerts, "customers", summary.batch_id)["cause"]
    assert table_rows(repo_project, "sales.customers") == []


def test_a_failed_load_is_resumed_from_the_load_with_the_deployed_resume(repo_project, rehearsal_assembly):
    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["customers"]) as rehearsal:
        rehearsal.data_api.fail_when.append((lambda sqls: any(s.startswith("COPY") for s in sqls),
                                             "S3ServiceException:Access Denied"))
        [failed] = rehearsal.deliver("customers", CUSTOMERS)
        assert (failed.status, failed.failed_state) == ("failed", "LoadStatus")
        assert failed.error.startswith("LoadFailed: load statement ") and failed.error.endswith(
            "failed: ERROR: S3ServiceException:Access Denied")
        assert rehearsal.ledger.get("customers", failed.batch_id).stage == "load"
        assert table_rows(repo_project, "sales.customers") == []
        rehearsal.data_api.fail_when.clear()  # the cause is fixed; resume the batch as the CLI does
        resumed = resume_deployed(repo_project, "customers", None, stepfunctions=rehearsal.sfn,
                                  dynamodb=rehearsal.dynamodb)
        assert (resumed.batch_id, resumed.stage) == (failed.batch_id, "load")
        summary = rehearsal.wait(rehearsal.pipelines["customers"], resumed.execution_arn)
        record = rehearsal.ledger.get("customers", failed.batch_id)
        metrics = published(rehearsal, "customers")
    assert summary.status == "succeeded", summary.error
    assert summary.states[:3] == ["Ingest", "ResumeAt?", "MigrationStart"] and "Transform" not in summary.states
    assert summary.glue_job_runs == []
    assert (record.status, record.stage, record.rows["rows_loaded"]) == ("succeeded", "done", 10)
    assert len(table_rows(repo_project, "sales.customers")) == 10
    # the ledger Lambda published each execution's outcome: the failed load (nothing loaded, with the Glue run
    # time), then the resumed load (its transform ran before: no Glue run time)
    assert metrics == {"BatchesSucceeded": (2, 1.0), "BatchesFailed": (2, 1.0), "RowsIn": (2, 20.0),
                       "RowsLoaded": (2, 10.0), "RowsQuarantined": (2, 0.0), "DuplicatesDropped": (2, 0.0),
                       "QualityScore": (2, 200.0), "GlueRunSeconds": (1, metrics["GlueRunSeconds"][1])}
    assert metrics["GlueRunSeconds"][1] > 0


def test_when_the_catch_cannot_record_the_failure_the_execution_status_rule_does(repo_project, rehearsal_assembly,
                                                                                  tmp_path):
    """RecordFailure itself fails: the batch would stay `running`; the template's rule on Step Functions
    Execution Status Change (FAILED) sends the ended execution to the run ledger task, which records it."""
    data = tmp_path / "sales.csv"
    data.write_text(HEADER + "".join(GOOD + BAD), encoding="utf-8")
    with Rehearsal(repo_project, Assembly(rehearsal_assembly), ["sales_transactions"],
                   fail_at="RecordFailure") as rehearsal:
        [summary] = rehearsal.deliver("sales_transactions", data)
        record = rehearsal.ledger.get("sales_transactions", summary.batch_id)
        claims = rehearsal.dynamodb.scan(TableName=rehearsal.ledger_table)["Items"]
        alerts = rehearsal.alerts()
    assert summary.states == failed_at("Transform")
    assert (summary.status, record.status, record.stage) == ("failed", "failed", "transform")
    assert [c for c in claims if c["source"]["S"] == "sales_transactions#objects"] == []  # released
    failure_alert(alerts, "sales_transactions", summary.batch_id)
