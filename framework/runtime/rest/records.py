"""The records of one response body (paths into it: framework.runtime.paths)."""

from __future__ import annotations

from typing import Any

from framework.runtime.paths import MISSING, lookup

__all__ = ["MISSING", "RecordsError", "lookup", "records_of"]


class RecordsError(ValueError):
    """A response whose records are not where the source definition says."""


def records_of(body: Any, records_path: str | None, where: str) -> list[Any]:
    """The list of records in `body` (`records_path` empty: the body is the list); null counts as empty."""
    if not records_path:
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            raise RecordsError(f"the response from {where} is an object, not a list of records: set "
                               f"schema.records_path to the key holding them (keys: {_keys(body)})")
        raise RecordsError(f"the response from {where} is not a list of records")
    found = lookup(body, records_path, positions=False)  # the Glue job reads the same path: keys only
    if found is MISSING:
        keys = f" (keys: {_keys(body)})" if isinstance(body, dict) else ""
        raise RecordsError(f"records_path '{records_path}' is not in the response from {where}{keys}")
    if found is None:
        return []
    if not isinstance(found, list):
        raise RecordsError(f"records_path '{records_path}' in the response from {where} is a "
                           f"{type(found).__name__}, not a list")
    return found


def _keys(body: dict[str, Any]) -> str:
    names = list(body)[:10]
    return ", ".join(names) + (", ..." if len(body) > 10 else "")
