"""Readers per input format. Every reader returns the same "raw record" frame:

- ``__file`` (int): position of the record's file in the input list, ``__row`` (long): order in the file;
- ``__v0 .. __vN`` (string): the value of each configured column, as text (all leaves read as strings);
- ``__record`` (string): the original text of a record the parser could not read, else null;
- ``__malformed`` (string): the quarantine reason for such a record, else null.

Corrupt records are captured with ``columnNameOfCorruptRecord`` in PERMISSIVE mode and never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from onboard_glue.config import ColumnSpec, FormatSpec, Path
from onboard_glue.header import check_header, header_position, normal_name
from onboard_glue.lake_fs import InputFile, LakeFS

FILE_COL = "__file"
ROW_COL = "__row"
RECORD_COL = "__record"
MALFORMED_COL = "__malformed"
HEADER_PROBE_BYTES = 1 << 20
INFER_SAMPLE_BYTES = 2 << 20  # JSONL: how much of the input (in records, sampled uniformly) shows its fields
SAMPLE_WINDOWS = 64  # JSONL read directly: the sample is this many evenly spaced ranges of the input
# A CSV line read by line that holds an open quote: its record had a quoted line break the head did not show.
# Internal: the job reads the CSV again whole (multiLine) when any record gets it, so it never reaches a summary.
CSV_SPLIT_REASON = "malformed: CSV record cut at a quoted line break"
# Encodings Spark's CSV line reader decodes line by line as multiLine does (ASCII-compatible, one byte per LF).
LINE_MODE_ENCODINGS = frozenset({"utf-8", "ascii", "iso8859-1", "cp1252", "iso8859-15"})


def value_col(index: int) -> str:
    return f"__v{index}"


def quoted(name: str) -> Column:
    """A top-level column by exact name (dots and spaces are part of the name)."""
    return F.col("`" + name.replace("`", "``") + "`")


def read_records(
    spark: SparkSession, lake: LakeFS, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile],
    csv_by_line: bool = True,
) -> DataFrame:
    """The raw record frame (see module doc) of ``files`` read as ``fmt``. ``csv_by_line``: a CSV file whose
    head holds no quoted line break is read line by line (splittable); False reads every CSV file whole."""
    if not files:
        return _empty(spark, columns)
    if fmt.type == "csv":
        return _read_csv(spark, lake, fmt, columns, files, csv_by_line)
    if fmt.type == "jsonl":
        return _read_json_lines(spark, fmt, columns, files)
    if fmt.type == "json":
        return _read_json_documents(spark, fmt, columns, files)
    if fmt.type == "parquet":
        return _read_parquet(spark, columns, files)
    if fmt.type == "xlsx":
        from onboard_glue.read_xlsx import read_xlsx

        return read_xlsx(spark, lake, fmt, columns, files, _empty(spark, columns))
    raise ValueError(f"unsupported format {fmt.type!r}")


def unmapped_fields(
    spark: SparkSession, lake: LakeFS, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile]
) -> list[str]:
    """Top-level fields of the input that no column maps (ignored by the job; reported in its summary).

    CSV: header names (free: the headers are read anyway). Parquet: the footers' schema. JSON: the keys
    Spark's schema inference finds; over ``INFER_SAMPLE_BYTES``, the records of top-level arrays in the first
    bytes of the documents (`_sampled_document_keys`). JSONL: the same over a uniform sample of about
    ``INFER_SAMPLE_BYTES`` of records (inferring over every line would cost a third of the job), read directly,
    local or on S3 (`_sampled_json_keys`). xlsx and header-less CSV: none."""
    if not files or fmt.type == "xlsx" or (fmt.type == "csv" and not fmt.header):
        return []
    paths = [f.read_path for f in files]
    if fmt.type == "csv":
        wanted = {normal_name(c.source) for c in columns}
        seen = {name for f in files for name in _csv_header(lake, f, fmt)}
        return sorted(name for name in seen - wanted if name)
    wanted = {segments[0] for c in columns for segments in c.readings}
    sampled = _sampled_json_keys(lake, fmt, files) if fmt.type == "jsonl" else None
    if fmt.type == "json":
        sampled = _sampled_document_keys(lake, fmt, files)
    if fmt.type == "parquet":
        names = spark.read.parquet(*paths).schema.fieldNames()
    elif sampled is not None:
        names = sorted(sampled)
    else:
        reader = spark.read.option("multiLine", fmt.type == "json")
        total = sum(f.size for f in files)
        if fmt.type == "jsonl" and total > INFER_SAMPLE_BYTES:  # compressed sizes under-count: fine for a sample
            reader = reader.option("samplingRatio", INFER_SAMPLE_BYTES / total)
        if codecs.lookup(fmt.encoding).name != "utf-8":
            reader = reader.option("encoding", fmt.encoding).option("lineSep", "\n")
        schema: T.DataType = reader.json(paths).schema
        if fmt.type == "json" and fmt.records_path:
            schema = next((found for segments in fmt.records_path
                           if isinstance(found := _records_type(schema, segments), T.StructType)), None)
        names = schema.fieldNames() if isinstance(schema, T.StructType) else []
    return sorted(n for n in names if n not in wanted and n != "_corrupt_record")


def _records_type(schema: T.DataType, segments: tuple[str, ...]) -> T.DataType | None:
    """The element type of the array at ``segments`` in an inferred schema (None when it is not there)."""
    for part in segments:
        found = schema[part].dataType if isinstance(schema, T.StructType) and part in schema.fieldNames() else None
        schema = found.elementType if isinstance(found, T.ArrayType) else found  # type: ignore[assignment]
    return schema


def _sampled_document_keys(lake: LakeFS, fmt: FormatSpec, files: Sequence[InputFile]) -> set[str] | None:
    """Top-level keys of the records at the start of JSON documents that are arrays of records, read directly:
    about ``INFER_SAMPLE_BYTES`` in all, the first bytes of each document (of evenly chosen ones when there are
    many), parsed element by element until the cut. Spark's inference instead reads every document whole: for a
    large batch that was a full extra read of the input.

    None, for Spark to infer, when the input is small, not UTF-8, has a ``records_path`` (the records sit inside
    an object) or no sampled document starts an array of records."""
    total = sum(f.size for f in files)
    if total <= INFER_SAMPLE_BYTES or fmt.records_path or codecs.lookup(fmt.encoding).name != "utf-8":
        return None
    share = max(INFER_SAMPLE_BYTES // len(files), 64 << 10)
    count = max(1, min(len(files), INFER_SAMPLE_BYTES // share))
    chosen = [files[i * len(files) // count] for i in range(count)]
    keys: set[str] = set()
    records = 0
    decoder = json.JSONDecoder()
    for file in chosen:
        text = lake.head(file.read_path, share).decode("utf-8", errors="ignore").lstrip("\ufeff")
        position = len(text) - len(text.lstrip())
        if not text.startswith("[", position):
            continue
        position += 1
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            try:
                value, position = decoder.raw_decode(text, position)
            except ValueError:  # the cut, the closing bracket, or text Spark would call malformed
                break
            if isinstance(value, dict):
                keys.update(value)
                records += 1
    return keys if records else None


def _sampled_json_keys(lake: LakeFS, fmt: FormatSpec, files: Sequence[InputFile]) -> set[str] | None:
    """Top-level keys of the JSON records in a sample of lines read directly (`LakeFS.sample_input_lines`):
    on 240 MB of JSONL 0.03 s, where a Spark job that splits every line to sample some took 0.3 s (and on S3
    reads every byte of the input to keep 2 MB of it; the direct sample makes about 64 ranged reads).

    None, for Spark's sampling to decide, when the files are not UTF-8 or no sampled line was a record.
    A line Python's json does not read is left out of the sample (Spark's reader also
    takes single-quoted strings; the job itself reads every line with Spark)."""
    if codecs.lookup(fmt.encoding).name != "utf-8":
        return None
    lines = lake.sample_input_lines(list(files), INFER_SAMPLE_BYTES, SAMPLE_WINDOWS)
    keys: set[str] = set()
    records = 0
    for line in lines or []:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        for record in value if isinstance(value, list) else [value]:  # a line may hold an array of records
            if isinstance(record, dict):
                keys.update(record)
                records += 1
    return keys if records else None


def _empty(spark: SparkSession, columns: Sequence[ColumnSpec]) -> DataFrame:
    fields = [T.StructField(FILE_COL, T.IntegerType()), T.StructField(ROW_COL, T.LongType())]
    fields += [T.StructField(value_col(i), T.StringType()) for i in range(len(columns))]
    fields += [T.StructField(RECORD_COL, T.StringType()), T.StructField(MALFORMED_COL, T.StringType())]
    return spark.createDataFrame([], T.StructType(fields))


def _file_index(files: Sequence[InputFile], scanned: Sequence[InputFile]) -> Column:
    """Each record's position in ``files`` (the input order), from the path Spark reports for it.
    Spark writes ``file:/x`` where Hadoop writes ``file:///x``: both are compared without scheme."""
    position = {f.key: i for i, f in enumerate(files)}
    if len(scanned) == 1:
        return F.lit(position[scanned[0].key])
    pairs = [item for f in scanned for item in (F.lit(f.key), F.lit(position[f.key]))]
    path = F.col("_metadata.file_path")
    key = F.regexp_replace(path, "^[a-zA-Z][a-zA-Z0-9+.-]*:(//)?", "")
    unknown = F.raise_error(F.concat(F.lit("onboard_glue: input file not in the input list: "), path))
    return F.coalesce(F.create_map(*pairs)[key], unknown.cast("int"))


def _standard(
    df: DataFrame,
    file_index: Column,
    values: Sequence[Column],
    record: Column,
    malformed: Column,
) -> DataFrame:
    """Project a scan onto the raw record frame; ``__row`` follows the scan's order within a file."""
    return df.select(
        file_index.cast("int").alias(FILE_COL),
        F.monotonically_increasing_id().alias(ROW_COL),
        *[v.cast("string").alias(value_col(i)) for i, v in enumerate(values)],
        record.cast("string").alias(RECORD_COL),
        malformed.alias(MALFORMED_COL),
    )


# --------------------------------------------------------------------------------------------- CSV


def _read_csv(
    spark: SparkSession, lake: LakeFS, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile],
    by_line: bool = True,
) -> DataFrame:
    # Files are grouped by header so each group is one scan whose schema is as wide as its header:
    # Spark flags a record as corrupt when its field count differs from the schema's width.
    groups: dict[tuple[tuple[str, ...], bool], list[InputFile]] = {}
    for file in files:
        head = _csv_head_text(lake, file, fmt)
        header = _header_of(head, fmt) if fmt.header else tuple(c.name for c in columns)
        if header:  # an empty file has no header and no records
            line_mode = by_line and _splittable(head, fmt, len(header))
            groups.setdefault((header, line_mode), []).append(file)
    frames = []
    for (header, line_mode), group in groups.items():
        if fmt.header:
            positions = [header_position(header, column.source) for column in columns]
            check_header(group[0].read_path.rsplit("/", 1)[-1], header, columns, positions, fmt.allow_missing_columns)
        else:
            positions = list(range(len(columns)))
        frames.append(_read_csv_group(spark, fmt, files, group, len(header), positions, line_mode))
    if not frames:
        return _empty(spark, columns)
    return reduce(DataFrame.unionByName, frames)


def _read_csv_group(
    spark: SparkSession,
    fmt: FormatSpec,
    all_files: Sequence[InputFile],
    group: Sequence[InputFile],
    width: int,
    positions: Sequence[int | None],
    line_mode: bool = False,
) -> DataFrame:
    # Measured on Spark 3.5: with CSV column pruning on (the default), PERMISSIVE reading takes records with
    # too few or too many fields as good ones; pruning is turned off for the run (session.RUN_CONF), which
    # keeps the field-count check in both modes; tests/glue pin both directions.
    # multiLine reads a file as one task (Spark cannot split it); line mode splits a large file over every core
    # but would cut a quoted line break: see `_splittable` and `CSV_SPLIT_REASON`.
    schema = T.StructType(
        [T.StructField(f"c{i}", T.StringType()) for i in range(width)] + [T.StructField(RECORD_COL, T.StringType())]
    )
    df = (
        spark.read.schema(schema)
        .option("header", fmt.header)
        .option("enforceSchema", True)
        .option("sep", fmt.delimiter)
        .option("quote", fmt.quote)
        .option("escape", fmt.escape)
        .option("encoding", fmt.encoding)
        # multiLine: quoted newlines stay inside their field; it also honours any encoding.
        .option("multiLine", not line_mode)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", RECORD_COL)
        .csv([f.read_path for f in group])
    )
    values = []
    for position in positions:
        if position is None:  # not in this file's header: an optional column not sent
            values.append(F.lit(None))
        elif position == 0 and not fmt.header:  # the first field of the file may carry a BOM
            values.append(F.regexp_replace(F.col("c0"), "^\ufeff", ""))
        else:
            values.append(F.col(f"c{position}"))
    record = F.regexp_replace(quoted(RECORD_COL), "^\ufeff", "")
    malformed = F.when(
        record.isNotNull(),
        F.concat(
            F.lit("malformed: CSV record has "),
            _csv_field_count(record, fmt).cast("string"),
            F.lit(f" fields, expected {width}"),
        ),
    )
    if line_mode:  # a line with an open quote is part of a record cut at a quoted line break
        malformed = F.when(record.isNotNull() & (_csv_quote_count(record, fmt) % 2 == 1),
                           F.lit(CSV_SPLIT_REASON)).otherwise(malformed)
    return _standard(df, _file_index(all_files, group), values, record, malformed)


def _csv_field_count(record: Column, fmt: FormatSpec) -> Column:
    """Fields in a raw CSV record: delimiters outside quoted sections, plus one (linear time)."""
    text = record
    if fmt.escape != fmt.quote:
        text = F.regexp_replace(text, "(?s)" + _java_literal(fmt.escape) + ".", "")
    q = _java_literal(fmt.quote)
    text = F.regexp_replace(text, f"{q}[^{q}]*{q}", "")
    return F.size(F.split(text, _java_literal(fmt.delimiter), -1))


def _csv_quote_count(record: Column, fmt: FormatSpec) -> Column:
    """Quote characters of a raw CSV line that are not escaped (a doubled quote counts two: even)."""
    text = record
    if fmt.escape != fmt.quote:
        text = F.regexp_replace(text, "(?s)" + _java_literal(fmt.escape) + ".", "")
    return F.length(text) - F.length(F.regexp_replace(text, _java_literal(fmt.quote), ""))


def _splittable(head: str, fmt: FormatSpec, width: int) -> bool:
    """Whether a CSV file may be read line by line, judged from its head: no quoted line break there, an
    encoding Spark's line reader decodes per line, a one-character delimiter, and more than one column.

    The head cannot show a quoted line break further down. Read by line, such a record becomes lines of which at
    least one is malformed (its field count is wrong, as a record of more than one column cut in two always gives)
    with an odd number of quotes: such lines get `CSV_SPLIT_REASON`, and the job then reads the CSV again whole
    (`run_job`). A one-column file could be cut into lines that both look whole, so it is always read whole."""
    if width < 2 or len(fmt.delimiter) != 1 or codecs.lookup(fmt.encoding).name not in LINE_MODE_ENCODINGS:
        return False
    if fmt.quote not in head:
        return True
    escape = None if fmt.escape == fmt.quote else fmt.escape
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=fmt.delimiter, quotechar=fmt.quote,
                        escapechar=escape, doublequote=escape is None)
    try:
        return not any("\n" in field or "\r" in field for row in reader for field in row)
    except csv.Error:
        return False


def _java_literal(text: str) -> str:
    """Escape ``text`` for a Java regex (a backslash before a non-alphanumeric is always literal)."""
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in text)


def _csv_header(lake: LakeFS, file: InputFile, fmt: FormatSpec) -> tuple[str, ...]:
    """The file's header names, normalised (BOM stripped, trimmed, case-folded)."""
    return _header_of(_csv_head_text(lake, file, fmt), fmt)


def _csv_head_text(lake: LakeFS, file: InputFile, fmt: FormatSpec) -> str:
    """The first ``HEADER_PROBE_BYTES`` of a CSV file, decoded, without a BOM."""
    try:
        codec = codecs.lookup(fmt.encoding).name
    except LookupError as exc:
        raise ValueError(f"format.encoding {fmt.encoding!r} is not a known encoding") from exc
    text = lake.head(file.read_path, HEADER_PROBE_BYTES).decode(codec, errors="replace")
    return text.lstrip("\ufeff")


def _header_of(text: str, fmt: FormatSpec) -> tuple[str, ...]:
    if len(fmt.delimiter) == 1:
        escape = None if fmt.escape == fmt.quote else fmt.escape
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=fmt.delimiter,
            quotechar=fmt.quote,
            escapechar=escape,
            doublequote=escape is None,
        )
        first = next((row for row in reader if row), [])
    else:
        first = next((line.split(fmt.delimiter) for line in text.splitlines() if line), [])
    return tuple(normal_name(name) for name in first)


# -------------------------------------------------------------------------------------------- JSON


def _json_tree(columns: Sequence[ColumnSpec]) -> dict:
    """Nested dict of every reading of the columns' paths; a leaf is None."""
    tree: dict = {}
    for column in columns:
        for segments in column.readings:
            node = tree
            *parents, leaf = segments
            for part in parents:
                node = node.setdefault(part, {})
                if node is None:
                    raise ValueError(f"columns.{column.name}: source {column.source!r} nests inside a leaf")
            if isinstance(node.get(leaf), dict):
                raise ValueError(f"columns.{column.name}: source {column.source!r} is also a parent path")
            node[leaf] = None
    return tree


def _json_struct(tree: dict, leaf: T.DataType | None = None) -> T.StructType:
    """The struct of ``tree``; a leaf is a string (JSON values read as text) or ``leaf``."""
    return T.StructType([
        T.StructField(name, (leaf or T.StringType()) if sub is None else _json_struct(sub, leaf))
        for name, sub in tree.items()
    ])


def _leaf(root: Column | None, segments: tuple[str, ...]) -> Column:
    node = quoted(segments[0]) if root is None else root.getField(segments[0])
    for part in segments[1:]:
        node = node.getField(part)
    return node


def _value(root: Column | None, path: Path) -> Column:
    """The value at the first reading of ``path`` that is present (the literal key before the nested one)."""
    values = [_leaf(root, segments) for segments in path]
    return values[0] if len(values) == 1 else F.coalesce(*values)


def _json_reader(spark: SparkSession, fmt: FormatSpec, schema: T.StructType, multi_line: bool):
    reader = (
        spark.read.schema(schema)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", RECORD_COL)
        .option("multiLine", multi_line)
    )
    if codecs.lookup(fmt.encoding).name != "utf-8":
        reader = reader.option("encoding", fmt.encoding).option("lineSep", "\n")
    return reader


def _read_json_lines(
    spark: SparkSession, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile]
) -> DataFrame:
    record_struct = _json_struct(_json_tree(columns))
    schema = T.StructType([*record_struct.fields, T.StructField(RECORD_COL, T.StringType())])
    df = _json_reader(spark, fmt, schema, multi_line=False).json([f.read_path for f in files])
    malformed = F.when(quoted(RECORD_COL).isNotNull(), F.lit("malformed: invalid JSON record"))
    values = [_value(None, c.readings) for c in columns]
    return _standard(df, _file_index(files, files), values, quoted(RECORD_COL), malformed)


def _read_json_documents(
    spark: SparkSession, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile]
) -> DataFrame:
    """Each file is one document; a file with text after its document is one malformed record.

    Spark's multiLine reader stops at the end of the first JSON value and ignores what follows, so the
    documents are checked separately (`_trailing_text`) and such a file's records are replaced by its text.
    """
    records = _json_document_records(spark, fmt, columns, files)
    bad = _documents_with_trailing_text(spark, fmt, files)
    bad_record = bad.select(
        F.col(FILE_COL),
        F.lit(0).cast("long").alias(ROW_COL),
        *[F.lit(None).cast("string").alias(value_col(i)) for i in range(len(columns))],
        F.col(RECORD_COL),
        F.lit("malformed: invalid JSON document").alias(MALFORMED_COL),
    )
    kept = records.join(F.broadcast(bad.select(FILE_COL)), FILE_COL, "left_anti")
    return kept.unionByName(bad_record)


def _documents_with_trailing_text(spark: SparkSession, fmt: FormatSpec, files: Sequence[InputFile]) -> DataFrame:
    """`__file`, `__record` (the whole text) of each file whose text is not exactly one JSON value.

    `json_array_length` (JVM, streaming) counts the elements of ``[<text>]`` up to the first closing bracket;
    exactly one JSON value gives 1 for ``[<text>]`` and 3 for ``[<text>,0,0]``. Text after the value either
    fails to parse, adds elements (``, {...}``), or closes the array early (``] ...``), which the sentinel
    elements of the second count expose. Blank files are left to the reader (they hold no records).
    """
    text = spark.read.text([f.read_path for f in files], wholetext=True)
    value = F.col("value")
    if codecs.lookup(fmt.encoding).name != "utf-8":  # the text source keeps the bytes as they are
        value = F.decode(value.cast("binary"), fmt.encoding)
    one_value = (F.json_array_length(F.concat(F.lit("["), value, F.lit("\n]"))) == 1) & (
        F.json_array_length(F.concat(F.lit("["), value, F.lit("\n,0,0]"))) == 3
    )
    return text.select(_file_index(files, files).cast("int").alias(FILE_COL), value.alias(RECORD_COL)).where(
        ~F.coalesce(one_value, F.lit(False)) & F.col(RECORD_COL).rlike("\\S")
    )


def _json_document_records(
    spark: SparkSession, fmt: FormatSpec, columns: Sequence[ColumnSpec], files: Sequence[InputFile]
) -> DataFrame:
    record_struct = _json_struct(_json_tree(columns))
    malformed = F.when(quoted(RECORD_COL).isNotNull(), F.lit("malformed: invalid JSON document"))
    paths = [f.read_path for f in files]
    if not fmt.records_path:  # an array of records (or a single object)
        schema = T.StructType([*record_struct.fields, T.StructField(RECORD_COL, T.StringType())])
        df = _json_reader(spark, fmt, schema, multi_line=True).json(paths)
        values = [_value(None, c.readings) for c in columns]
        return _standard(df, _file_index(files, files), values, quoted(RECORD_COL), malformed)
    # An object whose records sit at records_path: read that array (at each reading), then one row per element.
    records_tree = _json_tree([ColumnSpec("records_path", "records_path", "json", path=fmt.records_path)])
    nested = _json_struct(records_tree, leaf=T.ArrayType(record_struct))
    schema = T.StructType([*nested.fields, T.StructField(RECORD_COL, T.StringType())])
    df = _json_reader(spark, fmt, schema, multi_line=True).json(paths)
    exploded = df.select(
        _file_index(files, files).alias("__doc_file"),
        quoted(RECORD_COL).alias(RECORD_COL),
        F.posexplode_outer(_value(None, fmt.records_path)).alias("__pos", "__rec"),
    ).where(F.col("__pos").isNotNull() | quoted(RECORD_COL).isNotNull())
    return exploded.select(
        F.col("__doc_file").cast("int").alias(FILE_COL),
        F.coalesce(F.col("__pos"), F.lit(0)).cast("long").alias(ROW_COL),
        *[_value(F.col("__rec"), c.readings).cast("string").alias(value_col(i)) for i, c in enumerate(columns)],
        quoted(RECORD_COL).alias(RECORD_COL),
        malformed.alias(MALFORMED_COL),
    )


# ----------------------------------------------------------------------------------------- Parquet


def _read_parquet(spark: SparkSession, columns: Sequence[ColumnSpec], files: Sequence[InputFile]) -> DataFrame:
    df = spark.read.option("mergeSchema", len(files) > 1).parquet(*[f.read_path for f in files])
    values = [_parquet_value(df.schema, c.readings) for c in columns]
    return _standard(df, _file_index(files, files), values, F.lit(None), F.lit(None).cast("string"))


def _parquet_value(schema: T.StructType, path: Path) -> Column:
    """The value at the first reading of ``path`` the files' schema has (names matched case-insensitively)
    as text; null when none is there."""
    for segments in path:
        value = _parquet_leaf(schema, segments)
        if value is not None:
            return value
    return F.lit(None)


def _parquet_leaf(schema: T.StructType, segments: tuple[str, ...]) -> Column | None:
    """The value at ``segments`` as text, or None when the schema does not have it."""
    node: Column | None = None
    data_type: T.DataType = schema
    for part in segments:
        if not isinstance(data_type, T.StructType):
            return None
        field = next((f for f in data_type.fields if f.name.casefold() == part.casefold()), None)
        if field is None:
            return None
        node = quoted(field.name) if node is None else node.getField(field.name)
        data_type = field.dataType
    if isinstance(data_type, T.StructType | T.ArrayType | T.MapType):
        return F.to_json(node)
    return node.cast("string")
