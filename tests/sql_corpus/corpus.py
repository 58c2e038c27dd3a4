"""The Redshift SQL conformance corpus: constructs with the result Redshift's SQL reference documents.

Each ``<category>.yaml`` here is a list of entries:

    - construct: TRUNC(timestamp)                # what is checked, as the report names it
      reference: r_TRUNC_date.html               # page of https://docs.aws.amazon.com/redshift/latest/dg/
      sql: SELECT TRUNC('2011-07-21 10:32:38.248109'::timestamp) AS trunc
      result: [{trunc: "2011-07-21"}]           # Redshift's documented result, as `onboard query --format json`
                                                 # prints it: one object per row, decimals/dates/times as text
      local: right                               # right (default) or refused

Every entry runs through the real command line (``onboard query --format json``) against an empty local
warehouse. Its outcome is ``right`` (exactly the documented result), ``refused`` (exit 1 with "not supported by
the local warehouse: <construct>"), ``wrong`` (another result) or ``error`` (another failure). The tests
require each entry's outcome to be the one it declares; ``python -m tests.sql_corpus.report`` writes the
counts to docs/sql-support.md.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from framework.cli import main
from framework.warehouse import DuckDBWarehouse
from framework.warehouse.errors import NOT_SUPPORTED

CORPUS_DIR = Path(__file__).parent
REFERENCE_BASE = "https://docs.aws.amazon.com/redshift/latest/dg/"
OUTCOMES = ("right", "refused", "wrong", "error")


@dataclass(frozen=True)
class Entry:
    category: str
    construct: str
    reference: str
    sql: str
    result: list[dict[str, Any]]
    local: str = "right"

    @property
    def id(self) -> str:
        return f"{self.category}: {self.construct}"


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    status: str  # one of OUTCOMES
    detail: str  # what came back, for a failing test's message


def load_corpus(directory: Path = CORPUS_DIR) -> list[Entry]:
    entries = []
    for path in sorted(directory.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            entry = Entry(category=path.stem, **item)
            if entry.local not in ("right", "refused"):
                raise ValueError(f"{path.name}: {entry.construct}: local must be right or refused")
            entries.append(entry)
    return entries


def empty_project(root: Path) -> Path:
    """A project directory with an empty local warehouse, for `onboard query`."""
    from framework.project import Project

    DuckDBWarehouse(Project(root).warehouse_path).close()
    return root


def run_entry(entry: Entry, project: Path) -> Outcome:
    invoked = CliRunner().invoke(main, ["--project", str(project), "query", "--format", "json", entry.sql])
    if invoked.exit_code == 0:
        rows = json.loads(invoked.stdout)
        status = "right" if rows == entry.result else "wrong"
        return Outcome(entry, status, json.dumps(rows))
    message = " ".join(invoked.stderr.split())
    refused = invoked.exit_code == 1 and f"{NOT_SUPPORTED}: " in message
    return Outcome(entry, "refused" if refused else "error", f"exit {invoked.exit_code}: {message}")


def counts(outcomes: list[Outcome]) -> dict[str, Counter[str]]:
    by_category: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        by_category.setdefault(outcome.entry.category, Counter())[outcome.status] += 1
    return by_category
