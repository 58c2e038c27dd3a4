"""A trigger prefix that overlaps a folder Onboard writes (any source's) is refused where it is written.

Deployed, the connector copies what triggered it to `<source>/` of the raw zone: a trigger watching that
folder would start the connector again on its own copy, in a loop.
"""

from __future__ import annotations

import pytest

from framework.spec import SpecErrors, load_project
from tests.conftest import write_source


def s3_source(name: str, prefix: str, bucket: str | None = None, destination: str = "") -> str:
    bucket_line = f"\n    bucket: '{bucket}'" if bucket else ""
    return f"""
source:
  name: {name}
  type: s3_file
  config:
    prefix: {prefix}{bucket_line}
  schema:
    type: csv
    columns:
      - {{name: ticker, type: string}}
  redshift:
    schema: market
    table: {name}{destination}
"""


EMAIL = """
source:
  name: invoices
  type: email
  config:
    recipients: [invoices@data.example.com]
  schema:
    type: csv
    columns:
      - {name: ticker, type: string}
  redshift:
    schema: market
    table: invoices
"""

LOOP = "objects Onboard writes there would trigger this connector again, in a loop; watch a prefix outside " \
       "every source's folders, e.g. 'incoming/stocks/'"

CASES = [
    ("own landing folder", {"stocks": s3_source("stocks", "stocks/")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'stocks/' overlaps the raw landing prefix "
      f"'stocks/' of source stocks: {LOOP}"]),
    ("inside its own landing folder", {"stocks": s3_source("stocks", "stocks/daily/")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'stocks/daily/' overlaps the raw landing "
      f"prefix 'stocks/' of source stocks: {LOOP}"]),
    ("another source's landing folder",
     {"stocks": s3_source("stocks", "customers/"), "customers": s3_source("customers", "incoming/customers/")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'customers/' overlaps the raw landing "
      f"prefix 'customers/' of source customers: {LOOP}"]),
    ("the processed zone", {"stocks": s3_source("stocks", "stocks/", bucket="${BUCKET:processed}")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'stocks/' overlaps the processed prefix "
      f"'stocks/' of source stocks: {LOOP}"]),
    ("the COPY manifests", {"stocks": s3_source("stocks", "_manifests/", bucket="${BUCKET:processed}")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix '_manifests/' overlaps the COPY manifest "
      f"prefix '_manifests/stocks/' of source stocks: {LOOP}"]),
    ("a moved processed folder",
     {"stocks": s3_source("stocks", "curated_stocks/", bucket="${BUCKET:processed}",
                          destination="\n  destination: {prefix: curated_stocks/}")},
     [f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'curated_stocks/' overlaps the processed "
      f"prefix 'curated_stocks/' of source stocks: {LOOP}"]),
    ("a folder of its own", {"stocks": s3_source("stocks", "incoming/stocks/")}, []),
    ("a name that only starts the same", {"stocks": s3_source("stocks", "stocks_drop/")}, []),
    ("the same prefix in another bucket", {"stocks": s3_source("stocks", "stocks/", bucket="partner-drop")}, []),
    ("the processed zone outside Onboard's folders",
     {"stocks": s3_source("stocks", "incoming/", bucket="${BUCKET:processed}")}, []),
    ("an email inbox beside an s3 source",
     {"invoices": EMAIL, "stocks": s3_source("stocks", "incoming/stocks/")}, []),
]


@pytest.mark.parametrize("sources, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_trigger_prefixes_that_overlap_a_written_folder_are_refused(project, sources, expected):
    for name, text in sources.items():
        write_source(project, f"{name}.yaml", text)
    if not expected:
        assert sorted(s.name for s in load_project(project)) == sorted(sources)
        return
    with pytest.raises(SpecErrors) as info:
        load_project(project)
    assert [str(e) for e in info.value.errors] == expected


def test_onboard_validate_prints_the_positioned_error_and_exits_1(project):
    from click.testing import CliRunner

    from framework.cli import main

    write_source(project, "stocks.yaml", s3_source("stocks", "stocks/"))
    result = CliRunner().invoke(main, ["--project", str(project.root), "validate"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"sources/stocks.yaml:5:13: source.config.prefix: trigger prefix 'stocks/' overlaps the raw landing prefix "
        f"'stocks/' of source stocks: {LOOP}", "1 error(s)"]
