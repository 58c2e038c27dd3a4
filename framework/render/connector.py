"""connector/handler.py and connector/config.json: the Lambda that lands a source's input."""

from __future__ import annotations

from typing import Any

from framework.render.templates import render
from framework.runtime.lake import ZONE_BUCKETS
from framework.spec import ResolvedSource

# Kinds whose connector checks each record against the columns before accepting it.
VALIDATING_CONNECTORS = ("http_push",)


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
    if source.kind in VALIDATING_CONNECTORS:
        config["columns"] = [{"name": c.name, "source": c.source, "type": c.type, "nullable": c.nullable,
                              "max_length": c.max_length, "precision": c.precision, "scale": c.scale}
                             for c in source.columns]
    return config


def handler_py(source: ResolvedSource) -> str:
    return render("handler.py.j2", source.file, name=source.name, kind=source.kind)
