"""Reading a sample file into fields: each field's source (a header or a dotted JSON path) and its values as
the text the Glue job sees, plus the `schema:` block (format, dialect, records_path) that reads it.

CSV: DuckDB's sniffer (`sniff_csv`) finds the delimiter, quote, escape and header; the rows are then read
as text with that dialect. JSON and JSON lines: Python's parser, numbers kept as written. Parquet: DuckDB,
whose column types (the file's schema) are taken as they are; struct fields become dotted paths, lists JSON.
XLSX: openpyxl, cells turned into text as the Glue job does.
A gzip file is read through its decompressed content.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SAMPLE_ROWS = 10_000


class SampleError(ValueError):
    """A sample that cannot be read, with what to do."""


@dataclass
class Field:
    """One column of the sample: where it comes from, its values as text (None: empty), and, when the
    format itself types it (Parquet), that type."""

    source: str
    values: list[str | None] = field(default_factory=list)
    native: str | None = None  # an Onboard type given by the file format (Parquet), or "json" for lists
    preferred_formats: tuple[str, ...] = ()  # strptime formats DuckDB's CSV sniffer chose: tried first


@dataclass
class Sample:
    schema: dict[str, Any]  # the `schema:` block without columns
    fields: list[Field]
    rows: int
    notes: list[str] = field(default_factory=list)  # how the sample was read, written as comments
    compressed: bool = False


class RawNumber(str):
    """A JSON number kept as written (Spark's JSON reader hands numbers to text columns as written)."""


def read_sample(path: Path, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> Sample:
    """The sample's fields and schema block; raises SampleError for a file no reader understands."""
    data = path.read_bytes()
    compressed = data[:2] == b"\x1f\x8b"
    name = path.name.lower()
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SampleError(f"{path.name}: not a readable gzip file ({exc})") from None
        name = name.removesuffix(".gz")
    kind = _kind(name, data)
    if kind == "csv":
        sample = _read_csv(data, sample_rows)
    elif kind in ("json", "jsonl"):
        sample = read_json_text(_text(data, path.name), kind, sample_rows)
    elif kind == "parquet":
        sample = _read_parquet(data, sample_rows)
    else:
        sample = _read_xlsx(data, sample_rows)
    if not sample.rows or not sample.fields:
        raise SampleError(f"{path.name}: no records in the sample, nothing to infer the columns from")
    sample.compressed = compressed
    if compressed:
        sample.notes.append("gzip-compressed: the Glue job decompresses files named *.gz")
    return sample


def _kind(name: str, data: bytes) -> str:
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if data[:4] == b"PAR1" or suffix == "parquet":
        return "parquet"
    if data[:2] == b"PK" or suffix == "xlsx":
        return "xlsx"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        text = data.decode("utf-8", "replace").strip()
        try:
            json.loads(text)
            return "json"
        except ValueError:
            return "jsonl"
    return "csv"


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleError(f"{name}: JSON must be UTF-8 ({exc})") from None


# ------------------------------------------------------------------------------------------------ CSV


def _read_csv(data: bytes, sample_rows: int) -> Sample:
    import duckdb

    encoding = "UTF-8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        encoding = "ISO-8859-1"  # the usual other one; DuckDB reads UTF-8, so the text is converted for it
        data = data.decode("latin-1").encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.csv"
        path.write_bytes(data)
        connection = duckdb.connect()
        try:
            sniffed = connection.execute(
                "SELECT Delimiter, Quote, Escape, HasHeader, DateFormat, TimestampFormat "
                "FROM sniff_csv(?, sample_size = ?)", [str(path), max(sample_rows, 1)]).fetchone()
            delimiter, quote, escape, has_header, *formats = (None if v == "(empty)" else v for v in sniffed)
            quote = quote or '"'
            escape = escape or quote
            relation = connection.execute(
                "SELECT * FROM read_csv(?, delim = ?, quote = ?, escape = ?, header = ?, all_varchar = true, "
                "null_padding = true, parallel = false) LIMIT ?",
                [str(path), delimiter, quote, escape, has_header, sample_rows])
            names = [d[0] for d in relation.description]
            rows = relation.fetchall()
        except duckdb.Error as exc:
            raise SampleError(f"DuckDB could not read the sample as CSV: {exc}") from None
        finally:
            connection.close()
    if not has_header:
        names = [f"column_{i + 1}" for i in range(len(names))]
    preferred = tuple(f for f in formats if f)
    fields = [Field(name.replace("\ufeff", "").strip(), [_blank_to_none(row[i]) for row in rows],
                    preferred_formats=preferred) for i, name in enumerate(names)]
    schema: dict[str, Any] = {"type": "csv"}
    if delimiter != ",":
        schema["delimiter"] = delimiter
    if quote != '"':
        schema["quote"] = quote
    if escape != '"':
        schema["escape"] = escape
    if not has_header:
        schema["header"] = False
    if encoding != "UTF-8":
        schema["encoding"] = encoding
    note = (f"dialect sniffed by DuckDB: delimiter {delimiter!r}, quote {quote!r}, escape {escape!r}, "
            f"{'a header row' if has_header else 'no header row'}")
    return Sample(schema, fields, len(rows), [note] + ([f"encoding {encoding}: the sample is not UTF-8"]
                                                    if encoding != "UTF-8" else []))


def _blank_to_none(value: str | None) -> str | None:
    return None if value is None or value == "" else value


# ------------------------------------------------------------------------------------------------ JSON


def read_json_text(text: str, kind: str, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> Sample:
    """JSON (a list of records, or records under a key) or JSON lines; `kind` is json or jsonl."""
    if kind == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(_loads(line))
            except ValueError as exc:
                raise SampleError(f"line {number} is not JSON: {exc}") from None
            if len(records) >= sample_rows:
                break
        return _records_sample(records, {"type": "jsonl"}, "JSON lines")
    try:
        document = _loads(text)
    except ValueError as exc:
        raise SampleError(f"the sample is not JSON: {exc}") from None
    path, records = find_records(document)
    schema: dict[str, Any] = {"type": "json"}
    if path:
        schema["records_path"] = path
    where = f"records under '{path}'" if path else "a JSON list of records"
    return _records_sample(records[:sample_rows], schema, where)


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber)


def find_records(document: Any) -> tuple[str | None, list[dict]]:
    """Where the records are: the document itself when it is a list, else the largest list of objects
    found under the keys of the document (breadth first), as a dotted path."""
    if isinstance(document, list):
        return None, [r for r in document if isinstance(r, dict)]
    best: tuple[str, list[dict]] | None = None
    empty: str | None = None  # the first empty list: where the records are when an answer has none
    level: list[tuple[str, Any]] = [(key, value) for key, value in _items(document)]
    while level and best is None:
        deeper: list[tuple[str, Any]] = []
        for path, value in level:
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                if best is None or len(value) > len(best[1]):
                    best = (path, value)
            elif value == [] and empty is None:
                empty = path
            elif isinstance(value, dict):
                deeper += [(f"{path}.{key}", inner) for key, inner in _items(value)]
        level = deeper
    if best is not None:
        return best
    if empty is not None:
        return empty, []
    return None, [document] if isinstance(document, dict) else []  # one record


def _items(value: Any) -> Iterable[tuple[str, Any]]:
    return ((_segment(k), v) for k, v in value.items()) if isinstance(value, dict) else ()


def _segment(key: str) -> str:
    """A key as one segment of a dotted path: quoted when it holds a dot (OData's '@odata.etag')."""
    return f'"{key}"' if "." in key else key


def _records_sample(records: list[Any], schema: dict[str, Any], where: str) -> Sample:
    fields: dict[str, Field] = {}
    flat_records = [_flatten(r) if isinstance(r, dict) else {} for r in records]
    for flat in flat_records:
        for path, (_, native) in flat.items():
            fields.setdefault(path, Field(path, native=native))
            if native == "json":
                fields[path].native = "json"
    for path in list(fields):  # a null where other records hold an object: that object's paths cover it
        if any(other.startswith(path + ".") for other in fields) and all(
                flat.get(path, (None,))[0] is None for flat in flat_records):
            del fields[path]
    for flat in flat_records:
        for path, item in fields.items():
            item.values.append(flat[path][0] if path in flat else None)
    ragged = sum(1 for flat in flat_records if not set(fields) <= set(flat))
    notes = [f"read as {where}: {len(records)} record(s)"]
    if ragged:
        notes.append(f"{ragged} record(s) lack some keys: those columns are nullable")
    return Sample(schema, list(fields.values()), len(records), notes)


def _flatten(record: dict, prefix: str = "") -> dict[str, tuple[str | None, str | None]]:
    """{dotted path: (text, native)}; nested objects become paths, lists stay whole as JSON text."""
    flat: dict[str, tuple[str | None, str | None]] = {}
    for key, value in record.items():
        path = prefix + _segment(key)
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, path + "."))
        elif isinstance(value, list | dict):
            flat[path] = (json.dumps(value, ensure_ascii=False), "json")
        else:
            flat[path] = (json_text(value), None)
    return flat


def json_text(value: Any) -> str | None:
    """A JSON scalar as the text Spark's JSON reader gives a string column."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------------------------------ Parquet, XLSX


_DUCKDB_TYPES = {"BOOLEAN": "boolean", "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer",
                 "UTINYINT": "integer", "USMALLINT": "integer", "BIGINT": "bigint", "UINTEGER": "bigint",
                 "FLOAT": "double", "DOUBLE": "double", "DATE": "date", "TIMESTAMP WITH TIME ZONE": "timestamptz",
                 "TIMESTAMP": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
                 "TIMESTAMP_S": "timestamp"}


def parquet_type(duckdb_type: str) -> str | None:
    """The Onboard type of a Parquet column as DuckDB reads it; None: text, typed from its values."""
    if duckdb_type in _DUCKDB_TYPES:
        return _DUCKDB_TYPES[duckdb_type]
    if duckdb_type.startswith("DECIMAL("):
        return duckdb_type.lower().replace(" ", "")
    if duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT", "MAP", "UNION")):
        return "json"
    return None


def _parquet_columns(connection: Any, path: str, parent: str = "", prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted path, DuckDB expression, DuckDB type) of every leaf column; struct fields become paths."""
    star = f"{parent}.*" if parent else "*"
    found: list[tuple[str, str, str]] = []
    for name, duckdb_type, *_ in connection.execute(
            f"DESCRIBE SELECT {star} FROM read_parquet(?)", [path]).fetchall():  # noqa: S608 (quoted names)
        expression = (f"{parent}." if parent else "") + '"' + name.replace('"', '""') + '"'
        if duckdb_type.startswith("STRUCT("):
            found += _parquet_columns(connection, path, expression, prefix + _segment(name) + ".")
        else:
            found.append((prefix + _segment(name), expression, duckdb_type))
    return found


def _read_parquet(data: bytes, sample_rows: int) -> Sample:
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.parquet"
        path.write_bytes(data)
        connection = duckdb.connect()
        try:
            columns = _parquet_columns(connection, str(path))
            selected = ", ".join(expression for _, expression, _ in columns)
            rows = connection.execute(f"SELECT {selected} FROM read_parquet(?) LIMIT ?",  # noqa: S608 (quoted names)
                                      [str(path), sample_rows]).fetchall()
        except duckdb.Error as exc:
            raise SampleError(f"DuckDB could not read the sample as Parquet: {exc}") from None
        finally:
            connection.close()
    fields = []
    for index, (name, _, duckdb_type) in enumerate(columns):
        native = parquet_type(duckdb_type)
        texts = [json.dumps(row[index], default=str) if native == "json" and row[index] is not None
                 else json_text(row[index]) for row in rows]
        fields.append(Field(name, texts, native))
    return Sample({"type": "parquet"}, fields, len(rows),
                  [f"read by DuckDB: {len(rows)} row(s); column types from the Parquet schema"])


def _read_xlsx(data: bytes, sample_rows: int) -> Sample:
    from onboard_glue.read_xlsx import cell_text, workbook_rows

    try:
        rows = workbook_rows(data, None)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SampleError(f"openpyxl could not read the sample as XLSX: {exc}") from None
    if not rows:
        raise SampleError("the workbook's first sheet is empty")
    header = [cell_text(v) or f"column_{i + 1}" for i, v in enumerate(rows[0])]
    body = [row for row in rows[1:] if any(cell_text(v) is not None for v in row)][:sample_rows]
    fields = [Field(name.strip(), [cell_text(row[i]) if i < len(row) else None for row in body])
              for i, name in enumerate(header)]
    return Sample({"type": "xlsx"}, fields, len(body), [f"read by openpyxl: first sheet, {len(body)} row(s)"])


def as_json_lines(sample: Sample, kind: str) -> None:
    """A stream or http_push source lands its records as JSON lines: a JSON sample's records are read as
    such; another format cannot arrive that way (SampleError)."""
    if sample.schema["type"] == "jsonl":
        return
    if sample.schema["type"] != "json":
        raise SampleError(f"a {kind} source lands its records as JSON lines: give a JSON or JSON lines sample, "
                          f"not {sample.schema['type']}")
    sample.schema = {"type": "jsonl"}
    sample.notes.append(f"a {kind} source lands each record as a JSON line")
