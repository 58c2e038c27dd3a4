"""The Lambda entry point every generated `connector/handler.py` binds to its config.json."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from framework.runtime.connectors import connector_for

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def make_handler(config_path: str | os.PathLike[str], **connector_args: Any) -> Callable[..., dict[str, Any]]:
    """A Lambda handler for the connector described by `config_path` (read once, at cold start)."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))

    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        connector = connector_for(config, **connector_args)
        batches = connector.handle(event, context)
        for batch in batches:
            if os.environ.get("ONBOARD_STATE_MACHINE_ARN"):
                from framework.runtime.orchestration import start_pipeline

                if batch.status == "landed":  # quarantined, duplicate or pending input: no pipeline to run
                    start_pipeline(batch)
            # Only now does the source's state move past this batch: a failure before this point
            # leaves it where it was, so the next run fetches the batch again (at-least-once, no gaps).
            connector.commit(batch)
        return connector.respond(batches)

    return handler
