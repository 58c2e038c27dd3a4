"""`onboard run` then `onboard status --freshness`: a real local load is the last success, and its age moves the
state from ok to warn to error as a controlled clock advances (sales_transactions: warn 26h, error 50h)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from framework import freshness_status
from framework.runtime.freshness import parse_time
from tests.e2e.test_examples import run_cli

pytestmark = pytest.mark.slow


def freshness(project, monkeypatch, now: datetime):
    monkeypatch.setattr(freshness_status, "utc_now", lambda: now)
    return run_cli(project, "status", "--freshness", "sales_transactions", "--json")


def test_a_local_load_ages_from_ok_to_warn_to_error(repo_project, monkeypatch):
    before = run_cli(repo_project, "status", "--freshness", "--json")
    assert before.exit_code == 1  # sales_transactions has error_after and was never loaded
    states = {r["source"]: r["state"] for r in map(json.loads, before.output.splitlines())}
    assert states == dict.fromkeys(states, "never") and "sales_transactions" in states

    run = run_cli(repo_project, "run", "sales_transactions", "--input", "sources/samples/sales_data.csv", "--json")
    assert run.exit_code == 0, run.output
    [record] = [json.loads(line) for line in run_cli(repo_project, "status", "sales_transactions", "--json")
                .output.splitlines()]
    loaded = parse_time(record["updated_at"])
    last = loaded.strftime("%Y-%m-%dT%H:%M:%SZ")

    for age, state, code in ((timedelta(minutes=5), "ok", 0), (timedelta(hours=27), "warn", 0),
                             (timedelta(hours=50), "error", 1)):
        result = freshness(repo_project, monkeypatch, loaded + age)
        assert json.loads(result.output) == {"source": "sales_transactions", "state": state, "last_success": last,
                                             "age_seconds": int(age.total_seconds())}, age
        assert result.exit_code == code
