"""`onboard cost`: the estimate of each (or one) source at a volume, and the platform's idle cost, as text or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from framework.cost.model import Assumptions, Estimate, Platform, Prices, estimate, idle_cost
from framework.project import Project

UNITS = {"lambda": ("requests", "gb_seconds"), "step_functions": ("transitions",), "glue": ("dpu_hours",),
         "glue_crawler": ("dpu_hours",), "s3_storage": ("raw_standard_gb", "raw_standard_ia_gb", "raw_glacier_gb",
                                                        "processed_gb", "quarantine_gb"),
         "s3_requests": ("puts", "gets", "transitions"), "kms": ("requests",),
         "cloudwatch": ("log_ingest_gb", "custom_metrics", "dashboards"), "alarms": ("alarms",),
         "redshift": ("rpu_hours",), "platform_share": ("sources",), "api_gateway": ("requests",)}


class CostError(ValueError):
    """The estimate cannot be made; the message says why."""


@dataclass
class CostReport:
    estimates: list[Estimate]
    idle: dict[str, float]
    prices: Prices

    def json_lines(self) -> list[str]:
        return [json.dumps(e.to_json(), sort_keys=True) for e in self.estimates]

    def text(self) -> list[str]:
        lines = [f"prices: {self.prices.region}, read on {self.prices.read_on} (framework/cost/{self.prices.file})"]
        for e in self.estimates:
            a = e.assumptions
            lines.append(f"{e.source}: ${e.monthly_usd:,.2f} a month at {a['rows_per_day']:,} rows/day x "
                         f"{a['bytes_per_row']} B/row, {a['batches_per_day']:g} batch(es)/day")
            for name, c in e.components.items():
                usage = ", ".join(f"{k} {_num(c.usage[k])}" for k in UNITS.get(name, ()) if k in c.usage)
                lines.append(f"  {name:<15}${c.usd:>10,.2f}  {usage}")
        lines.append(f"idle (a deploy with no data flowing): ${sum(self.idle.values()):,.2f} a month: "
                     + ", ".join(f"{k} ${v:,.2f}" for k, v in self.idle.items()))
        return lines


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.3g}"


def cost_report(project: Project, source: str | None, rows_per_day: int, bytes_per_row: int,
                assumptions: Assumptions | None = None, prices: Prices | None = None) -> CostReport:
    from onboard_cdk.manifests import ManifestError, load_manifests
    from onboard_cdk.settings import SettingsError, load_settings

    try:
        manifests = [m.data for m in load_manifests(project.generated_dir)]
        settings = load_settings(project.root)
    except (ManifestError, SettingsError) as exc:
        raise CostError(str(exc)) from None
    names = [m["source"] for m in manifests]
    if source is not None and source not in names:
        raise CostError(f"unknown source {source}; choose from: {', '.join(names)}")
    prices = prices or Prices.load()
    platform = Platform.from_settings(settings)
    chosen: list[dict[str, Any]] = [m for m in manifests if source is None or m["source"] == source]
    estimates = [estimate(m, rows_per_day, bytes_per_row, platform, prices, len(manifests),
                          assumptions or Assumptions())
                 for m in chosen]
    return CostReport(estimates, idle_cost(manifests, platform, prices), prices)
