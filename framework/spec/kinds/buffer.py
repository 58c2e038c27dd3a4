"""The stream and http_push kinds land micro-batches of JSON lines; `buffer:` is how long and how much they
wait to be loaded.

Each connector invocation lands a micro-batch and marks it pending in the run ledger; one state machine
execution (one Glue run, one load) then takes every pending micro-batch of the source, when the schedule fires
(`seconds`) or as soon as pending data passes `megabytes`, whichever comes first.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator

from framework.spec.models import SourceBase, StrictModel, jsonl_by_default


class Buffer(StrictModel):
    seconds: int = Field(300, ge=60, le=86400, description="How often pending micro-batches are transformed and "
                         "loaded together (an EventBridge schedule: a whole number of minutes, 60 to 86400).")
    megabytes: int = Field(64, ge=1, le=1024, description="Pending raw data that starts a load before the "
                           "schedule does.")

    @field_validator("seconds")
    @classmethod
    def _whole_minutes(cls, value: int) -> int:
        if value % 60:
            raise ValueError(f"{value} is not a whole number of minutes (EventBridge schedules count minutes): "
                             f"use {max(60, value // 60 * 60)} or {value // 60 * 60 + 60}")
        return value


class MicroBatchSource(SourceBase):
    """A source kind whose connector lands each delivery as a micro-batch of JSON lines, loaded together."""

    LANDS_JSONL: ClassVar[str]  # the error when schema.type is set to something else
    buffer: Buffer = Field(default_factory=Buffer, description="Micro-batches are loaded together: every pending one "
                           "at once, on this schedule or past this size.")

    @model_validator(mode="before")
    @classmethod
    def _jsonl_by_default(cls, data: object) -> object:
        return jsonl_by_default(data)

    @model_validator(mode="after")
    def _lands_jsonl(self) -> Self:
        if self.schema_.type != "jsonl":
            raise ValueError(self.LANDS_JSONL)
        return self
