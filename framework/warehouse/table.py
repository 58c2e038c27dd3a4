"""What one Redshift table looks like: columns, distribution, sort key and load mode.

The column-type vocabulary and its Redshift mapping follow docs/contracts.md ("Column types").
Everything is validated on construction, so a ``TableSpec`` that exists renders to valid DDL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from framework.warehouse.identifiers import check_identifier, sql_name

DistStyle = Literal["auto", "even", "key", "all"]
SortStyle = Literal["compound", "interleaved"]
LoadMode = Literal["append", "merge", "replace"]

DIST_STYLES: tuple[str, ...] = ("auto", "even", "key", "all")
SORT_STYLES: tuple[str, ...] = ("compound", "interleaved")
LOAD_MODES: tuple[str, ...] = ("append", "merge", "replace")

DEFAULT_VARCHAR_BYTES = 256
MAX_VARCHAR_BYTES = 65535
MAX_DECIMAL_PRECISION = 38
MAX_COLUMNS = 1600
MAX_INTERLEAVED_SORTKEY_COLUMNS = 8
MAX_COMPOUND_SORTKEY_COLUMNS = 400

# spec type -> (Redshift type without parameters, ENCODE when the column is not in the sort key)
_REDSHIFT_TYPES: dict[str, tuple[str, str]] = {
    "string": ("VARCHAR", "ZSTD"),
    "integer": ("INTEGER", "AZ64"),
    "bigint": ("BIGINT", "AZ64"),
    "double": ("DOUBLE PRECISION", "RAW"),
    "decimal": ("DECIMAL", "AZ64"),
    "boolean": ("BOOLEAN", "RAW"),
    "date": ("DATE", "AZ64"),
    "timestamp": ("TIMESTAMP", "AZ64"),
    "timestamptz": ("TIMESTAMPTZ", "AZ64"),
    "json": ("SUPER", "ZSTD"),
}
COLUMN_TYPES: tuple[str, ...] = tuple(_REDSHIFT_TYPES)
SORT_KEY_ENCODING = "RAW"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ColumnSpec:
    """One warehouse column. ``max_length`` counts UTF-8 bytes (Redshift VARCHAR semantics)."""

    name: str
    type: str
    nullable: bool = True
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        check_identifier(self.name, "column")
        if self.type not in _REDSHIFT_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}; valid types: {', '.join(COLUMN_TYPES)}")
        self._check_max_length()
        self._check_decimal()

    def _check_max_length(self) -> None:
        if self.max_length is None:
            return
        if self.type != "string":
            raise ValueError(f"column {self.name}: max_length applies only to string columns")
        if not _is_int(self.max_length) or not 1 <= self.max_length <= MAX_VARCHAR_BYTES:
            raise ValueError(
                f"column {self.name}: max_length must be between 1 and {MAX_VARCHAR_BYTES} bytes "
                f"(Redshift VARCHAR limit), got {self.max_length}"
            )

    def _check_decimal(self) -> None:
        if self.type != "decimal":
            if self.precision is not None or self.scale is not None:
                raise ValueError(f"column {self.name}: precision/scale apply only to decimal columns")
            return
        if self.precision is None:
            raise ValueError(f"column {self.name}: decimal needs a precision")
        if not _is_int(self.precision) or not 1 <= self.precision <= MAX_DECIMAL_PRECISION:
            raise ValueError(
                f"column {self.name}: decimal precision must be between 1 and {MAX_DECIMAL_PRECISION}, "
                f"got {self.precision}"
            )
        if self.scale is None:
            object.__setattr__(self, "scale", 0)
        elif not _is_int(self.scale) or not 0 <= self.scale <= self.precision:
            raise ValueError(
                f"column {self.name}: decimal scale must be between 0 and the precision "
                f"({self.precision}), got {self.scale}"
            )

    @property
    def varchar_bytes(self) -> int:
        """The VARCHAR size in bytes of a string column (``max_length`` or the default 256)."""
        return self.max_length if self.max_length is not None else DEFAULT_VARCHAR_BYTES

    @property
    def encoding(self) -> str:
        """ENCODE for this column when it is not part of the sort key."""
        return _REDSHIFT_TYPES[self.type][1]

    def data_type(self) -> exp.DataType:
        """The Redshift type as a sqlglot expression."""
        base = _REDSHIFT_TYPES[self.type][0]
        if self.type == "string":
            return exp.DataType.build(f"{base}({self.varchar_bytes})", dialect="redshift")
        if self.type == "decimal":
            return exp.DataType.build(f"{base}({self.precision}, {self.scale})", dialect="redshift")
        return exp.DataType.build(base, dialect="redshift")

    @property
    def redshift_type(self) -> str:
        """The Redshift type exactly as it appears in the generated DDL."""
        return self.data_type().sql(dialect="redshift")


LINEAGE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("_batch_id", "string", max_length=64, description="Onboard batch that loaded this row"),
    ColumnSpec("_ingested_at", "timestamp", description="When Onboard ingested the batch (UTC)"),
)
LINEAGE_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in LINEAGE_COLUMNS)


def _as_tuple(value: object) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TableSpec:
    """A Redshift table and how batches reach it.

    ``diststyle`` None means AUTO, or KEY when ``distkey`` is given. ``keys`` are the merge keys
    (required for ``load_mode='merge'``); ``order_by`` is only used upstream, by the Glue job's dedupe.
    """

    schema: str
    table: str
    columns: tuple[ColumnSpec, ...]
    diststyle: DistStyle | None = None
    distkey: str | None = None
    sortkey: tuple[str, ...] = ()
    sortstyle: SortStyle = "compound"
    load_mode: LoadMode = "append"
    keys: tuple[str, ...] = ()
    order_by: str | None = None
    comment: str | None = None
    column_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in ("columns", "sortkey", "keys", "column_order"):
            object.__setattr__(self, field, _as_tuple(getattr(self, field)))
        check_identifier(self.schema, "schema")
        check_identifier(self.table, "table")
        self._check_columns()
        self._check_column_order()
        self._check_distribution()
        self._check_sortkey()
        self._check_load()

    # -- derived -----------------------------------------------------------------------------
    @property
    def qualified_name(self) -> str:
        """``schema.table`` as written in Redshift SQL (a part that needs quotes is quoted)."""
        return sql_name(self.schema, self.table)

    @property
    def effective_diststyle(self) -> str:
        """The DISTSTYLE written to the DDL: the given one, else KEY with a distkey, else AUTO."""
        if self.diststyle is not None:
            return self.diststyle
        return "key" if self.distkey else "auto"

    def all_columns(self) -> tuple[ColumnSpec, ...]:
        """Every column in physical order: ``column_order`` when given (a table that grew by ADD COLUMN
        keeps its new columns after the lineage columns), else the declared columns, then the lineage
        columns (``_batch_id``, ``_ingested_at``)."""
        default = self.columns + LINEAGE_COLUMNS
        if not self.column_order:
            return default
        by_name = {c.name: c for c in default}
        return tuple(by_name[name] for name in self.column_order)

    def column(self, name: str) -> ColumnSpec:
        for column in self.all_columns():
            if column.name == name:
                return column
        raise KeyError(name)

    def encoding_of(self, column: ColumnSpec) -> str:
        """ENCODE for ``column`` in this table: RAW in the sort key, else by type."""
        return SORT_KEY_ENCODING if column.name in self.sortkey else column.encoding

    # -- validation --------------------------------------------------------------------------
    def _check_columns(self) -> None:
        if not self.columns:
            raise ValueError(f"table {self.qualified_name}: at least one column is required")
        for column in self.columns:
            if not isinstance(column, ColumnSpec):
                raise ValueError(f"table {self.qualified_name}: columns must be ColumnSpec values")
        names = [c.name for c in self.columns]
        seen: set[str] = set()
        for name in names:
            if name in LINEAGE_COLUMN_NAMES:
                raise ValueError(
                    f"table {self.qualified_name}: column {name} is reserved for lineage "
                    f"({', '.join(LINEAGE_COLUMN_NAMES)} are added to every table)"
                )
            if name in seen:
                raise ValueError(f"table {self.qualified_name}: column {name} is declared twice")
            seen.add(name)
        total = len(names) + len(LINEAGE_COLUMNS)
        if total > MAX_COLUMNS:
            raise ValueError(
                f"table {self.qualified_name}: {total} columns (including {len(LINEAGE_COLUMNS)} lineage "
                f"columns); Redshift allows at most {MAX_COLUMNS}"
            )

    def _check_column_order(self) -> None:
        if not self.column_order:
            return
        expected = sorted(c.name for c in self.columns + LINEAGE_COLUMNS)
        if sorted(self.column_order) != expected:
            raise ValueError(
                f"table {self.qualified_name}: column_order must name every column (lineage included) once"
            )

    def _known_column(self, name: str, role: str, *, declared_only: bool = False) -> ColumnSpec:
        check_identifier(name, role)
        pool = self.columns if declared_only else self.all_columns()
        for column in pool:
            if column.name == name:
                return column
        raise ValueError(f"table {self.qualified_name}: {role} {name} is not a column of the table")

    def _check_distribution(self) -> None:
        if self.diststyle is not None and self.diststyle not in DIST_STYLES:
            raise ValueError(
                f"table {self.qualified_name}: unknown diststyle {self.diststyle!r}; valid: {', '.join(DIST_STYLES)}"
            )
        if self.distkey is None:
            if self.diststyle == "key":
                raise ValueError(f"table {self.qualified_name}: diststyle key needs a distkey")
            return
        if self.diststyle not in (None, "key"):
            raise ValueError(
                f"table {self.qualified_name}: a distkey needs diststyle key (or none), not {self.diststyle}"
            )
        if self._known_column(self.distkey, "distkey").type == "json":
            raise ValueError(f"table {self.qualified_name}: distkey {self.distkey} is SUPER (json)")

    def _check_sortkey(self) -> None:
        if self.sortstyle not in SORT_STYLES:
            raise ValueError(
                f"table {self.qualified_name}: unknown sortstyle {self.sortstyle!r}; valid: {', '.join(SORT_STYLES)}"
            )
        if len(set(self.sortkey)) != len(self.sortkey):
            raise ValueError(f"table {self.qualified_name}: sortkey repeats a column")
        for name in self.sortkey:
            if self._known_column(name, "sortkey column").type == "json":
                raise ValueError(f"table {self.qualified_name}: sortkey column {name} is SUPER (json)")
        limit = MAX_INTERLEAVED_SORTKEY_COLUMNS if self.sortstyle == "interleaved" else MAX_COMPOUND_SORTKEY_COLUMNS
        if len(self.sortkey) > limit:
            raise ValueError(f"table {self.qualified_name}: {self.sortstyle} sort keys allow at most {limit} columns")

    def _check_load(self) -> None:
        if self.load_mode not in LOAD_MODES:
            raise ValueError(
                f"table {self.qualified_name}: unknown load mode {self.load_mode!r}; valid: {', '.join(LOAD_MODES)}"
            )
        if self.load_mode == "merge" and not self.keys:
            raise ValueError(f"table {self.qualified_name}: load mode merge needs keys")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"table {self.qualified_name}: keys repeat a column")
        for name in self.keys:
            if self._known_column(name, "key", declared_only=True).type == "json":
                raise ValueError(f"table {self.qualified_name}: key {name} is SUPER (json)")
        if self.order_by is not None:
            self._known_column(self.order_by, "order_by", declared_only=True)
