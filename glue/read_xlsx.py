"""XLSX: Spark has no reader, so the driver reads each workbook with openpyxl (sheet by name, first row as
the header) into the raw record frame. Workbooks arrive as email attachments: at most tens of MB."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from onboard_glue.config import ColumnSpec, FormatSpec
from onboard_glue.header import check_header, header_position, normal_name
from onboard_glue.lake_fs import InputFile, LakeFS

MAX_WORKBOOK_BYTES = 64 << 20


def cell_text(value: Any) -> str | None:
    """A cell as the text the casts expect: ISO dates, integral numbers without `.0`, empty as null."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_workbook_size(file: InputFile) -> None:
    """Refuse a workbook the driver would have to cut: a truncated zip only fails later, as a bad zip."""
    if file.size > MAX_WORKBOOK_BYTES:
        raise ValueError(
            f"xlsx: {file.read_path} is {file.size} bytes ({file.size / (1 << 20):.1f} MB); workbooks are read "
            f"whole on the driver, up to {MAX_WORKBOOK_BYTES} bytes (64 MB): split the workbook or send it as CSV")


def workbook_rows(data: bytes, sheet: str | None) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook  # a declared dependency; imported only where XLSX is read

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ValueError(f"sheet {sheet!r} not found; the workbook has: {', '.join(workbook.sheetnames)}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        return [tuple(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_xlsx(spark: SparkSession, lake: LakeFS, fmt: FormatSpec, columns: Sequence[ColumnSpec],
              files: Sequence[InputFile], empty: DataFrame) -> DataFrame:
    records = []
    for index, file in enumerate(files):
        check_workbook_size(file)
        rows = workbook_rows(lake.head(file.read_path, MAX_WORKBOOK_BYTES), fmt.sheet)
        if not rows:
            continue
        if fmt.header:
            header = tuple(normal_name(cell_text(v) or "") for v in rows[0])
            positions = [header_position(header, column.source) for column in columns]
            check_header(file.read_path.rsplit("/", 1)[-1], header, columns, positions, fmt.allow_missing_columns)
            rows = rows[1:]
        else:
            positions = list(range(len(columns)))
        for number, row in enumerate(rows):
            if all(cell_text(v) is None for v in row):
                continue  # blank rows below the data
            values = [cell_text(row[p]) if p is not None and p < len(row) else None for p in positions]
            records.append((index, number, *values, None, None))
    return spark.createDataFrame(records, empty.schema) if records else empty
