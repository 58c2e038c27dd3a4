"""`pii: hash | mask | drop` through `onboard run`: what reaches processed, quarantine, the table and the logs."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.project import Project
from framework.warehouse import DuckDBWarehouse
from tests.conftest import write_source

pytestmark = pytest.mark.slow

SECRET = "pepper-7f3a9c"
SSN = "078-05-1120"

SOURCE = """
source:
  name: {name}
  type: s3_file
  config: {{prefix: incoming/{name}/}}
  schema:
    type: csv
    columns:
      - {{name: id, type: integer, nullable: false}}
      - {{name: email, type: string, pii: hash, description: Contact address}}
      - {{name: phone, type: string, pii: mask}}
      - {{name: ssn, type: string, pii: drop}}
  redshift:
    schema: crm
    table: {name}
"""


def expected_hash(value: str) -> str:
    return hmac.new(SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()


def run(cli: CliRunner, root: Path, name: str, data: Path) -> dict:
    result = cli.invoke(main, ["--project", str(root), "run", name, "--input", str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert SSN not in result.output and SECRET not in result.output and "ann@example.com" not in result.output
    return json.loads(result.output.splitlines()[-1])


def test_pii_is_hashed_masked_and_dropped_everywhere_but_the_raw_zone(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    (tmp_path / "sources").mkdir()
    project = Project.at(tmp_path)
    project.secrets_file.write_text(json.dumps({"pii_salt": SECRET}))
    for name in ("customers_a", "customers_b"):
        write_source(project, f"{name}.yaml", SOURCE.format(name=name))
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(f"id,email,phone,ssn\n1,ann@example.com,+44 20 7946 0958,{SSN}\nx,bob@example.com,555-0100,"
                     f"{SSN}\n2,,12,\n")
    second.write_text(f"id,email,phone,ssn\n3,ann@example.com,0958,{SSN}\n")
    cli = CliRunner()
    assert cli.invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    ddl = (tmp_path / "generated/customers_a/redshift/ddl.sql").read_text()
    assert "ssn" not in ddl and SECRET not in ddl
    assert "  email VARCHAR(64) ENCODE ZSTD,\n  phone VARCHAR(256) ENCODE ZSTD,\n  _batch_id" in ddl
    assert ("COMMENT ON COLUMN crm.customers_a.email IS 'Contact address (PII: HMAC-SHA-256 (hex) of the value keyed "
            "with schema.pii_secret)'") in ddl
    assert "COMMENT ON COLUMN crm.customers_a.phone IS 'PII: masked, all but the last 4 characters replaced by *'" \
        in ddl

    one = run(cli, tmp_path, "customers_a", first)
    assert (one["rows_loaded"], one["rows_quarantined"]) == (2, 1)
    run(cli, tmp_path, "customers_a", second)
    run(cli, tmp_path, "customers_b", second)

    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        columns = warehouse.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'crm' "
                                  "AND table_name = "
                                  "'customers_a' ORDER BY ordinal_position")[1]
        assert [c[0] for c in columns] == ["id", "email", "phone", "_batch_id", "_ingested_at"]
        rows_a = warehouse.query("SELECT id, email, phone FROM crm.customers_a ORDER BY id")[1]
        rows_b = warehouse.query("SELECT id, email, phone FROM crm.customers_b ORDER BY id")[1]
    ann = expected_hash("ann@example.com")
    assert rows_a == [(1, ann, "*" * 12 + "0958"), (2, None, "12"), (3, ann, "0958")]
    assert rows_b == [(3, ann, "0958")]  # another source, the same secret: joinable

    lake = tmp_path / "state/lake"
    parquet = sorted(str(p) for p in (lake / "processed/customers_a").rglob("*.parquet"))
    described = duckdb.execute("DESCRIBE SELECT * FROM read_parquet(?)", [parquet]).fetchall()
    assert [d[0] for d in described] == ["id", "email", "phone", "_batch_id", "_ingested_at"]

    quarantined = [json.loads(line) for f in sorted((lake / "quarantine/customers_a").rglob("*.json"))
                   for line in f.read_text().splitlines() if line.strip()]
    assert [{k: v for k, v in q.items() if k != "_batch_id"} for q in quarantined] == [
        {"id": "x", "email": expected_hash("bob@example.com"), "phone": "****0100", "_record": None,
         "_reason": "cast: id value 'x' is not integer"}]

    # Only the raw zone keeps the originals; the secret is nowhere in generated files, lake or state.
    raw = lake / "raw"
    assert any(SSN.encode() in p.read_bytes() for p in raw.rglob("*") if p.is_file())
    for path in [*(tmp_path / "state").rglob("*"), *(tmp_path / "generated").rglob("*")]:
        if path.is_file() and raw not in path.parents:
            data = path.read_bytes()
            assert SSN.encode() not in data, path
            assert b"bob@example.com" not in data and SECRET.encode() not in data, path
