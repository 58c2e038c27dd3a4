"""Workbooks read on the driver: the named sheet, cell values as the casts expect them."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from onboard_glue.read_xlsx import cell_text, workbook_rows


def book_bytes() -> bytes:
    book = Workbook()
    book.active.title = "First"
    book.active.append(["a"])
    book.create_sheet("Prices").append(["sku", 1.0, 2.5, True, datetime(2024, 11, 1, 8, 30), date(2024, 11, 2)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_named_sheet_or_the_first_is_read():
    assert workbook_rows(book_bytes(), None) == [("a",)]
    [row] = workbook_rows(book_bytes(), "Prices")
    assert [cell_text(v) for v in row] == ["sku", "1", "2.5", "true", "2024-11-01 08:30:00", "2024-11-02"]


def test_a_missing_sheet_names_the_sheets_there_are():
    with pytest.raises(ValueError, match="sheet 'Price' not found; the workbook has: First, Prices"):
        workbook_rows(book_bytes(), "Price")


def test_only_xlsx_sources_ask_glue_for_openpyxl():
    from framework.render.manifest import glue_python_modules

    assert glue_python_modules("xlsx") == {"python_modules": ["openpyxl==3.1.5"]}
    assert glue_python_modules("csv") == {}
