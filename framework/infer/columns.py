"""From a field's sample values to a typed column that the Glue job reads without quarantining a sample row.

Each guess is checked against the casts the job makes (glue/transform.py): integers as Spark's try_cast takes
them (no leading zeros: they would be lost), doubles through Spark's number gate, dates and timestamps in ISO
8601 or, otherwise, with a `format` found by DuckDB's strptime among common layouts and written as the
Spark pattern that parses the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from framework.infer.sample import Field
from framework.spec.identifiers import RESERVED_COLUMNS

INT32 = 2**31 - 1
INT64 = 2**63 - 1
LENGTH_STEPS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65535)
HEADROOM = 1.5  # max_length: the longest sample value times this, rounded up to the next step

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_LEADING_ZERO = re.compile(r"^[+-]?0[0-9]")
_NUMBER = re.compile(r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")  # transform._NUMBER
_CENTS = re.compile(r"^[+-]?[0-9]+\.[0-9]{2}$")
_BOOLEAN_PAIRS = ({"true", "false"}, {"t", "f"}, {"yes", "no"}, {"y", "n"})
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?$")

# Non-ISO layouts: DuckDB strptime format, the Spark pattern that parses the same text, and the shape the
# Spark pattern accepts (Spark is stricter than strptime about widths: `mm` and `ss` need two digits).
_D, _M, _Y = r"[0-9]{1,2}", r"[0-9]{1,2}", r"[0-9]{4}"
_DATES = (
    ("%d/%m/%Y", "d/M/yyyy", rf"{_D}/{_M}/{_Y}"),
    ("%m/%d/%Y", "M/d/yyyy", rf"{_M}/{_D}/{_Y}"),
    ("%d.%m.%Y", "d.M.yyyy", rf"{_D}\.{_M}\.{_Y}"),
    ("%d-%m-%Y", "d-M-yyyy", rf"{_D}-{_M}-{_Y}"),
    ("%m-%d-%Y", "M-d-yyyy", rf"{_M}-{_D}-{_Y}"),
    ("%Y/%m/%d", "yyyy/M/d", rf"{_Y}/{_M}/{_D}"),
    ("%b %d %Y", "MMM d yyyy", rf"[A-Za-z]{{3}} {_D} {_Y}"),
    ("%b %d, %Y", "MMM d, yyyy", rf"[A-Za-z]{{3}} {_D}, {_Y}"),
    ("%d %b %Y", "d MMM yyyy", rf"{_D} [A-Za-z]{{3}} {_Y}"),
    ("%d-%b-%Y", "d-MMM-yyyy", rf"{_D}-[A-Za-z]{{3}}-{_Y}"),
    ("%B %d, %Y", "MMMM d, yyyy", rf"[A-Za-z]{{4,9}} {_D}, {_Y}"),
    ("%d %B %Y", "d MMMM yyyy", rf"{_D} [A-Za-z]{{4,9}} {_Y}"),
)
_TIMES = (
    (" %H:%M:%S", " H:mm:ss", r" [0-9]{1,2}:[0-9]{2}:[0-9]{2}"),
    (" %H:%M", " H:mm", r" [0-9]{1,2}:[0-9]{2}"),
    (" %I:%M:%S %p", " h:mm:ss a", r" [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AaPp][Mm]"),
    (" %I:%M %p", " h:mm a", r" [0-9]{1,2}:[0-9]{2} [AaPp][Mm]"),
)
_LAYOUTS = tuple(("date", s, p, re.compile(f"^{r}$")) for s, p, r in _DATES) + tuple(
    ("timestamp", ds + ts, dp + tp, re.compile(f"^{dr}{tr}$")) for ds, dp, dr in _DATES for ts, tp, tr in _TIMES)


@dataclass
class InferredColumn:
    name: str
    source: str
    type: str
    nullable: bool
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    format: str | None = None
    unique: bool = False
    note: str | None = None  # why, when it is not obvious


def column_name(source: str, taken: set[str]) -> str:
    """snake_case of a header or a dotted path: 'Order Date' -> order_date, 'customerId' -> customer_id,
    'author.id' -> author_id; reserved words stay (the generated SQL quotes them)."""
    text = source.replace('"', "")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not name:
        name = "column"
    if name[0].isdigit():
        name = "c_" + name
    if name in RESERVED_COLUMNS:
        name += "_value"
    name = name[:120]
    base, number = name, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def max_length_for(values: list[str]) -> int:
    longest = max((len(v.encode("utf-8")) for v in values), default=1)
    wanted = max(int(longest * HEADROOM + 0.999), 1)
    return next((step for step in LENGTH_STEPS if step >= wanted), LENGTH_STEPS[-1])


def infer_column(item: Field, name: str) -> InferredColumn:
    texts = [v for v in item.values if v is not None and v.strip() != ""]
    nullable = len(texts) < len(item.values) or not item.values
    unique = bool(texts) and not nullable and len(set(texts)) == len(texts)
    column = InferredColumn(name, item.source, "string", nullable, unique=unique)
    if item.native and item.native != "json" and item.native.startswith("decimal("):
        precision, scale = item.native[8:-1].split(",")
        column.type, column.precision, column.scale = "decimal", int(precision), int(scale)
        return column
    if item.native:
        column.type = item.native
        if column.type == "json":
            column.note = "nested lists or objects, kept as JSON text"
        return column
    if not texts:
        column.max_length = LENGTH_STEPS[0]
        column.note = "no value in the sample: typed string"
        return column
    _type_from_text(column, [v.strip() for v in texts], item.preferred_formats)
    if column.type == "string":
        column.max_length = max_length_for(texts)
    return column


def _type_from_text(column: InferredColumn, texts: list[str], preferred: tuple[str, ...] = ()) -> None:
    if all(_INTEGER.match(v) for v in texts):
        if any(_LEADING_ZERO.match(v) for v in texts):
            column.note = "numbers with leading zeros: kept as text so the zeros stay"
            return
        biggest = max(abs(int(v)) for v in texts)
        if biggest <= INT32:
            column.type = "integer"
        elif biggest <= INT64:
            column.type = "bigint"
        else:
            column.note = "integers beyond bigint: kept as text"
        return
    if all(_NUMBER.match(v) for v in texts):
        if all(_CENTS.match(v) for v in texts):
            digits = max(len(v.lstrip("+-").split(".")[0]) for v in texts)
            column.type, column.precision, column.scale = "decimal", 18 if digits <= 14 else 38, 2
            column.note = "every value has two decimals"
            return
        column.type = "double"
        if any(_INTEGER.match(v) for v in texts):
            column.note = "integers and decimals mixed"
        return
    folded = {v.lower() for v in texts}
    if any(folded <= pair for pair in _BOOLEAN_PAIRS):
        column.type = "boolean"
        return
    moment = _moment(texts, preferred)
    if moment:
        column.type, column.format, column.note = moment


def _moment(texts: list[str], preferred: tuple[str, ...] = ()) -> tuple[str, str | None, str | None] | None:
    """(type, format, note) when every text is a date or a timestamp DuckDB can read; among layouts that all
    read, the one DuckDB's CSV sniffer chose (``preferred``) comes first."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("CREATE TABLE v (t VARCHAR)")
        connection.executemany("INSERT INTO v VALUES (?)", [[t] for t in texts])

        def all_read(expression: str, parameters: list | None = None) -> bool:
            failed = connection.execute(f"SELECT count(*) FROM v WHERE {expression} IS NULL",  # noqa: S608
                                        parameters or []).fetchone()[0]
            return failed == 0

        if all(_ISO_DATE.match(t) for t in texts):
            return ("date", None, None) if all_read("TRY_CAST(t AS DATE)") else None
        iso = [_ISO_TIMESTAMP.match(t) or _ISO_DATE.match(t) for t in texts]
        if all(iso):  # timestamps, some perhaps written as a date only (Spark reads those as midnight)
            if not all_read("TRY_CAST(replace(t, 'T', ' ') AS TIMESTAMPTZ)"):
                return None
            zoned = [m for m in iso if m and "zone" in m.groupdict() and m.group("zone")]
            if len(zoned) == len(texts):
                return "timestamptz", None, "ISO 8601 with a zone offset"
            if not zoned:
                return "timestamp", None, None
            return None  # some with a zone, some without: left as text
        readable = [(kind, fmt, pattern) for kind, fmt, pattern, shape in _LAYOUTS
                    if all(shape.match(t) for t in texts) and all_read("try_strptime(t, ?)", [fmt])]
        if not readable:
            return None
        readable.sort(key=lambda layout: layout[1] not in preferred)
        kind, _, pattern = readable[0]
        others = [p for _, _, p in readable[1:]]
        note = f"read as '{pattern}'" + (f" (also reads as '{others[0]}': check)" if others else "")
        return kind, pattern, note
    finally:
        connection.close()
