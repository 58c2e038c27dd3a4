"""`onboard status --freshness`: every source's last successful load, its age and its freshness state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from framework.project import Project
from framework.runtime.freshness import FreshnessReport, report
from framework.runtime.ledger import RunLedger


def utc_now() -> datetime:
    return datetime.now(UTC)


def freshness_reports(sources: list, ledger: RunLedger | None, *,
                      clock: Callable[[], datetime] | None = None) -> list[FreshnessReport]:
    """One report per source (by name); `ledger` None (no local ledger yet) means nothing was ever loaded."""
    now = (clock or utc_now)()
    reports = []
    for source in sorted(sources, key=lambda s: s.name):
        freshness = source.definition.freshness
        warn, error = (freshness.warn_seconds, freshness.error_seconds) if freshness else (None, None)
        if ledger is None:
            reports.append(FreshnessReport(source.name, "never", None, None, warn, error))
        else:
            reports.append(report(ledger, source.name, warn, error, now))
    return reports


def freshness_line(r: FreshnessReport) -> str:
    """`sales  warn  last success 2026-01-01T00:00:00Z (27h 0m ago)  warn after 26h, error after 50h`."""
    from framework.runtime.freshness import format_age

    last = ("never loaded" if r.last_success is None
            else f"last success {r.last_success} ({format_age(r.age_seconds or 0)} ago)")
    limits = [f"{name} after {format_age(value)}" for name, value in
              (("warn", r.warn_after_seconds), ("error", r.error_after_seconds)) if value is not None]
    return f"{r.source}  {r.state}  {last}" + (f"  ({', '.join(limits)})" if limits else "  (no freshness set)")


def project_freshness(project: Project, sources: list, deployed: bool) -> list[FreshnessReport]:
    """The reports over the local ledger (`.onboard/ledger.sqlite`, none yet: never loaded) or the deployed one."""
    from framework.runtime.ledger import SqliteRunLedger

    if deployed:
        from framework.deployed import deployed_ledger

        return freshness_reports(sources, deployed_ledger(project))
    path = project.state_dir / "ledger.sqlite"
    return freshness_reports(sources, SqliteRunLedger(path) if path.is_file() else None)
