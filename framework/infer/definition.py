"""The inferred source definition as YAML text, with comments that say what was inferred from what."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from framework.infer.columns import InferredColumn, column_name, infer_column
from framework.infer.sample import Sample

SOURCE_TYPES = ("s3_file", "email", "stream", "http_push", "rest_api")
_PLAIN = re.compile(r"^[A-Za-z_$@/][A-Za-z0-9_ .\-/@$()]*$")
_KEY_TYPES = ("integer", "bigint", "string")
_MOMENTS = ("date", "timestamp", "timestamptz")
_KEY_NAME = re.compile(r"(^|_)(id|key|code|no|number|uuid|guid)$")


def scalar(value: Any) -> str:
    """A YAML flow scalar that reads back as `value` (plain when that is safe, else quoted)."""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value).lower() if isinstance(value, bool) else str(value)
    text = str(value)
    for candidate in (text, "'" + text.replace("'", "''") + "'"):
        if candidate == text and not (_PLAIN.match(text) and not text.endswith(" ")):
            continue
        try:
            if yaml.safe_load(f"k: {candidate}") == {"k": text}:
                return candidate
        except yaml.YAMLError:
            continue
    import json

    return json.dumps(text)


def infer_columns(sample: Sample) -> list[InferredColumn]:
    taken: set[str] = set()
    return [infer_column(item, column_name(item.source, taken)) for item in sample.fields]


def merge_key(columns: Sequence[InferredColumn], rows: int) -> InferredColumn | None:
    """The first column named like a key (id, *_id, *_key, *_code, *_no, *_number, uuid) whose sample values
    are all present and distinct."""
    if rows < 2:
        return None
    candidates = [c for c in columns if c.unique and c.type in _KEY_TYPES]
    named = [c for c in candidates if _KEY_NAME.search(c.name)]
    return named[0] if named else None


def _column_line(column: InferredColumn, key: InferredColumn | None, case_folded: bool) -> str:
    """One flow-style column; `case_folded`: headers are matched in any case (CSV, XLSX), so no source."""
    type_text = column.type
    if column.type == "decimal":
        type_text = f"decimal({column.precision},{column.scale})"
    elif column.type == "string" and column.max_length:
        type_text = f"string({column.max_length})"
    parts = [f"name: {column.name}", f"type: {scalar(type_text)}"]
    if not column.nullable:
        parts.append("nullable: false")
    if column.format:
        parts.append("format: '" + column.format.replace("'", "''") + "'")
    if column.source != column.name and not (case_folded and column.source.strip().casefold() == column.name):
        parts.append(f"source: {scalar(column.source)}")
    notes = [column.note] if column.note else []
    if column is key:
        notes.append("unique in the sample")
    return "      - {" + ", ".join(parts) + "}" + (f"  # {'; '.join(notes)}" if notes else "")


def _config_lines(name: str, kind: str, sample: Sample, extras: dict[str, Any]) -> list[str]:
    extension = {"csv": "csv", "json": "json", "jsonl": "jsonl", "parquet": "parquet", "xlsx": "xlsx"}[
        sample.schema["type"]] + (".gz" if sample.compressed else "")
    if kind == "s3_file":
        return ["  config:", f"    prefix: incoming/{name}/"]
    if kind == "email":
        return ["  config:",
                f"    recipients: [{name.replace('_', '-')}@data.example.com]  # the address SES receives: change it",
                f"    attachment_pattern: {scalar('*.' + extension)}",
                "    allowed_senders: []  # empty: any sender; list the senders' address globs"]
    if kind == "stream":
        return ["  config:", "    kind: kinesis", f"    stream_name: {name.replace('_', '-')}  # the stream's name: "
                "check it"]
    if kind == "http_push":
        return ["  config:", f"    path: /ingest/{name.replace('_', '-')}", "    auth: api_key"]
    lines = ["  config:", f"    endpoint: {scalar(extras['endpoint'])}"]
    if extras.get("headers"):
        lines.append("    headers:")
        lines += [f"      {scalar(k)}: {scalar(v)}" for k, v in extras["headers"].items()]
    if extras.get("params"):
        lines.append("    params:")
        lines += [f"      {scalar(k)}: {scalar(v)}" for k, v in extras["params"].items()]
    lines.append("    schedule: rate(1 hour)  # how often to fetch: change it")
    pagination = extras.get("pagination")
    if pagination:
        lines.append(f"  pagination:  # {extras['pagination_note']}")
        lines += [f"    {k}: {scalar(v)}" for k, v in pagination.items()]
    return lines


def definition_text(name: str, kind: str, sample: Sample, origin: str, *, schema: str = "public",
                    example_input: str | None = None, extras: dict[str, Any] | None = None) -> str:
    """The whole `sources/<name>.yaml`; `origin` names the sample in the header comment."""
    columns = infer_columns(sample)
    key = merge_key(columns, sample.rows)
    sortkey = next((c for c in columns if c.type in _MOMENTS), None)
    lines = [f"# Inferred by `onboard new` from {origin}: {sample.rows} row(s) read.",
             *[f"# {note}." for note in sample.notes],
             "# Types, nullable: false (no empty value in the sample) and max_length (the longest value x"
             " 1.5, rounded up)",
             "# come from the sample only: review them before you commit this file.",
             "source:", f"  name: {name}", f"  type: {kind}"]
    if example_input:
        lines.append(f"  example_input: {scalar(example_input)}")
    lines += _config_lines(name, kind, sample, extras or {})
    lines += ["  schema:", *[f"    {k}: {scalar(v)}" for k, v in sample.schema.items()], "    columns:"]
    folded = sample.schema["type"] in ("csv", "xlsx")
    lines += [_column_line(c, key, folded) for c in columns]
    lines += ["  redshift:", f"    schema: {schema}", f"    table: {name}"]
    if sortkey:
        lines.append(f"    sortkey: {sortkey.name}  # the first date or timestamp column")
    if key:
        lines.append(f"    load: {{mode: merge, keys: [{key.name}]}}  # suggested: {key.name} is unique and "
                     f"non-null in the {sample.rows} sample rows; append if it is not the key")
    return "\n".join(lines) + "\n"
