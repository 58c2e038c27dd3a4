"""Write docs/sql-support.md from the conformance corpus: ``python -m tests.sql_corpus.report [--check]``."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.sql_corpus.corpus import OUTCOMES, REFERENCE_BASE, Outcome, counts, empty_project, load_corpus, run_entry

DOC = Path(__file__).resolve().parents[2] / "docs" / "sql-support.md"

INTRO = """\
# Redshift SQL on the local warehouse

`onboard query` and the local runs execute Redshift SQL on DuckDB: sqlglot parses it as Redshift and
writes it for DuckDB, and `framework/warehouse/redshift_support.py` refuses or rewrites what that
transpilation would get wrong. A query is either answered exactly as Redshift answers it, or it fails with
`not supported by the local warehouse: <construct>` and exit code 1. It is never answered differently.

The conformance corpus (`tests/sql_corpus/*.yaml`) holds Redshift SQL constructs, each with the result
that Redshift's SQL reference documents for its example. The test suite runs every construct through
`onboard query` and checks its outcome. This page is written from those runs by
`python -m tests.sql_corpus.report` (the tests check that it is current).

- **right**: the local warehouse returns exactly the documented result.
- **refused**: it exits 1 with `not supported by the local warehouse: <construct>`.
- **wrong**: it returns another result. This must be 0.
"""


def render(outcomes: list[Outcome]) -> str:
    by_category = counts(outcomes)
    total: Counter[str] = Counter()
    for tally in by_category.values():
        total.update(tally)
    lines = [INTRO, "## Summary", "", "| category | constructs | right | refused | wrong |", "|---|---:|---:|---:|---:|"]
    for category, tally in by_category.items():
        lines.append(f"| {category} | {sum(tally.values())} | {tally['right']} | {tally['refused']} | "
                     f"{tally['wrong'] + tally['error']} |")
    lines.append(f"| **all** | **{sum(total.values())}** | **{total['right']}** | **{total['refused']}** | "
                 f"**{total['wrong'] + total['error']}** |")
    for category in by_category:
        lines += ["", f"## {category}", "", "| construct | local | Redshift reference |", "|---|---|---|"]
        for outcome in outcomes:
            if outcome.entry.category == category:
                entry = outcome.entry
                construct = entry.construct.replace("|", "\\|")
                lines.append(f"| `{construct}` | {outcome.status} | "
                             f"[{entry.reference}]({REFERENCE_BASE}{entry.reference}) |")
    return "\n".join(lines) + "\n"


def current_report() -> str:
    with tempfile.TemporaryDirectory() as directory:
        project = empty_project(Path(directory))
        outcomes = [run_entry(entry, project) for entry in load_corpus()]
    assert set(o.status for o in outcomes) <= set(OUTCOMES)
    return render(outcomes)


if __name__ == "__main__":
    text = current_report()
    if "--check" in sys.argv[1:]:
        sys.exit(0 if DOC.read_text(encoding="utf-8") == text else 1)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
