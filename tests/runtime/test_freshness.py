"""Freshness with a controlled clock: `onboard status --freshness` over the local and the deployed run ledger,
and the deployed check's MinutesSinceLastLoad metric (moto CloudWatch)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework import freshness_status
from framework.cli import main
from framework.project import Project
from framework.runtime import freshness
from framework.runtime import ledger as ledger_module
from framework.runtime.ledger import DynamoRunLedger, RunRecord, SqliteRunLedger
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
WARN, ERROR = 26 * 3600, 50 * 3600


def put_at(ledger, monkeypatch, when: datetime, record: RunRecord) -> None:
    monkeypatch.setattr(ledger_module, "_now_precise", lambda: when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    ledger.put(record)


@pytest.mark.parametrize(("age", "state"), [
    (None, "never"), (0, "ok"), (WARN - 1, "ok"), (WARN, "warn"), (ERROR - 1, "warn"), (ERROR, "error")])
def test_state_by_age(age, state):
    assert freshness.state_of(age, WARN, ERROR) == state


def test_without_thresholds_a_loaded_source_is_ok_and_never_loaded_does_not_fail():
    assert freshness.state_of(10**9, None, None) == "ok"
    assert not freshness.FreshnessReport("s", "never", None, None, WARN, None).failing
    assert freshness.FreshnessReport("s", "never", None, None, None, ERROR).failing


def test_the_newest_success_counts_not_a_later_failure(tmp_path, monkeypatch):
    ledger = SqliteRunLedger(tmp_path / "ledger.sqlite")
    put_at(ledger, monkeypatch, NOW - timedelta(hours=30), RunRecord("s", "20260309T060000Z-a", "succeeded", "done"))
    put_at(ledger, monkeypatch, NOW - timedelta(hours=27), RunRecord("s", "20260309T090000Z-b", "succeeded", "done"))
    put_at(ledger, monkeypatch, NOW - timedelta(hours=1), RunRecord("s", "20260310T110000Z-c", "failed", "load"))
    report = freshness.report(ledger, "s", WARN, ERROR, NOW)
    assert report == freshness.FreshnessReport("s", "warn", "2026-03-09T09:00:00Z", 27 * 3600, WARN, ERROR)


@pytest.fixture
def local_project(tmp_path, monkeypatch) -> Project:
    """The repository's sources over a local ledger in tmp_path: sales_transactions (warn 26h, error 50h)
    loaded 27 hours before NOW, customers 3 days before, products never."""
    import shutil

    shutil.copytree(REPO / "sources", tmp_path / "sources")
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    project = Project.at(tmp_path)
    ledger = SqliteRunLedger(project.state_dir / "ledger.sqlite")
    put_at(ledger, monkeypatch, NOW - timedelta(hours=27),
           RunRecord("sales_transactions", "20260309T090000Z-b", "succeeded", "done"))
    put_at(ledger, monkeypatch, NOW - timedelta(days=3),
           RunRecord("customers", "20260307T120000Z-a", "succeeded", "done"))
    monkeypatch.setattr(freshness_status, "utc_now", lambda: NOW)
    return project


def status(project: Project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), "status", "--freshness", *args],
                              catch_exceptions=False)


def test_status_freshness_json_local(local_project):
    result = status(local_project, "--json")
    lines = {row["source"]: row for row in map(json.loads, result.output.splitlines())}
    assert lines["sales_transactions"] == {"source": "sales_transactions", "state": "warn",
                                           "last_success": "2026-03-09T09:00:00Z", "age_seconds": 97200}
    assert lines["customers"] == {"source": "customers", "state": "ok", "last_success": "2026-03-07T12:00:00Z",
                                  "age_seconds": 259200}
    assert lines["products"] == {"source": "products", "state": "never", "last_success": None, "age_seconds": None}
    assert result.exit_code == 0  # warn and never without error_after do not fail


def test_status_freshness_text_and_exit_1_on_error(local_project, monkeypatch):
    monkeypatch.setattr(freshness_status, "utc_now", lambda: NOW + timedelta(hours=23))
    result = status(local_project, "sales_transactions")
    assert result.output == ("sales_transactions  error  last success 2026-03-09T09:00:00Z (2d 2h ago)  "
                             "(warn after 1d 2h, error after 2d 2h)\n")
    assert result.exit_code == 1


def test_a_source_never_loaded_with_error_after_fails(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(REPO / "sources", tmp_path / "sources")
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    monkeypatch.setattr(freshness_status, "utc_now", lambda: NOW)
    result = status(Project.at(tmp_path), "sales_transactions", "--json")
    assert json.loads(result.output) == {"source": "sales_transactions", "state": "never", "last_success": None,
                                         "age_seconds": None}
    assert result.exit_code == 1


def test_status_freshness_deployed(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("ONBOARD_LEDGER_TABLE", raising=False)
    monkeypatch.setattr(freshness_status, "utc_now", lambda: NOW)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_run_ledger_table(dynamodb, "onboard-runs")
        ledger = DynamoRunLedger("onboard-runs", dynamodb)
        put_at(ledger, monkeypatch, NOW - timedelta(hours=51),
               RunRecord("sales_transactions", "20260308T090000Z-b", "succeeded", "done"))
        put_at(ledger, monkeypatch, NOW - timedelta(hours=2),
               RunRecord("sales_transactions", "20260310T100000Z-c", "failed", "transform"))
        result = CliRunner().invoke(main, ["--project", str(REPO), "status", "--freshness", "--deployed", "--json",
                                           "sales_transactions"], catch_exceptions=False)
    assert json.loads(result.output) == {"source": "sales_transactions", "state": "error",
                                         "last_success": "2026-03-08T09:00:00Z", "age_seconds": 51 * 3600}
    assert result.exit_code == 1


def test_the_scheduled_check_publishes_minutes_since_last_load(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", "onboard-runs")
    monkeypatch.setenv("ONBOARD_SOURCE", "sales_transactions")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        cloudwatch = boto3.client("cloudwatch")
        create_run_ledger_table(dynamodb, "onboard-runs")
        ledger = DynamoRunLedger("onboard-runs", dynamodb)
        put_at(ledger, monkeypatch, NOW - timedelta(minutes=95),
               RunRecord("sales_transactions", "20260310T100000Z-a", "succeeded", "done"))
        answer = freshness.handler({}, None, clock=lambda: NOW, cloudwatch=cloudwatch, dynamodb=dynamodb)
        assert answer == {"source": "sales_transactions", "published": True, "minutes": 95.0}
        listed = cloudwatch.list_metrics(Namespace="Onboard")["Metrics"]
        assert listed == [{"Namespace": "Onboard", "MetricName": "MinutesSinceLastLoad",
                           "Dimensions": [{"Name": "Source", "Value": "sales_transactions"}]}]
        data = cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": listed[0], "Period": 300, "Stat": "Maximum"}}],
            StartTime=datetime.now(UTC) - timedelta(hours=1), EndTime=datetime.now(UTC) + timedelta(hours=1))
        assert data["MetricDataResults"][0]["Values"] == [95.0]


def test_the_scheduled_check_publishes_nothing_for_a_source_never_loaded(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", "onboard-runs")
    monkeypatch.setenv("ONBOARD_SOURCE", "sales_transactions")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        cloudwatch = boto3.client("cloudwatch")
        create_run_ledger_table(dynamodb, "onboard-runs")
        answer = freshness.handler({}, None, clock=lambda: NOW, cloudwatch=cloudwatch, dynamodb=dynamodb)
        assert answer == {"source": "sales_transactions", "published": False}
        assert cloudwatch.list_metrics(Namespace="Onboard")["Metrics"] == []
