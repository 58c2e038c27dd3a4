"""The job configuration a generated Glue job embeds (see docs/contracts.md, "Job config")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COLUMN_TYPES = frozenset(
    {"string", "integer", "bigint", "double", "decimal", "boolean", "date", "timestamp", "timestamptz", "json"}
)
FORMAT_TYPES = frozenset({"csv", "json", "jsonl", "parquet", "xlsx"})
PARTITION_PARTS = ("year", "month", "day", "hour")
# The lake's partition folders (`onboard_year=2024/...`): layout only, named apart from any data column, so a
# source may have a `year` column. framework/spec/identifiers.py reserves the same names.
PARTITION_FOLDERS = {part: f"onboard_{part}" for part in PARTITION_PARTS}
TEMPORAL_TYPES = frozenset({"date", "timestamp", "timestamptz"})
LINEAGE_COLUMNS = ("_batch_id", "_ingested_at")
# Keys of a quarantine JSON line besides the column values.
QUARANTINE_KEYS = ("_record", "_reason", "_batch_id")
# Redshift VARCHAR length used by the DDL when a string column declares no max_length.
DEFAULT_VARCHAR_BYTES = 256


# A path into JSON as the framework parsed it (framework/runtime/paths.py): its readings in order, each a tuple
# of object keys; the first reading present wins. `@odata.etag` -> (("@odata.etag",), ("@odata", "etag")).
Path = tuple[tuple[str, ...], ...]


def as_path(raw: Any, where: str, problems: list[str]) -> Path:
    """A parsed path from the config (a list of readings, each a list of keys); glue/ never parses path text."""
    if raw is None:
        return ()
    if (isinstance(raw, list | tuple) and raw and all(isinstance(r, list | tuple) and r for r in raw)
            and all(isinstance(k, str) for r in raw for k in r)):
        return tuple(tuple(r) for r in raw)
    problems.append(f"{where}: expected the parsed path (a list of readings, each a list of keys); "
                    "regenerate the job with onboard generate")
    return ()


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    source: str
    type: str
    nullable: bool = True
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    format: str | None = None  # date/timestamp/timestamptz: a Spark datetime pattern, epoch_seconds or epoch_millis
    path: Path = ()  # JSON and Parquet: where the value is; csv and xlsx match `source` to the header
    pii: str | None = None  # hash | mask | drop (glue/pii.py): how the value leaves the job

    @property
    def readings(self) -> Path:
        """Where a JSON or Parquet value is: ``path``, else the top-level key ``source``."""
        return self.path or ((self.source,),)

    @property
    def type_label(self) -> str:
        """The type as the spec writes it, e.g. ``decimal(10,2)``."""
        if self.type == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.type

    @property
    def byte_limit(self) -> int | None:
        """UTF-8 byte limit of a string column (the Redshift VARCHAR length)."""
        if self.type != "string":
            return None
        return self.max_length if self.max_length is not None else DEFAULT_VARCHAR_BYTES


@dataclass(frozen=True)
class FormatSpec:
    type: str
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    header: bool = True
    encoding: str = "UTF-8"
    records_path: Path = ()  # json: where the records are (parsed, see Path); empty: the document is the list
    sheet: str | None = None  # xlsx: the worksheet to read (default: the first)
    # Text tokens read as null (trimmed, exact case) and as booleans (trimmed, any case); () = none declared.
    null_values: tuple[str, ...] = ()
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    decimal_separator: str = "."  # csv: "," reads 1.234,56 as 1234.56
    allow_missing_columns: bool = False  # csv: a declared column absent from a header reads as null


@dataclass(frozen=True)
class DedupeSpec:
    keys: tuple[str, ...]
    order_by: str | None = None


@dataclass(frozen=True)
class FilesSpec:
    slices: int = 1
    rows_per_file: int = 1_000_000


PII_POLICIES = (None, "hash", "mask", "drop")
EPOCH_FORMATS = frozenset({"epoch_seconds", "epoch_millis"})
QUALITY_RULES = frozenset({"not_null", "unique", "accepted_values", "range", "regex", "max_length", "expression"})


@dataclass(frozen=True)
class QualityRuleSpec:
    id: str
    rule: str
    column: str | None = None
    severity: str = "reject"
    values: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    length: int | None = None
    expression: str | None = None


@dataclass(frozen=True)
class QualitySpec:
    threshold: float | None = None  # None: only a batch that loads nothing (every row quarantined) fails
    rules: tuple[QualityRuleSpec, ...] = ()


@dataclass(frozen=True)
class JobConfig:
    source: str
    format: FormatSpec
    columns: tuple[ColumnSpec, ...]
    partition_by: tuple[str, ...] = ()
    partition_column: str | None = None
    dedupe: DedupeSpec | None = None
    files: FilesSpec = FilesSpec()
    quality: QualitySpec | None = None
    output_columns: tuple[str, ...] = ()  # the table's physical order when a migration changed it
    pii_secret: str | None = None  # the secret whose value keys the `pii: hash` columns (its name, never the value)

    @property
    def partition_folders(self) -> tuple[str, ...]:
        """The partition columns of the written files, in ``partition_by`` order (``onboard_year``, ...)."""
        return tuple(PARTITION_FOLDERS[part] for part in self.partition_by)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def load_config(raw: dict[str, Any]) -> JobConfig:
    """Build a JobConfig from the embedded dict; raise ValueError listing every problem."""
    parse_problems: list[str] = []
    fmt_raw = dict(raw.get("format") or {})
    fmt = FormatSpec(
        type=fmt_raw.get("type", ""),
        delimiter=fmt_raw.get("delimiter") or ",",
        quote=fmt_raw.get("quote") or '"',
        escape=fmt_raw.get("escape") or '"',
        header=fmt_raw.get("header") is not False,
        encoding=fmt_raw.get("encoding") or "UTF-8",
        records_path=as_path(fmt_raw.get("records_path") or None, "format.records_path", parse_problems),
        sheet=fmt_raw.get("sheet") or None,
        null_values=tuple(fmt_raw.get("null_values") or ()),
        true_values=tuple(fmt_raw.get("true_values") or ()),
        false_values=tuple(fmt_raw.get("false_values") or ()),
        decimal_separator=fmt_raw.get("decimal_separator") or ".",
        allow_missing_columns=bool(fmt_raw.get("allow_missing_columns")),
    )
    columns = tuple(
        ColumnSpec(
            name=c["name"],
            source=str(c.get("source") or c["name"]),
            type=c.get("type") or "string",
            nullable=bool(c.get("nullable", True)),
            max_length=c.get("max_length"),
            precision=c.get("precision"),
            scale=c.get("scale"),
            path=as_path(c.get("path"), f"columns.{c['name']}.path", parse_problems),
            format=c.get("format") or None,
            pii=c.get("pii") or None,
        )
        for c in raw.get("columns") or ()
    )
    dedupe_raw = raw.get("dedupe")
    dedupe = (
        DedupeSpec(keys=tuple(dedupe_raw.get("keys") or ()), order_by=dedupe_raw.get("order_by"))
        if dedupe_raw
        else None
    )
    files_raw = raw.get("files") or {}
    quality_raw = raw.get("quality")
    quality = QualitySpec(
        threshold=float(quality_raw["threshold"]) if quality_raw.get("threshold") is not None else None,
        rules=tuple(QualityRuleSpec(**{**r, "values": tuple(r.get("values") or ())})
                    for r in quality_raw.get("rules") or ()),
    ) if quality_raw else None
    config = JobConfig(
        source=raw.get("source", ""),
        format=fmt,
        columns=columns,
        partition_by=tuple(raw.get("partition_by") or ()),
        partition_column=raw.get("partition_column"),
        dedupe=dedupe,
        files=FilesSpec(
            slices=int(files_raw.get("slices") or 1),
            rows_per_file=int(files_raw.get("rows_per_file") or 1_000_000),
        ),
        quality=quality,
        output_columns=tuple(raw.get("output_columns") or ()),
        pii_secret=raw.get("pii_secret") or None,
    )
    problems = parse_problems + _problems(config)
    if problems:
        raise ValueError("invalid job config:\n" + "\n".join(f"- {p}" for p in problems))
    return config


def _problems(config: JobConfig) -> list[str]:
    problems: list[str] = []
    if not config.source:
        problems.append("source: missing")
    if config.format.type not in FORMAT_TYPES:
        problems.append(f"format.type: {config.format.type!r} is not one of {sorted(FORMAT_TYPES)}")
    if not config.columns:
        problems.append("columns: at least one column is needed")
    expected = sorted([c.name for c in config.columns if c.pii != "drop"] + ["_batch_id", "_ingested_at"])
    if config.output_columns and sorted(config.output_columns) != expected:
        problems.append("output_columns: must name every column and _batch_id, _ingested_at exactly once")
    names = [c.name for c in config.columns]
    reserved = set(LINEAGE_COLUMNS) | set(QUARANTINE_KEYS) | set(PARTITION_FOLDERS.values())
    seen: set[str] = set()
    for column in config.columns:
        where = f"columns.{column.name}"
        if column.name in seen:
            problems.append(f"{where}: duplicate column name")
        seen.add(column.name)
        if column.name in reserved:
            problems.append(f"{where}: the name is reserved for lineage, quarantine or partition columns")
        if column.type not in COLUMN_TYPES:
            problems.append(f"{where}: type {column.type!r} is not one of {sorted(COLUMN_TYPES)}")
        if column.type == "decimal" and not (
            column.precision is not None
            and column.scale is not None
            and 1 <= column.precision <= 38
            and 0 <= column.scale <= column.precision
        ):
            problems.append(f"{where}: decimal needs precision 1..38 and 0 <= scale <= precision")
        if column.max_length is not None and column.max_length < 1:
            problems.append(f"{where}: max_length must be positive")
        if column.format is not None and column.type not in TEMPORAL_TYPES:
            problems.append(f"{where}: format applies to date, timestamp and timestamptz columns")
        if column.pii not in PII_POLICIES:
            problems.append(f"{where}: pii {column.pii!r} is not one of hash, mask, drop")
        elif column.pii in ("hash", "mask") and column.type != "string":
            problems.append(f"{where}: pii {column.pii} applies to string columns")
        if column.pii == "hash" and not config.pii_secret:
            problems.append(f"{where}: pii hash needs pii_secret (the secret's name)")
    for part in config.partition_by:
        if part not in PARTITION_PARTS:
            problems.append(f"partition_by: {part!r} is not one of {list(PARTITION_PARTS)}")
    if config.partition_column is not None:
        if config.partition_column not in names:
            problems.append(f"partition_column: {config.partition_column!r} is not a column")
        elif config.column(config.partition_column).type not in TEMPORAL_TYPES:
            problems.append(f"partition_column: {config.partition_column!r} is not a date or timestamp column")
    if config.dedupe is not None:
        if not config.dedupe.keys:
            problems.append("dedupe.keys: at least one key is needed")
        for key in config.dedupe.keys:
            if key not in names:
                problems.append(f"dedupe.keys: {key!r} is not a column")
        if config.dedupe.order_by is not None and config.dedupe.order_by not in names:
            problems.append(f"dedupe.order_by: {config.dedupe.order_by!r} is not a column")
    if config.files.slices < 1 or config.files.rows_per_file < 1:
        problems.append("files: slices and rows_per_file must be positive")
    if config.quality is not None:
        problems += _quality_problems(config.quality, names)
    if config.format.type == "csv" and not config.format.delimiter:
        problems.append("format.delimiter: missing")
    if config.format.decimal_separator not in (".", ","):
        problems.append("format.decimal_separator: must be '.' or ','")
    if bool(config.format.true_values) != bool(config.format.false_values):
        problems.append("format: true_values and false_values go together")
    if config.format.allow_missing_columns:
        for column in config.columns:
            if not column.nullable:
                problems.append(f"columns.{column.name}: allow_missing_columns needs nullable columns")
    return problems


def _quality_problems(quality: QualitySpec, names: list[str]) -> list[str]:
    problems = []
    if quality.threshold is not None and not 0.0 <= quality.threshold <= 1.0:
        problems.append("quality.threshold: must lie between 0 and 1")
    ids = [r.id for r in quality.rules]
    for rule in quality.rules:
        where = f"quality.rules.{rule.id}"
        if ids.count(rule.id) > 1:
            problems.append(f"{where}: duplicate rule id")
        if rule.rule not in QUALITY_RULES:
            problems.append(f"{where}: rule {rule.rule!r} is not one of {sorted(QUALITY_RULES)}")
        if rule.severity not in ("reject", "warn"):
            problems.append(f"{where}: severity {rule.severity!r} is not reject or warn")
        if rule.rule == "expression":
            if not rule.expression:
                problems.append(f"{where}: expression missing")
        elif rule.column not in names:
            problems.append(f"{where}: column {rule.column!r} is not a column")
    return problems
