"""How late each source is: the age of its last successful load against its `freshness` thresholds.

The last successful load is the newest `updated_at` of a `succeeded` run among the source's latest
`SCAN_RUNS` runs in the run ledger (the local SQLite file, or the deployed DynamoDB table). A source's state:

- `ok`: loaded, younger than `warn_after` (or no thresholds);
- `warn`: at least `warn_after` old; `error`: at least `error_after` old;
- `never`: no successful load; it fails the check (`failing`) when the source has `error_after`.

Deployed, `handler` runs every 5 minutes per source that declares `freshness` (EventBridge) and publishes
`MinutesSinceLastLoad` (namespace `Onboard`, dimension `Source`); the source's two alarms watch it. A source
never loaded publishes nothing: its error alarm treats missing data as breaching.

Standard library and boto3 only: this module ships inside the Lambda assets.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from framework.runtime.ledger import RunLedger
from framework.runtime.metrics import MINUTES_SINCE_LAST_LOAD as METRIC
from framework.runtime.metrics import NAMESPACE, UNITS, dimensions

SCAN_RUNS = 200


@dataclass(frozen=True)
class FreshnessReport:
    source: str
    state: str  # ok | warn | error | never
    last_success: str | None  # ISO 8601, UTC
    age_seconds: int | None
    warn_after_seconds: int | None = None
    error_after_seconds: int | None = None

    @property
    def failing(self) -> bool:
        """An `error`, or `never` loaded although the source has `error_after`."""
        return self.state == "error" or (self.state == "never" and self.error_after_seconds is not None)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "state": self.state, "last_success": self.last_success,
                "age_seconds": self.age_seconds}


def parse_time(text: str) -> datetime:
    """A ledger timestamp (`2026-01-02T03:04:05.123456Z` or without fraction) as an aware datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_success(ledger: RunLedger, source: str) -> datetime | None:
    """When the source's newest successful load was recorded, or None."""
    times = [parse_time(r.updated_at) for r in ledger.recent(source, SCAN_RUNS)
             if r.status == "succeeded" and r.updated_at]
    return max(times, default=None)


def state_of(age_seconds: int | None, warn_after: int | None, error_after: int | None) -> str:
    if age_seconds is None:
        return "never"
    if error_after is not None and age_seconds >= error_after:
        return "error"
    if warn_after is not None and age_seconds >= warn_after:
        return "warn"
    return "ok"


def report(ledger: RunLedger, source: str, warn_after: int | None, error_after: int | None,
           now: datetime) -> FreshnessReport:
    last = last_success(ledger, source)
    age = None if last is None else max(0, int((now - last).total_seconds()))
    return FreshnessReport(source, state_of(age, warn_after, error_after),
                           None if last is None else last.strftime("%Y-%m-%dT%H:%M:%SZ"), age,
                           warn_after, error_after)


def format_age(seconds: int) -> str:
    """`3d 4h`, `5h 7m`, `12m`: the largest two units."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def publish(cloudwatch: Any, source: str, minutes: float) -> None:
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=[{
        "MetricName": METRIC, "Dimensions": dimensions(source), "Value": minutes, "Unit": UNITS[METRIC]}])


def check(ledger: RunLedger, cloudwatch: Any, source: str, now: datetime) -> dict[str, Any]:
    """Publish the source's MinutesSinceLastLoad (nothing when it never loaded); what was published."""
    last = last_success(ledger, source)
    if last is None:
        return {"source": source, "published": False}
    minutes = round(max(0.0, (now - last).total_seconds()) / 60, 1)
    publish(cloudwatch, source, minutes)
    return {"source": source, "published": True, "minutes": minutes}


def handler(event: dict[str, Any], context: Any, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
            cloudwatch: Any = None, dynamodb: Any = None) -> dict[str, Any]:
    """The scheduled check of one source (`ONBOARD_SOURCE`, ledger `ONBOARD_LEDGER_TABLE`)."""
    import boto3

    from framework.runtime.ledger import DynamoRunLedger

    ledger = DynamoRunLedger(os.environ["ONBOARD_LEDGER_TABLE"], dynamodb)
    return check(ledger, cloudwatch or boto3.client("cloudwatch"), os.environ["ONBOARD_SOURCE"], clock())
