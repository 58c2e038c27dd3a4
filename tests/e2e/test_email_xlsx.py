"""An XLSX attachment of an email lands unchanged and the Glue job reads the sheet the YAML names."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from framework.cli import main
from framework.warehouse import DuckDBWarehouse
from tests.conftest import write_source

pytestmark = pytest.mark.slow

SOURCE = """
source:
  name: price_lists
  type: email
  config:
    recipients: [prices@data.example.com]
    attachment_pattern: "*.xlsx"
  schema:
    type: xlsx
    sheet: Prices
    columns:
      - {name: sku, type: string, nullable: false}
      - {name: price, type: 'decimal(10,2)'}
      - {name: valid_from, type: date, source: Valid From}
  redshift:
    schema: procurement
    table: price_lists
"""


def workbook() -> bytes:
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["this sheet is not read"])
    sheet = book.create_sheet("Prices")
    sheet.append(["SKU", "Price", "Valid From"])
    sheet.append(["SKU-1", 12.5, date(2024, 11, 1)])
    sheet.append(["SKU-2", 7, date(2024, 11, 15)])
    sheet.append([None, 1.0, date(2024, 11, 15)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_attachment_is_read_from_the_named_sheet(project, tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    write_source(project, "price_lists.yaml", SOURCE)
    message = EmailMessage()
    message["From"], message["To"] = "sales@vendor.example", "prices@data.example.com"
    message["Subject"], message["Message-ID"] = "November prices", "<prices-11@vendor.example>"
    message.set_content("Prices attached.")
    data = workbook()
    message.add_attachment(data, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="prices.xlsx")
    eml = tmp_path / "prices.eml"
    eml.write_bytes(message.as_bytes())
    runner = CliRunner()
    assert runner.invoke(main, ["--project", str(project.root), "generate"]).exit_code == 0
    result = runner.invoke(main, ["--project", str(project.root), "run", "price_lists", "--input", str(eml), "--json"])
    assert result.exit_code == 0, result.output
    [summary] = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (3, 2, 1)
    [landed] = list((tmp_path / "state").rglob(f"{summary['batch_id']}-1.xlsx"))
    assert landed.read_bytes() == data  # unchanged
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        assert warehouse.query("SELECT sku, price, valid_from FROM procurement.price_lists ORDER BY sku")[1] == [
            ("SKU-1", Decimal("12.50"), date(2024, 11, 1)), ("SKU-2", Decimal("7.00"), date(2024, 11, 15))]
