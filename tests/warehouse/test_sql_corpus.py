"""The Redshift SQL conformance corpus (tests/sql_corpus): every construct right or refused, as it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sql_corpus.corpus import Entry, empty_project, load_corpus, run_entry
from tests.sql_corpus.report import DOC, current_report

ENTRIES = load_corpus()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return empty_project(tmp_path_factory.mktemp("sql_corpus"))


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.id for entry in ENTRIES])
def test_construct_is_answered_as_redshift_documents_or_refused(entry: Entry, project: Path) -> None:
    outcome = run_entry(entry, project)
    assert outcome.status == entry.local, f"{entry.sql}\n-> {outcome.detail}\nRedshift: {entry.result}"


def test_a_refusal_names_the_construct_and_exits_1(project: Path) -> None:
    outcome = run_entry(Entry("t", "FNV_HASH", "r_FNV_HASH.html", "SELECT FNV_HASH('Amazon Redshift') AS h",
                              [{"h": 7783490368944507294}], local="refused"), project)
    assert outcome.detail == ("exit 1: query failed: statement 1 (SELECT FNV_HASH('Amazon Redshift') AS h): "
                              "not supported by the local warehouse: FNV_HASH()")


def test_the_corpus_holds_150_constructs_or_more_each_named_once() -> None:
    assert len(ENTRIES) >= 150
    assert len({entry.id for entry in ENTRIES}) == len(ENTRIES)


def test_docs_sql_support_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == current_report(), "run: python -m tests.sql_corpus.report"
