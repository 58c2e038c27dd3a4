"""`buffer:` of the stream and http_push kinds: how long and how much their micro-batches wait to be loaded.

Each connector invocation lands a micro-batch and marks it pending in the run ledger; one state machine
execution (one Glue run, one load) then takes every pending micro-batch of the source, when the schedule fires
(`seconds`) or as soon as pending data passes `megabytes`, whichever comes first.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from framework.spec.models import StrictModel


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
