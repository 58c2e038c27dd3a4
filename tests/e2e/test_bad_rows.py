"""A CSV with bad rows loads its good rows, reports every bad one with its reason, and the counts reconcile."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.warehouse import DuckDBWarehouse
from tests.conftest import write_source

pytestmark = pytest.mark.slow

AIRPORTS = """
source:
  name: airports
  type: s3_file
  config: {prefix: incoming/airports/}
  schema:
    type: csv
    columns:
      - {name: iata, type: string(3), nullable: false}
      - {name: name, type: string}
      - {name: latitude, type: double}
  redshift:
    schema: reference
    table: airports
    diststyle: all
    sortkey: iata
    load: {mode: merge, keys: [iata]}
"""

ROWS = (
    "iata,name,latitude\n"
    "LHR,Heathrow,51.47\n"
    "CDG,Charles de Gaulle,forty-nine\n"   # does not cast
    "JFK,John F. Kennedy,40.64,extra\n"     # one field too many
    ",Nowhere,1.0\n"                        # key missing
    "AMS,Schiphol,52.31\n"
    "LHR,Heathrow Airport,51.4700\n"        # same key later in the file: wins
)


def test_bad_rows_are_quarantined_with_reasons_and_counts_reconcile(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    (tmp_path / "sources").mkdir()
    from framework.project import Project

    project = Project.at(tmp_path)
    write_source(project, "airports.yaml", AIRPORTS)
    data = tmp_path / "airports.csv"
    data.write_text(ROWS)
    cli = CliRunner()
    assert cli.invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    result = cli.invoke(main, ["--project", str(tmp_path), "run", "airports", "--input", str(data), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert {k: summary[k] for k in ("status", "rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")} == {
        "status": "succeeded", "rows_in": 6, "rows_loaded": 2, "rows_quarantined": 3, "rows_duplicate": 1}
    assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]

    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT iata, name, latitude FROM reference.airports ORDER BY iata")[1] == [
            ("AMS", "Schiphol", 52.31), ("LHR", "Heathrow Airport", 51.47)]

    quarantine = tmp_path / "state/lake/quarantine/airports" / summary["batch_id"]
    reasons = sorted(json.loads(line)["_reason"] for f in sorted(quarantine.rglob("*.json"))
                     for line in f.read_text().splitlines() if line.strip())
    assert reasons == ["cast: latitude value 'forty-nine' is not double",
                       "malformed: CSV record has 4 fields, expected 3",
                       "not_null: iata"]
