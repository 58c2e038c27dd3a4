"""Checking one JSON record against a source's typed columns, with the Glue job's rules (stdlib only)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from framework.runtime.paths import lookup

_INTEGER = re.compile(r"^[+-]?\d+$")
INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


def value_at(record: dict[str, Any], path: str) -> Any:
    """The value at a column's source path (`metadata.location`; see framework.runtime.paths), or None when
    any step is missing. Object keys only, as the Glue job reads it."""
    return lookup(record, path, None, positions=False)


def record_errors(record: Any, columns: list[dict[str, Any]]) -> list[str]:
    """Every rule the record breaks, as `rule: column ...` texts (empty when it would load)."""
    if not isinstance(record, dict):
        return [f"malformed: a record must be a JSON object, not {type(record).__name__}"]
    errors = []
    for column in columns:
        value = value_at(record, column["source"])
        if value is None or value == "":
            if not column["nullable"]:
                errors.append(f"not_null: {column['name']}")
            continue
        problem = type_problem(value, column)
        if problem:
            errors.append(problem)
    return errors


def type_problem(value: Any, column: dict[str, Any]) -> str | None:
    kind, name = column["type"], column["name"]
    if kind == "json":
        return None
    if kind == "string":
        text = value if isinstance(value, str) else str(value)
        limit = column.get("max_length") or 256
        return f"max_length: {name} exceeds {limit} bytes" if len(text.encode()) > limit else None
    if _casts(value, column):
        return None
    wanted = f"decimal({column['precision']},{column['scale']})" if kind == "decimal" else kind
    return f"cast: {name} value {value!r} is not {wanted}"


def _casts(value: Any, column: dict[str, Any]) -> bool:
    kind = column["type"]
    if kind == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false"))
    if isinstance(value, bool):
        return False
    if kind in INT_RANGES:
        text = str(value) if isinstance(value, int) else value if isinstance(value, str) else ""
        low, high = INT_RANGES[kind]
        return bool(_INTEGER.match(text)) and low <= int(text) <= high
    if kind in ("double", "decimal"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return False
        if not number.is_finite():
            return kind == "double"
        if kind == "decimal":
            whole_digits = number.adjusted() + 1  # digits left of the point; extra fraction digits round
            return whole_digits <= column["precision"] - column["scale"]
        return True
    if not isinstance(value, str):
        return False
    try:
        if kind == "date":
            date.fromisoformat(value)
        else:  # timestamp, timestamptz
            datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return False
    return True
