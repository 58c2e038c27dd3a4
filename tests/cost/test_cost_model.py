"""`onboard cost`: each component against hand-computed figures, the platform's idle cost, monotonic in volume,
and the command's text and JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.cli import main
from framework.cost.model import Assumptions, Platform, Prices, estimate, idle_cost, transitions_per_execution
from tests.conftest import REPO

PRICES = Prices.load()
PLATFORM = Platform()  # deploy.yaml defaults: logs 30 days, raw IA 30 / Glacier 90 days, quarantine 30, 8 RPUs
ORDERS = {"source": "orders", "connector": {"trigger": {"kind": "s3", "prefix": "incoming/orders/"}},
          "glue": {"worker_type": "G.2X", "workers": 5, "crawl": True},
          "freshness": {"warn_after_seconds": 3600, "error_after_seconds": 7200}}
ONE_GIB_A_DAY = (4 * 1024 * 1024, 256)  # rows x bytes = 2**30


@pytest.fixture(scope="module")
def orders():
    return estimate(ORDERS, *ONE_GIB_A_DAY, PLATFORM, PRICES, sources_in_platform=7).components


def test_the_prices_file_names_its_region_date_and_sources():
    assert (PRICES.region, PRICES.read_on, PRICES.file) == ("us-east-1", "2026-12-04", "prices_us_east_1.json")
    assert any("aws.amazon.com/glue/pricing" in s for s in PRICES.sources)


def test_lambda(orders):
    # connector 30 x (1 s + 1024 MB / 50 MB/s) x 0.5 GB; ledger task 90 x 0.3 s x 0.125 GB; loader 120 x 0.5 s x
    # 0.25 GB; freshness check 8640 x 0.5 s x 0.125 GB
    gb_seconds = 30 * 21.48 * 0.5 + 90 * 0.3 * 0.125 + 120 * 0.5 * 0.25 + 8640 * 0.5 * 0.125
    assert orders["lambda"].usage == pytest.approx({"requests": 8880, "gb_seconds": 880.575})
    assert gb_seconds == pytest.approx(880.575)
    assert orders["lambda"].usd == pytest.approx(8880 * 0.0000002 + 880.575 * 0.0000133334)


def test_step_functions(orders):
    assert transitions_per_execution(crawl=True, extra_polls=1) == 19  # 15 + SchemaChanged? + one more poll (3)
    assert orders["step_functions"].usage == {"transitions": 570}
    assert orders["step_functions"].usd == pytest.approx(570 * 0.025 / 1000)


def test_glue_job_dpu_hours_from_worker_type_and_count(orders):
    # G.2X x 5 = 10 DPUs; 90 s + 1 GiB / (20 GiB per DPU-hour x 10) = 108 s a run; 30 runs
    assert orders["glue"].usage == pytest.approx({"dpu_hours": 9.0, "dpus": 10, "billed_seconds_per_run": 108})
    assert orders["glue"].usd == pytest.approx(9.0 * 0.44)


def test_glue_bills_at_least_one_minute_a_run():
    quick = estimate(ORDERS, 0, 1, PLATFORM, PRICES, 7, Assumptions(glue_fixed_seconds=10)).components["glue"]
    assert quick.usage["billed_seconds_per_run"] == 60
    assert quick.usd == pytest.approx(30 * 10 * 60 / 3600 * 0.44)  # $2.20


def test_daily_crawls_bill_ten_minutes_each(orders):
    assert orders["glue_crawler"].usage == {"dpu_hours": pytest.approx(10.0)}  # 30 x 2 DPUs x 10 min
    assert orders["glue_crawler"].usd == pytest.approx(4.40)
    no_crawl = {**ORDERS, "glue": {**ORDERS["glue"], "crawl": False}}
    assert estimate(no_crawl, *ONE_GIB_A_DAY, PLATFORM, PRICES, 7).components["glue_crawler"].usd == 0


def test_s3_storage_per_zone_with_the_lifecycle_rules(orders):
    # month 12 (360 days) at 1 GiB a day: raw 30 days Standard, 60 Standard-IA, 270 Glacier; processed a quarter
    # of every day kept; quarantine 1 % for 30 days
    assert orders["s3_storage"].usage == pytest.approx({
        "raw_standard_gb": 30, "raw_standard_ia_gb": 60, "raw_glacier_gb": 270, "processed_gb": 90,
        "quarantine_gb": 0.3})
    assert orders["s3_storage"].usd == pytest.approx(120.3 * 0.023 + 60 * 0.0125 + 270 * 0.0036)  # $4.4889


def test_s3_storage_follows_deploy_yaml_retention():
    kept_longer = Platform(raw_infrequent_access_days=60, raw_glacier_days=180, quarantine_days=90)
    usage = estimate(ORDERS, *ONE_GIB_A_DAY, kept_longer, PRICES, 7).components["s3_storage"].usage
    assert usage == pytest.approx({"raw_standard_gb": 60, "raw_standard_ia_gb": 120, "raw_glacier_gb": 180,
                                   "processed_gb": 90, "quarantine_gb": 0.9})


def test_s3_requests_and_kms(orders):
    assert orders["s3_requests"].usage == {"puts": 180, "gets": 120, "transitions": 60}
    assert orders["s3_requests"].usd == pytest.approx(180 * 5e-6 + 120 * 4e-7 + 30 * 1e-5 + 30 * 3e-5)
    assert orders["kms"].usage == {"requests": 300 + 8880}
    assert orders["kms"].usd == pytest.approx(9180 * 0.03 / 10000)


def test_cloudwatch_logs_metrics_dashboard_and_alarms(orders):
    log_gb = (8880 * 2048 + 30 * 512 * 1024 + 570 * 1024) / 2**30
    # 8 per-batch metrics + MinutesSinceLastLoad; one PutMetricData per batch (30) and per freshness check (8640)
    assert orders["cloudwatch"].usage == pytest.approx({"log_ingest_gb": log_gb, "log_stored_gb": log_gb,
                                                        "custom_metrics": 9, "metric_requests": 8670,
                                                        "dashboards": 1})
    assert orders["cloudwatch"].usd == pytest.approx(log_gb * 0.50 + log_gb * 0.03 + 9 * 0.30 + 8670 * 0.01 / 1000
                                                     + 3.00)
    assert orders["alarms"].usage == {"alarms": 8} and orders["alarms"].usd == pytest.approx(0.80)


def test_redshift_serverless_rpu_hours_with_the_60_second_minimum(orders):
    # a 1 GiB load takes 5 s + 30 s: billed 60 s at 8 RPUs, 30 loads = 4 RPU-hours; 90 GB stored
    assert orders["redshift"].usage == pytest.approx({"rpu_hours": 4.0, "billed_seconds_per_load": 60,
                                                      "storage_gb": 90})
    assert orders["redshift"].usd == pytest.approx(4.0 * 0.375 + 90 * 0.024)
    big = estimate(ORDERS, 40 * 1024 * 1024, 256, Platform(base_capacity=16), PRICES, 7).components["redshift"]
    assert big.usage["rpu_hours"] == pytest.approx(30 * 16 * (5 + 5 * 60) / 3600)  # 10 GiB: 305 s at 16 RPUs
    on_cluster = estimate(ORDERS, *ONE_GIB_A_DAY, Platform(warehouse="cluster"), PRICES, 7).components["redshift"]
    assert on_cluster.usd == 0


def test_platform_share_and_total(orders):
    assert orders["platform_share"].usd == pytest.approx((1.00 + 0.40 + 3.00) / 7)  # key, secret, overview
    total = estimate(ORDERS, *ONE_GIB_A_DAY, PLATFORM, PRICES, 7)
    assert total.monthly_usd == pytest.approx(sum(c.usd for c in orders.values()))
    assert total.to_json()["monthly_usd"] == round(total.monthly_usd, 2)


def test_batches_a_day_from_the_trigger():
    hourly = {**ORDERS, "connector": {"trigger": {"kind": "schedule", "expression": "rate(1 hour)"}}}
    buffered = {**ORDERS, "connector": {"trigger": {"kind": "stream"}, "buffer": {"seconds": 300}}}
    assert estimate(hourly, 1, 1, PLATFORM, PRICES, 7).assumptions["batches_per_day"] == 24
    assert estimate(buffered, 1, 1, PLATFORM, PRICES, 7).assumptions["batches_per_day"] == 288
    assert estimate(ORDERS, 1, 1, PLATFORM, PRICES, 7, Assumptions(batches_per_day=4)).assumptions[
        "batches_per_day"] == 4


def test_a_stream_connector_runs_per_record_batch_and_a_push_connector_per_request():
    stream = {**ORDERS, "connector": {"trigger": {"kind": "stream", "batch_size": 5, "batch_window_seconds": 10},
                                      "buffer": {"seconds": 300}}}
    # 1,000 rows a day: 200 record batches a day; 1,000,000 rows: capped at one per 10 s window (8,640)
    few = estimate(stream, 1000, 100, PLATFORM, PRICES, 7).components["lambda"].usage["requests"]
    many = estimate(stream, 10**6, 100, PLATFORM, PRICES, 7).components["lambda"].usage["requests"]
    per_month_besides = 288 * 30 * (3 + 4 + 1) + 8640  # per flush: ledger task, loader, flush; the check
    assert (few, many) == (200 * 30 + per_month_besides, 8640 * 30 + per_month_besides)
    push = {**ORDERS, "connector": {"trigger": {"kind": "http", "path": "/in"}, "buffer": {"seconds": 600}}}
    gateway = estimate(push, 10**6, 100, PLATFORM, PRICES, 7).components["api_gateway"]
    assert gateway.usage == {"requests": 10_000 * 30}  # 100 rows a request
    assert gateway.usd == pytest.approx(300_000 * 3.50 / 10**6)
    assert "api_gateway" not in estimate(ORDERS, 1, 1, PLATFORM, PRICES, 7).components


def test_idle_cost_of_a_deploy_with_no_data():
    quiet = {**ORDERS, "source": "quiet", "freshness": None}
    idle = idle_cost([ORDERS, quiet], PLATFORM, PRICES)
    checks = (8640 * 0.0000002 + 8640 * 0.5 * 0.125 * 0.0000133334 + 8640 * 0.000003 + 8640 * 2048 / 2**30 * 0.53
              + 8640 * 0.01 / 1000)  # Lambda, KMS, logs and PutMetricData of the 5-minute checks
    # no batch: no per-batch metric; each source's dashboard ($3) and the overview's
    assert idle == pytest.approx({"kms_key": 1.00, "loader_secret": 0.40, "overview_dashboard": 3.00,
                                  "orders": 4.40 + 0.80 + 0.30 + 3.00 + checks,  # crawls, 8 alarms, metric, dashboard
                                  "quiet": 4.40 + 0.60 + 3.00})
    assert "loader_secret" not in idle_cost([ORDERS], Platform(warehouse="cluster"), PRICES)


KINDS = [ORDERS,
         {**ORDERS, "connector": {"trigger": {"kind": "schedule", "expression": "rate(15 minutes)"}}},
         {**ORDERS, "connector": {"trigger": {"kind": "stream", "batch_size": 100, "batch_window_seconds": 5},
                                  "buffer": {"seconds": 300}}},
         {**ORDERS, "connector": {"trigger": {"kind": "http"}, "buffer": {"seconds": 900}}}]


@settings(max_examples=80, deadline=None)
@given(kind=st.sampled_from(KINDS), rows=st.integers(0, 10**9), more=st.integers(1, 10**9),
       width=st.integers(1, 10_000))
def test_cost_never_falls_as_volume_grows(kind, rows, more, width):
    low = estimate(kind, rows, width, PLATFORM, PRICES, 7)
    high = estimate(kind, rows + more, width, PLATFORM, PRICES, 7)
    assert high.monthly_usd >= low.monthly_usd
    for name, component in low.components.items():
        assert high.components[name].usd >= component.usd - 1e-9, name
    wider = estimate(kind, rows, width + 1, PLATFORM, PRICES, 7)
    assert wider.monthly_usd >= low.monthly_usd - 1e-9


def cost(*args: str):
    return CliRunner().invoke(main, ["--project", str(REPO), "cost", *args], catch_exceptions=False)


def test_cost_command_json():
    result = cost("sales_transactions", "--rows-per-day", "4194304", "--bytes-per-row", "256", "--json")
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    data = json.loads(line)
    assert sorted(data) == ["assumptions", "components", "monthly_usd", "source"]
    assert data["source"] == "sales_transactions"
    assert sorted(data["components"]) == ["alarms", "cloudwatch", "glue", "glue_crawler", "kms", "lambda",
                                          "platform_share", "redshift", "s3_requests", "s3_storage", "step_functions"]
    assert data["assumptions"]["region"] == "us-east-1" and data["assumptions"]["prices_read_on"] == "2026-12-04"
    assert data["components"]["glue"]["usage"]["dpus"] == 2  # the YAML's default: G.1X x 2
    assert data["monthly_usd"] == pytest.approx(sum(c["usd"] for c in data["components"].values()), abs=0.01)


def test_cost_command_text_names_the_prices_and_the_idle_cost():
    result = cost("sales_transactions", "--rows-per-day", "100000")
    lines = result.output.splitlines()
    assert lines[0] == "prices: us-east-1, read on 2026-12-04 (framework/cost/prices_us_east_1.json)"
    assert lines[1].startswith("sales_transactions: $") and "100,000 rows/day x 200 B/row, 1 batch(es)/day" in lines[1]
    assert lines[-1].startswith("idle (a deploy with no data flowing): $")
    assert "kms_key $1.00, loader_secret $0.40, overview_dashboard $3.00" in lines[-1]


def test_cost_command_refuses_an_unknown_source():
    result = cost("nope", "--rows-per-day", "1")
    assert result.exit_code == 1
    assert result.output.startswith("unknown source nope; choose from: customers, product_reviews")
