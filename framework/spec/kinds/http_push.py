"""`type: http_push`: systems POST records to an API Gateway endpoint; valid batches land as JSONL."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from framework.spec.kinds.buffer import MicroBatchSource
from framework.spec.models import StrictModel

_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")


class HttpPushConfig(StrictModel):
    path: str = Field(description="Resource path of the endpoint that accepts POSTed records.",
                      examples=["/ingest/sensor-readings"])
    auth: Literal["api_key", "iam"] = Field(
        "api_key", description="api_key: callers send x-api-key (usage plan); iam: SigV4-signed requests.")
    max_body_bytes: int = Field(1_048_576, ge=1, le=6_000_000,
                                description="Larger request bodies are refused with 413 (Lambda allows 6 MB).")

    @field_validator("path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError("path must start with '/' and hold only letters, digits, '.', '_', '-' and '/', "
                             "e.g. '/ingest/readings'")
        return value


class HttpPushSource(MicroBatchSource):
    LANDS_JSONL = "an http_push source lands the records it accepts as JSON lines: set schema.type: jsonl"
    type: Literal["http_push"]
    config: HttpPushConfig
