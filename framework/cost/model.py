"""What a source costs a month on AWS, and what the platform costs with no data flowing.

Inputs: the source's generated manifest (kind, trigger, Glue worker type and count, freshness), deploy.yaml
(log retention, raw lifecycle days, quarantine expiry, warehouse kind and base capacity), a volume
(`rows_per_day` x `bytes_per_row`) and the prices in one data file (`prices_us_east_1.json`). Everything
not known from those is an `Assumptions` field, printed with the estimate. Free tiers are ignored (they are
account-wide). Storage is priced in the month `horizon_months` after the first load, with the lifecycle rules
applied: raw objects move to Standard-IA after `raw_infrequent_access_days` and to Glacier after
`raw_glacier_days`; quarantined rows expire after `quarantine_days`; processed data stays.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.runtime.metrics import BATCH_METRICS

PRICES_FILE = Path(__file__).with_name("prices_us_east_1.json")
GIB = 1024**3
MIB = 1024**2
DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
GLUE_MINIMUM_SECONDS = 60  # Glue 2.0 and later (5.0 here): per-second billing, 1-minute minimum
CRAWLER_MINIMUM_SECONDS = 600  # crawlers: 10-minute minimum per run
REDSHIFT_MINIMUM_SECONDS = 60  # Redshift Serverless: per-second billing, 60-second minimum
FRESHNESS_CHECKS_PER_DAY = 24 * 12  # rate(5 minutes)
SOURCE_ALARMS = 6  # onboard_cdk.alarms.SourceAlarms: connector, loader, DLQ, Glue, executions failed, timed out
SOURCE_DASHBOARDS = 1  # onboard_cdk.dashboards: one per source, and the platform's overview

# The states one execution passes on its happy path (onboard_cdk.pipeline), each a state transition:
# Ingest, ResumeAt?, Transform, RecordTransform, MigrationStart, Migrate, SchemaCurrent?, [SchemaChanged?],
# Load, LoadSubmitted?, WaitForLoad, LoadStatus, LoadFinished?, RecordSuccess, Notify, Done.
HAPPY_PATH_STATES = ("Ingest", "ResumeAt?", "Transform", "RecordTransform", "MigrationStart", "Migrate",
                     "SchemaCurrent?", "Load", "LoadSubmitted?", "WaitForLoad", "LoadStatus", "LoadFinished?",
                     "RecordSuccess", "Notify", "Done")
CRAWLER_STATES = ("SchemaChanged?",)
POLL_STATES = ("WaitForLoad", "LoadStatus", "LoadFinished?")  # once more per extra status poll

LAMBDA_MEMORY_MB = {"connector": 512, "loader": 256, "runs": 128, "flush": 256, "freshness": 128}


@dataclass(frozen=True)
class Assumptions:
    """What the estimate assumes beyond the YAML, deploy.yaml and the prices (all overridable in code)."""

    days_per_month: int = 30
    horizon_months: int = 12
    processed_ratio: float = 0.25  # Parquet (Snappy) bytes per input byte
    quarantine_share: float = 0.01  # share of input bytes quarantined
    connector_seconds: float = 1.0  # per invocation, plus the batch's bytes at connector_mb_per_second
    connector_mb_per_second: float = 50.0
    ledger_task_seconds: float = 0.3
    loader_seconds: float = 0.5
    flush_seconds: float = 1.0
    freshness_seconds: float = 0.5
    ledger_task_invocations: int = 3  # Ingest, RecordTransform, RecordSuccess
    loader_invocations: int = 4  # Migrate, Load, two LoadStatus polls
    extra_load_polls: int = 1  # LoadStatus polls beyond the first
    glue_fixed_seconds: float = 90.0  # start-up, catalog and writes of a small batch
    glue_gb_per_dpu_hour: float = 20.0
    crawler_dpus: int = 2
    load_fixed_seconds: float = 5.0
    load_gb_per_minute: float = 2.0
    s3_puts_per_batch: int = 6  # raw object, processed file, manifest, summary, quarantine, crawler/temp
    s3_gets_per_batch: int = 4  # Glue reads raw; COPY reads manifest and files; loader reads the summary
    kms_requests_per_s3_request: float = 1.0  # S3 Bucket Keys make this an upper bound
    log_bytes_per_lambda_invocation: int = 2048
    log_bytes_per_glue_run: int = 512 * 1024
    log_bytes_per_transition: int = 1024
    batches_per_day: float | None = None  # None: from the trigger (see batches_per_day())
    push_rows_per_request: int = 100  # http_push: rows a caller sends in one request


@dataclass(frozen=True)
class Platform:
    """What cost needs from deploy.yaml."""

    log_days: int = 30
    raw_infrequent_access_days: int = 30
    raw_glacier_days: int = 90
    quarantine_days: int = 30
    warehouse: str = "serverless"  # or "cluster"
    base_capacity: int = 8

    @classmethod
    def from_settings(cls, settings: Any) -> Platform:
        r, w = settings.retention, settings.warehouse
        return cls(r.log_days, r.raw_infrequent_access_days, r.raw_glacier_days, r.quarantine_days, w.kind,
                   getattr(w, "base_capacity", 0))


@dataclass
class Prices:
    region: str
    read_on: str
    usd: dict[str, float]
    file: str = ""
    sources: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["region"], data["read_on"], {k: v["usd"] for k, v in data["prices"].items()},
                   path.name, data.get("sources", []))


@dataclass
class Component:
    usd: float
    usage: dict[str, float]


@dataclass
class Estimate:
    source: str
    components: dict[str, Component]
    assumptions: dict[str, Any]

    @property
    def monthly_usd(self) -> float:
        return sum(c.usd for c in self.components.values())

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "monthly_usd": round(self.monthly_usd, 2),
                "components": {k: {"usd": round(c.usd, 4), "usage": {u: round(v, 4) for u, v in c.usage.items()}}
                               for k, c in self.components.items()},
                "assumptions": self.assumptions}


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def batches_per_day(manifest: dict[str, Any]) -> float:
    """Batches a day from the trigger: a schedule's rate, a buffer's flush interval, else one (a daily file)."""
    buffer = manifest["connector"].get("buffer")
    if buffer:
        return 86400 / buffer["seconds"]
    trigger = manifest["connector"]["trigger"]
    match = _RATE.match(trigger.get("expression") or "") if trigger.get("kind") == "schedule" else None
    if match:
        n, unit = int(match.group(1)), match.group(2).rstrip("s")
        return {"minute": 1440, "hour": 24, "day": 1}[unit] / n
    return 1.0


def connector_invocations_per_day(manifest: dict[str, Any], rows_per_day: int, per_day: float,
                                  a: Assumptions) -> float:
    """A stream's connector runs per record batch (`batch_size`, at most one per `batch_window_seconds`, one
    shard); an http_push connector per request; any other once per batch."""
    trigger = manifest["connector"]["trigger"]
    if trigger.get("kind") == "stream":
        window = trigger.get("batch_window_seconds") or 1
        return min(rows_per_day / (trigger.get("batch_size") or 100), 86400 / window)
    if trigger.get("kind") == "http":
        return rows_per_day / a.push_rows_per_request
    return per_day


def transitions_per_execution(crawl: bool, extra_polls: int) -> int:
    return len(HAPPY_PATH_STATES) + (len(CRAWLER_STATES) if crawl else 0) + extra_polls * len(POLL_STATES)


def estimate(manifest: dict[str, Any], rows_per_day: int, bytes_per_row: int, platform: Platform, prices: Prices,
             sources_in_platform: int, a: Assumptions | None = None) -> Estimate:
    """The monthly cost of one source at a volume, with its share of the platform's idle cost."""
    a = a or Assumptions()
    p = prices.usd
    per_day = a.batches_per_day if a.batches_per_day is not None else batches_per_day(manifest)
    batches = per_day * a.days_per_month
    gb_day = rows_per_day * bytes_per_row / GIB
    gb_batch = gb_day / per_day if per_day else 0.0
    freshness = bool(manifest.get("freshness"))
    buffered = bool(manifest["connector"].get("buffer"))
    crawl = bool(manifest["glue"].get("crawl", True))
    c: dict[str, Component] = {}

    # Lambda: the connector per delivery (a batch; a stream's record batches; a push request), per batch the
    # ledger task (3), the loader (4) and a flush; every 5 minutes the freshness check
    deliveries = connector_invocations_per_day(manifest, rows_per_day, per_day, a) * a.days_per_month
    connector_s = (a.connector_seconds + gb_day * a.days_per_month / deliveries * GIB / MIB
                   / a.connector_mb_per_second) if deliveries else 0.0
    invocations = {"connector": (deliveries, connector_s), "runs": (batches * a.ledger_task_invocations,
                                                                    a.ledger_task_seconds),
                   "loader": (batches * a.loader_invocations, a.loader_seconds)}
    if buffered:
        invocations["flush"] = (batches, a.flush_seconds)
    if freshness:
        invocations["freshness"] = (FRESHNESS_CHECKS_PER_DAY * a.days_per_month, a.freshness_seconds)
    requests = sum(n for n, _ in invocations.values())
    gb_seconds = sum(n * s * LAMBDA_MEMORY_MB[f] / 1024 for f, (n, s) in invocations.items())
    c["lambda"] = Component(requests * p["lambda_request"] + gb_seconds * p["lambda_gb_second_arm64"],
                            {"requests": requests, "gb_seconds": gb_seconds})

    if manifest["connector"]["trigger"].get("kind") == "http":  # the API Gateway REST API in front of it
        c["api_gateway"] = Component(deliveries * p["apigateway_rest_request"], {"requests": deliveries})

    transitions = batches * transitions_per_execution(crawl, a.extra_load_polls)
    c["step_functions"] = Component(transitions * p["stepfunctions_transition"], {"transitions": transitions})

    dpus = DPU_PER_WORKER[manifest["glue"]["worker_type"]] * manifest["glue"]["workers"]
    run_s = a.glue_fixed_seconds + gb_batch / (a.glue_gb_per_dpu_hour * dpus) * 3600
    dpu_hours = batches * dpus * max(GLUE_MINIMUM_SECONDS, run_s) / 3600
    c["glue"] = Component(dpu_hours * p["glue_dpu_hour"], {"dpu_hours": dpu_hours, "dpus": dpus,
                                                            "billed_seconds_per_run": max(GLUE_MINIMUM_SECONDS, run_s)})
    crawls = a.days_per_month if crawl else 0  # the crawler's daily schedule
    crawler_hours = crawls * a.crawler_dpus * CRAWLER_MINIMUM_SECONDS / 3600
    c["glue_crawler"] = Component(crawler_hours * p["glue_crawler_dpu_hour"], {"dpu_hours": crawler_hours})

    # S3 storage in month `horizon_months`, lifecycle applied
    days = a.horizon_months * a.days_per_month
    raw_standard = gb_day * min(days, platform.raw_infrequent_access_days)
    raw_ia = gb_day * max(0, min(days, platform.raw_glacier_days) - platform.raw_infrequent_access_days)
    raw_glacier = gb_day * max(0, days - platform.raw_glacier_days)
    processed = gb_day * a.processed_ratio * days
    quarantine = gb_day * a.quarantine_share * min(days, platform.quarantine_days)
    standard = raw_standard + processed + quarantine
    c["s3_storage"] = Component(
        standard * p["s3_standard_gb_month"] + raw_ia * p["s3_standard_ia_gb_month"]
        + raw_glacier * p["s3_glacier_gb_month"],
        {"raw_standard_gb": raw_standard, "raw_standard_ia_gb": raw_ia, "raw_glacier_gb": raw_glacier,
         "processed_gb": processed, "quarantine_gb": quarantine})
    puts, gets = batches * a.s3_puts_per_batch, batches * a.s3_gets_per_batch
    to_ia = batches if days > platform.raw_infrequent_access_days else 0
    to_glacier = batches if days > platform.raw_glacier_days else 0
    c["s3_requests"] = Component(
        puts * p["s3_put_request"] + gets * p["s3_get_request"] + to_ia * p["s3_transition_ia_request"]
        + to_glacier * p["s3_transition_glacier_request"],
        {"puts": puts, "gets": gets, "transitions": to_ia + to_glacier})

    kms_requests = (puts + gets) * a.kms_requests_per_s3_request + requests
    c["kms"] = Component(kms_requests * p["kms_request"], {"requests": kms_requests})

    log_gb = (requests * a.log_bytes_per_lambda_invocation + batches * a.log_bytes_per_glue_run
              + transitions * a.log_bytes_per_transition) / GIB
    stored_log_gb = log_gb * min(platform.log_days, days) / a.days_per_month
    # custom metrics (a full metric-month each: an upper bound): each batch's outcome (framework.runtime.metrics,
    # only once batches run) and MinutesSinceLastLoad; one PutMetricData a batch and a freshness check
    metrics = (len(BATCH_METRICS) if batches else 0) + (1 if freshness else 0)
    metric_requests = batches + (FRESHNESS_CHECKS_PER_DAY * a.days_per_month if freshness else 0)
    c["cloudwatch"] = Component(
        log_gb * p["cloudwatch_logs_ingest_gb"] + stored_log_gb * p["cloudwatch_logs_storage_gb_month"]
        + metrics * p["cloudwatch_metric_month"] + metric_requests * p["cloudwatch_api_request"]
        + SOURCE_DASHBOARDS * p["cloudwatch_dashboard_month"],
        {"log_ingest_gb": log_gb, "log_stored_gb": stored_log_gb, "custom_metrics": metrics,
         "metric_requests": metric_requests, "dashboards": SOURCE_DASHBOARDS})
    alarms = SOURCE_ALARMS + len([k for k in ("warn_after_seconds", "error_after_seconds")
                                  if (manifest.get("freshness") or {}).get(k) is not None])
    c["alarms"] = Component(alarms * p["cloudwatch_alarm_month"], {"alarms": alarms})

    if platform.warehouse == "serverless":
        load_s = max(REDSHIFT_MINIMUM_SECONDS, a.load_fixed_seconds + gb_batch / a.load_gb_per_minute * 60)
        rpu_hours = batches * platform.base_capacity * load_s / 3600
        stored = processed  # columnar in Redshift Managed Storage, about the Parquet size
        c["redshift"] = Component(rpu_hours * p["redshift_serverless_rpu_hour"]
                                  + stored * p["redshift_managed_storage_gb_month"],
                                  {"rpu_hours": rpu_hours, "billed_seconds_per_load": load_s, "storage_gb": stored})
    else:
        c["redshift"] = Component(0.0, {"rpu_hours": 0.0})  # an existing cluster is paid for by the hour anyway

    idle = platform_idle(platform, prices)
    share = sum(idle.values()) / max(1, sources_in_platform)
    c["platform_share"] = Component(share, {"sources": sources_in_platform})
    return Estimate(manifest["source"], c, {
        **asdict(a), "batches_per_day": per_day, "rows_per_day": rows_per_day, "bytes_per_row": bytes_per_row,
        "region": prices.region, "prices_read_on": prices.read_on, "prices_file": prices.file,
        "worker_type": manifest["glue"]["worker_type"], "workers": manifest["glue"]["workers"],
        **asdict(platform)})


def platform_idle(platform: Platform, prices: Prices) -> dict[str, float]:
    """What the platform stack costs a month with no data flowing (per-source idle costs are the sources')."""
    p = prices.usd
    idle = {"kms_key": p["kms_key_month"]}
    if platform.warehouse == "serverless":
        # the loader secret; the workgroup costs nothing idle (no NAT gateway, the S3 endpoint is a free gateway)
        idle["loader_secret"] = p["secret_month"]
    idle["overview_dashboard"] = p["cloudwatch_dashboard_month"]  # onboard_cdk.dashboards.OverviewDashboard
    return idle


def idle_cost(manifests: list[dict[str, Any]], platform: Platform, prices: Prices) -> dict[str, float]:
    """A deploy with no data flowing, by item: the platform's, then each source's (no batch: its alarms, dashboard,
    daily crawls, freshness check and metric)."""
    idle = dict(platform_idle(platform, prices))
    for manifest in manifests:
        quiet = estimate(manifest, 0, 0, platform, prices, len(manifests), Assumptions(batches_per_day=0))
        idle[manifest["source"]] = quiet.monthly_usd - quiet.components["platform_share"].usd
    return idle
