"""Pydantic models of a source definition: the blocks every source kind shares.

Connector-specific `config` blocks live in `framework.spec.kinds`, one module per `type`.
Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

COLUMN_TYPES = (
    "string", "integer", "bigint", "double", "decimal", "boolean", "date", "timestamp", "timestamptz", "json",
)
TYPE_SYNONYMS = {"int": "integer", "int4": "integer", "int8": "bigint", "long": "bigint", "float": "double",
                 "float8": "double", "real": "double", "numeric": "decimal", "number": "decimal", "bool": "boolean",
                 "varchar": "string", "text": "string", "char": "string", "datetime": "timestamp", "object": "json",
                 "super": "json"}
"""Other systems' names for a column type, suggested when a definition uses one."""
PARTITION_PARTS = ("year", "month", "day", "hour")
EPOCH_FORMATS = ("epoch_seconds", "epoch_millis")
ZONES = ("raw", "processed", "curated", "quarantine")

_TYPE_SHORTHAND = re.compile(r"^\s*(decimal|string)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$", re.IGNORECASE)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Column(StrictModel):
    """A typed column of the target table."""

    name: str = Field(description="Column name in the warehouse (folded to lower case by Redshift).")
    type: str = Field("string", description="One of " + ", ".join(COLUMN_TYPES) + "; `decimal(p,s)` and "
                      "`string(n)` are shorthands for precision/scale and max_length.",
                      examples=["string", "decimal(12,2)", "timestamp"])
    nullable: bool = Field(True, description="false: a row without a value is quarantined.")
    max_length: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        None, description="VARCHAR length in bytes (default 256).")
    precision: Annotated[int, Field(ge=1, le=38)] | None = Field(None, description="DECIMAL precision (≤ 38).")
    scale: Annotated[int, Field(ge=0, le=37)] | None = Field(None, description="DECIMAL scale (≤ precision).")
    description: str | None = Field(None, description="Becomes COMMENT ON COLUMN.")
    source: str | None = Field(
        None, description="Where the value comes from: a CSV header or a dotted JSON path. Default: name.")
    format: str | None = Field(
        None, description="date, timestamp, timestamptz: how the text is written, as a Spark datetime pattern "
        "(e.g. 'MMM d yyyy', 'dd/MM/yyyy HH:mm'), or epoch_seconds / epoch_millis. Default: ISO 8601.",
        examples=["dd/MM/yyyy", "epoch_millis"])
    pii: Literal["hash", "mask", "drop"] | None = Field(
        None, description="Personal data, protected by the Glue job before processed, quarantine and the table: "
        "hash (HMAC-SHA-256 hex with schema.pii_secret; string columns), mask (all but the last 4 characters "
        "become *; string columns) or drop (never leaves the raw zone).")

    @field_validator("format")
    @classmethod
    def _spark_pattern(cls, value: str | None) -> str | None:
        from framework.spec.datetime_patterns import pattern_problem

        if value is None or value in EPOCH_FORMATS:
            return value
        if problem := pattern_problem(value):
            raise ValueError(f"format '{value}' is not a datetime pattern Spark can parse: {problem}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            match = _TYPE_SHORTHAND.match(data["type"])
            if match:
                kind, first, second = match.group(1).lower(), int(match.group(2)), match.group(3)
                data = dict(data, type=kind)
                if kind == "decimal":
                    data.setdefault("precision", first)
                    data.setdefault("scale", int(second) if second is not None else 0)
                elif second is None:
                    data.setdefault("max_length", first)
        return data

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if "(" in value and ")" not in value:
            raise ValueError(f"type '{value}' was cut at a comma: inside {{ }} quote it, e.g. "
                             "type: 'decimal(10,2)'")
        if value not in COLUMN_TYPES:
            close = [TYPE_SYNONYMS[value.lower()]] if value.lower() in TYPE_SYNONYMS else \
                difflib.get_close_matches(value.lower(), COLUMN_TYPES, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ValueError(f"unknown column type '{value}'; {hint}choose from: " + ", ".join(COLUMN_TYPES))
        return value

    @model_validator(mode="after")
    def _type_options(self) -> Column:
        if self.type != "decimal" and (self.precision is not None or self.scale is not None):
            raise ValueError("precision and scale apply only to type decimal")
        if self.type != "string" and self.max_length is not None:
            raise ValueError("max_length applies only to type string")
        if self.format is not None and self.type not in ("date", "timestamp", "timestamptz"):
            raise ValueError("format applies only to types date, timestamp and timestamptz")
        if self.pii in ("hash", "mask") and self.type != "string":
            raise ValueError(f"pii: {self.pii} applies only to type string (pii: drop fits any type)")
        if self.type == "decimal":
            self.precision = self.precision or 18
            self.scale = self.scale if self.scale is not None else 0
            if self.scale > self.precision:
                raise ValueError(f"scale {self.scale} is greater than precision {self.precision}")
        return self


class _SchemaBase(StrictModel):
    mapping: dict[str, str] | None = Field(
        None, description="target_column: source_path (a CSV header or a dotted path into nested JSON).",
        examples=[{"customerId": "id", "city": "address.city"}])
    columns: list[Column] | None = Field(None, description="Typed columns, in table order.")
    columns_from: str | None = Field(
        None, description="Name of a shared column list in schemas/<name>.yaml (instead of `columns`).")
    null_values: list[str] | None = Field(
        None, description="Text values read as null (compared trimmed, case as written), e.g. ['NA', 'N/A', '-'].")
    true_values: list[str] | None = Field(
        None, description="boolean columns: the texts read as true (any case); replaces Spark's true/t/yes/y/1. "
        "Give false_values too.", examples=[["J", "ja"]])
    false_values: list[str] | None = Field(
        None, description="boolean columns: the texts read as false (any case).", examples=[["N", "nein"]])
    pii_secret: str = Field(
        "${SECRET:pii_salt}", pattern=r"^\$\{SECRET:[A-Za-z0-9/_+=.@-]{1,512}\}$",
        description="The key of `pii: hash` columns, as a ${SECRET:name} reference (read by the Glue job at run "
        "time); sources sharing it give equal hashes for equal values.")


class CsvSchema(_SchemaBase):
    type: Literal["csv"]
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    escape: str = Field('"', min_length=1, max_length=1)
    header: bool = Field(True, description="false: columns are taken in declared order.")
    encoding: str = Field("UTF-8", description="Text encoding, e.g. UTF-8 or ISO-8859-1 (a BOM is stripped).")
    decimal_separator: Literal[".", ","] = Field(
        ".", description="',': numbers are written 1234,56 or 1.234,56 ('.' only between groups of three "
        "digits); then '1.5' is not a number.")
    allow_missing_columns: bool = Field(
        False, description="true: a declared column the header lacks is loaded as null (every column must be "
        "nullable); false: such a file fails the batch, naming the column and the header found.")


class JsonSchema(_SchemaBase):
    type: Literal["json"]
    records_path: str | None = Field(
        None, description="Dotted path to the list of records inside the document; empty: the document is the list.")


class JsonlSchema(_SchemaBase):
    type: Literal["jsonl"]


class ParquetSchema(_SchemaBase):
    type: Literal["parquet"]


class XlsxSchema(_SchemaBase):
    type: Literal["xlsx"]
    sheet: str | None = Field(None, description="The worksheet to read, by name (default: the first).")
    header: bool = Field(True, description="false: columns are taken in declared order from the first row.")
    allow_missing_columns: bool = Field(
        False, description="true: a declared column the header lacks is loaded as null (every column must be "
        "nullable); false: such a workbook fails the batch, naming the column and the header found.")


RecordSchema = Annotated[CsvSchema | JsonSchema | JsonlSchema | ParquetSchema | XlsxSchema,
                         Field(discriminator="type")]
SCHEMA_TYPES = ("csv", "json", "jsonl", "parquet", "xlsx")


class Destination(StrictModel):
    bucket: str = Field("${BUCKET:processed}", description="Lake zone of the processed Parquet files.")
    prefix: str | None = Field(None, description="Key prefix of the source's files (default: `<name>/`).")
    partition_by: list[Literal["year", "month", "day", "hour"]] = Field(
        default_factory=list, validation_alias=AliasChoices("partitionBy", "partition_by"),
        serialization_alias="partitionBy",
        description="Derived partition folders, from partition_column or the ingest time.")
    partition_column: str | None = Field(
        None, description="A date or timestamp column to derive partitions from (default: ingest time).")
    rows_per_file: int = Field(1_000_000, ge=1000, description="Target rows per Parquet file.")


class Load(StrictModel):
    mode: Literal["append", "merge", "replace"] = Field(
        "append", description="append adds rows; merge upserts on keys; replace swaps the whole table.")
    keys: list[str] = Field(default_factory=list, description="Key columns (required for merge).")
    order_by: str | None = Field(
        None, description="Within one batch, the row with the greatest value of this column wins.")


class Redshift(StrictModel):
    schema_: str = Field(alias="schema", description="Redshift schema.")
    table: str = Field(description="Redshift table.")
    diststyle: Literal["auto", "even", "key", "all"] | None = Field(
        None, description="Default AUTO, or KEY when a distkey is given.")
    distkey: str | None = None
    sortkey: str | list[str] | None = None
    sortstyle: Literal["compound", "interleaved"] = "compound"
    load: Load = Field(default_factory=Load)
    slices: int = Field(4, ge=1, le=1024, description="Output file count is a multiple of this (COPY parallelism).")
    allow_drop: list[str] = Field(
        default_factory=list, description="Columns that may be dropped from the table when they leave the source "
        "(their loaded data is deleted). Removing a column not listed here is refused by `onboard generate`.",
        examples=[["legacy_code"]])

    @property
    def sortkeys(self) -> list[str]:
        if self.sortkey is None:
            return []
        return [self.sortkey] if isinstance(self.sortkey, str) else list(self.sortkey)


class Incremental(StrictModel):
    """Fetch only what changed since the last landed batch: the greatest `cursor_field` seen is sent as `param`."""

    cursor_field: str = Field(description="Dotted path inside a record to the value that grows with every change.",
                              examples=["updated_at", "meta.modified"])
    param: str = Field(description="Query parameter that sends the last cursor value to the API.",
                       examples=["updated_since"])
    initial: str | int | float | None = Field(
        None, description="Value sent on the very first run (none: the first run fetches everything). "
        "Quote dates so they are sent as written.", examples=["2024-01-01T00:00:00Z"])

    @field_validator("initial", mode="before")
    @classmethod
    def _quoted_dates(cls, value: object) -> object:
        if isinstance(value, date):
            raise ValueError(f"quote the value so it is sent exactly as written, e.g. initial: '{value}' "
                             "(unquoted, YAML reads it as a date)")
        return value


class Retry(StrictModel):
    """How failed requests are retried: 429 after Retry-After; 5xx and connection errors with exponential
    backoff and full jitter; other 4xx fail at once."""

    max_attempts: int = Field(5, ge=1, le=20, description="Attempts per request, the first included.")
    backoff_seconds: float = Field(1.0, gt=0, le=60, description="Base of the exponential backoff.")
    max_backoff_seconds: float = Field(60.0, gt=0, le=600, description="Cap of one backoff wait.")
    deadline_seconds: float = Field(
        780.0, gt=0, le=840, description="The whole fetch must finish within this many seconds; kept below the "
        "connector Lambda's 15-minute timeout so a slow API fails cleanly instead of being killed.")


class Glue(StrictModel):
    """How the source's Glue job runs when deployed (ignored by local runs)."""

    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = Field(
        "G.1X", description="Glue worker type; G.1X = 4 vCPU, 16 GB.")
    workers: int = Field(2, ge=2, le=299, description="Number of workers (at least 2).")
    timeout_minutes: int = Field(60, ge=1, le=2880, description="The job run is stopped after this long.")
    crawl: bool = Field(True, description="Start the source's crawler after each transform, so new "
                        "partitions appear in the Glue catalog.")


_DURATION = re.compile(r"^([1-9][0-9]*)([mhd])$")
_DURATION_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int:
    """`30m`, `26h`, `2d` as seconds; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration; write a whole number followed by m, h or d, e.g. 26h")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


class Freshness(StrictModel):
    """How late a source may be: the time since its last successful load that makes it `warn` or `error`
    (`onboard status --freshness`; deployed, the MinutesSinceLastLoad alarms)."""

    warn_after: str | None = Field(None, description="Age of the last successful load that warns (m, h or d).",
                                   examples=["26h"])
    error_after: str | None = Field(None, description="Age of the last successful load that is an error "
                                    "(m, h or d); a source never loaded is an error too.", examples=["50h"])

    @field_validator("warn_after", "error_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if value is not None:
            duration_seconds(str(value))
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Freshness:
        if self.warn_after is None and self.error_after is None:
            raise ValueError("set warn_after, error_after or both")
        if self.warn_seconds is not None and self.error_seconds is not None and self.warn_seconds >= self.error_seconds:
            raise ValueError(f"warn_after ({self.warn_after}) must be shorter than error_after ({self.error_after})")
        return self

    @property
    def warn_seconds(self) -> int | None:
        return None if self.warn_after is None else duration_seconds(self.warn_after)

    @property
    def error_seconds(self) -> int | None:
        return None if self.error_after is None else duration_seconds(self.error_after)


QUALITY_RULES = ("not_null", "unique", "accepted_values", "range", "regex", "max_length", "expression")
_RULE_OPTIONS = {"accepted_values": ("values",), "range": ("min", "max"), "regex": ("pattern",),
                 "max_length": ("length",), "expression": ("expression",), "not_null": (), "unique": ()}


class QualityRule(StrictModel):
    """One data quality rule. A row that breaks a `reject` rule is quarantined; `warn` only counts it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="Lower-case snake_case, unique in the source; "
                    "quarantined rows list the ids of the rules they broke.")
    rule: Literal["not_null", "unique", "accepted_values", "range", "regex", "max_length", "expression"] = Field(
        description="What is checked.")
    column: str | None = Field(None, description="The column checked (every rule but `expression`).")
    severity: Literal["reject", "warn"] = Field("reject", description="reject: quarantine the row; warn: count it.")
    values: list[str | int | float | bool] | None = Field(None, description="accepted_values: the allowed values.")
    min: float | None = Field(None, description="range: the smallest allowed value (inclusive).")
    max: float | None = Field(None, description="range: the greatest allowed value (inclusive).")
    pattern: str | None = Field(None, description="regex: the value must contain a match (anchor with ^...$).")
    length: Annotated[int, Field(ge=1)] | None = Field(None, description="max_length: at most this many characters.")
    expression: str | None = Field(None, description="expression: a Spark SQL boolean over the row's columns; "
                                   "false or null breaks the rule.", examples=["total_amount >= unit_price"])

    @model_validator(mode="after")
    def _options_fit_the_rule(self) -> QualityRule:
        wanted = _RULE_OPTIONS[self.rule]
        given = [name for names in _RULE_OPTIONS.values() for name in names if getattr(self, name) is not None]
        extra = sorted(set(given) - set(wanted))
        if extra:
            raise ValueError(f"rule {self.rule} takes no {', '.join(extra)}"
                             + (f"; it takes {', '.join(wanted)}" if wanted else ""))
        if self.rule == "range":
            if self.min is None and self.max is None:
                raise ValueError("rule range needs min, max or both")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"range min {self.min} is greater than max {self.max}")
        elif wanted and getattr(self, wanted[0]) is None:
            raise ValueError(f"rule {self.rule} needs {wanted[0]}")
        if self.rule == "accepted_values" and not self.values:
            raise ValueError("rule accepted_values needs at least one value")
        if self.rule == "regex":
            try:
                re.compile(self.pattern or "")
            except re.error as error:
                raise ValueError(f"pattern is not a regular expression: {error}") from None
        if self.rule == "expression":
            if self.column is not None:
                raise ValueError("rule expression takes no column (name the columns in the expression)")
            if not (self.expression or "").strip():
                raise ValueError("rule expression needs a non-empty expression")
        elif self.column is None:
            raise ValueError(f"rule {self.rule} needs a column")
        return self


class Quality(StrictModel):
    """Data quality rules and the share of valid rows a batch needs to be loaded."""

    threshold: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Minimum share of valid (not quarantined) rows; below it the run fails and nothing "
        "is loaded. Without it, only a batch in which every row is quarantined fails; 0 loads any batch.",
        examples=[0.95])
    rules: list[QualityRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Quality:
        ids = [r.id for r in self.rules]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique: {', '.join(repeated)} repeated")
        return self


class SourceBase(StrictModel):
    """Fields every source kind has; each kind adds `type` and its own `config`."""

    name: str = Field(description="Lower-case snake_case name, unique in the project.",
                      examples=["customer_data_api"])
    description: str | None = Field(None, description="Becomes COMMENT ON TABLE and docs.")
    owner: str | None = None
    schema_: RecordSchema = Field(alias="schema", description="What arrives and how it maps to columns.")
    destination: Destination = Field(default_factory=Destination)
    redshift: Redshift
    glue: Glue = Field(default_factory=Glue, description="Deployed Glue job settings.")
    quality: Quality | None = Field(None, description="Data quality rules, quarantine and threshold.")
    freshness: Freshness | None = Field(None, description="How late the source may be before it warns or errs.")
    tags: dict[str, str] = Field(default_factory=dict)
    example_input: str | None = Field(
        None, description="A sample input file (relative to the project) that `onboard run --all` lands.")

    def kind_problems(self) -> list[tuple[tuple[str | int, ...], str, bool]]:
        """Rules particular to this source kind, as (path, message, at_key); none by default."""
        return []


def jsonl_by_default(data: object) -> object:
    """A source kind that lands JSON lines (stream, http_push) needs no `schema.type`: it defaults to jsonl."""
    if isinstance(data, dict) and isinstance(data.get("schema"), dict) and "type" not in data["schema"]:
        return {**data, "schema": {"type": "jsonl", **data["schema"]}}
    return data


class SharedColumns(StrictModel):
    """A file in schemas/: a column list several sources can share (`columns_from: <file stem>`)."""

    columns: list[Column] = Field(min_length=1)
