"""`type: s3_file`: objects uploaded under a prefix of a lake bucket."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from framework.spec.models import SourceBase, StrictModel


class S3FileConfig(StrictModel):
    bucket: str = Field("${BUCKET:raw}", description="Bucket the files are uploaded to.")
    prefix: str = Field(description="Key prefix watched for new objects; ends with '/'.",
                        examples=["incoming/airports/"])
    suffix: str | None = Field(None, description="Only keys ending with this (e.g. '.csv') trigger a load.")

    @field_validator("prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not value.endswith("/") or value.startswith("/"):
            raise ValueError("prefix must end with '/' and not start with '/', e.g. 'incoming/airports/'")
        return value


class S3FileSource(SourceBase):
    type: Literal["s3_file"]
    config: S3FileConfig
