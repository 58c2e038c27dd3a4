"""connector/handler.py and connector/config.json: the Lambda that lands a source's input."""

from __future__ import annotations

from typing import Any

from framework.render.templates import render
from framework.runtime.lake import ZONE_BUCKETS
from framework.spec import ResolvedSource

# Kinds whose connector checks each record against the columns before accepting it.
VALIDATING_CONNECTORS = ("http_push",)
# Kinds whose micro-batches wait in the run ledger and are loaded together (`buffer:`).
BUFFERED_CONNECTORS = ("http_push", "stream")


def connector_config(source: ResolvedSource) -> dict[str, Any]:
    """Everything the runtime connector needs; `${...}` references stay unresolved (no secrets)."""
    d = source.definition
    config = {
        "source": source.name,
        "type": source.kind,
        "format": d.schema_.type,
        "raw_bucket": ZONE_BUCKETS["raw"],
        "config": d.config.model_dump(mode="json", by_alias=True),  # type: ignore[attr-defined]
    }
    if source.kind == "rest_api":
        config.update(_rest_api_settings(d))
    if source.kind in BUFFERED_CONNECTORS:
        config["buffer"] = d.buffer.model_dump(mode="json")  # type: ignore[attr-defined]
    if source.kind in VALIDATING_CONNECTORS:
        config["columns"] = [{"name": c.name, "source": c.source, "type": c.type, "nullable": c.nullable,
                              "max_length": c.max_length, "precision": c.precision, "scale": c.scale}
                             for c in source.columns]
    return config


def _rest_api_settings(d: Any) -> dict[str, Any]:
    """The optional blocks of a rest_api source, with their defaults filled in."""
    dump = {name: (getattr(d, name).model_dump(mode="json") if getattr(d, name) is not None else None)
            for name in ("auth", "pagination", "incremental", "retry")}
    return {"records_path": d.schema_.records_path, **dump}


def uses_ledger(source: ResolvedSource) -> bool:
    """Whether the connector reads and writes the run ledger (incremental state)."""
    return getattr(source.definition, "incremental", None) is not None


def handler_py(source: ResolvedSource) -> str:
    return render("handler.py.j2", source.file, name=source.name, kind=source.kind)
