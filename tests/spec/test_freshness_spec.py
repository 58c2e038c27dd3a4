"""`freshness: {warn_after, error_after}`: durations in m, h or d, warn before error, positioned errors."""

from __future__ import annotations

import pytest

from framework.spec import load_project
from framework.spec.models import duration_seconds
from tests.conftest import errors_for, write_source
from tests.spec.test_invalid_sources import VALID


def with_freshness(block: str) -> str:
    return VALID.replace("  redshift:\n", f"  freshness: {block}\n  redshift:\n", 1)


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("26h", 93600), ("2d", 172800)])
def test_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_a_valid_freshness_block_reaches_the_manifest(project):
    from framework.render.manifest import manifest

    write_source(project, "x.yaml", with_freshness("{warn_after: 26h, error_after: 2d}"))
    [source] = load_project(project)
    assert source.definition.freshness.warn_seconds == 93600
    assert manifest(source)["freshness"] == {"warn_after_seconds": 93600, "error_after_seconds": 172800}


def test_a_source_without_freshness_has_none_in_its_manifest(project):
    from framework.render.manifest import manifest

    write_source(project, "x.yaml", VALID)
    [source] = load_project(project)
    assert "freshness" not in manifest(source)


@pytest.mark.parametrize(("block", "expected"), [
    ("{warn_after: 26 hours}", "sources/x.yaml:13:27: source.freshness.warn_after: '26 hours' is not a duration; "
     "write a whole number followed by m, h or d, e.g. 26h"),
    ("{warn_after: 2h, error_after: 0m}", "sources/x.yaml:13:44: source.freshness.error_after: '0m' is not a "
     "duration; write a whole number followed by m, h or d, e.g. 26h"),
    ("{warn_after: 2d, error_after: 48h}", "sources/x.yaml:13:14: source.freshness: warn_after (2d) must be "
     "shorter than error_after (48h)"),
    ("{}", "sources/x.yaml:13:14: source.freshness: set warn_after, error_after or both"),
    ("{warn_afer: 2h}", "sources/x.yaml:13:15: source.freshness.warn_afer: unknown key 'warn_afer'; did you mean "
     "'warn_after'? valid keys: warn_after, error_after"),
])
def test_freshness_errors_are_positioned(project, block, expected):
    assert errors_for(project, with_freshness(block)) == [expected]
