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


def test_a_workbook_whose_header_lacks_a_declared_column_is_refused_before_spark_is_used():
    from onboard_glue.config import ColumnSpec, FormatSpec
    from onboard_glue.header import MissingColumnsError
    from onboard_glue.lake_fs import InputFile
    from onboard_glue.read_xlsx import read_xlsx

    class Lake:  # read_xlsx reads the workbook's bytes through LakeFS.head only
        def head(self, path: str, limit: int) -> bytes:
            return book_bytes()

    book = InputFile(read_path="/in/prices.xlsx", key="/in/prices.xlsx", size=1, compressed=False)
    columns = [ColumnSpec(name="sku", source="sku", type="string"), ColumnSpec(name="price", source="Price",
                                                                              type="double")]
    with pytest.raises(MissingColumnsError) as raised:
        read_xlsx(None, Lake(), FormatSpec(type="xlsx", sheet="Prices"), columns, [book], None)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "prices.xlsx: the header has no column price; found: sku, 1, 2.5, true, 2024-11-01 08:30:00, "
        "2024-11-02. Map the column to a header name (schema.mapping), or set schema.allow_missing_columns: true "
        "to load it as null")
