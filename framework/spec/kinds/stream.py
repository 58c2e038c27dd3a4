"""`type: stream`: records read from a Kinesis data stream or a Kafka topic (Amazon MSK) in micro-batches."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from framework.spec.models import SourceBase, StrictModel


class StreamConfig(StrictModel):
    kind: Literal["kinesis", "kafka"] = Field(description="kinesis: a Kinesis data stream; kafka: an MSK topic.")
    stream_name: str | None = Field(None, description="Kinesis: the stream's name (in the deployed account).")
    topic: str | None = Field(None, description="Kafka: the topic to read.")
    cluster_arn: str | None = Field(None, description="Kafka: the MSK cluster's ARN.")
    batch_size: int = Field(100, ge=1, le=10000, description="Most records per connector invocation.")
    batch_window_seconds: int = Field(
        5, ge=0, le=300, description="How long the event source mapping gathers records before invoking.")
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = Field(
        "LATEST", description="Where a new mapping starts reading.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a failing batch (bisected) before the "
                             "on-failure destination gets it.")

    @model_validator(mode="after")
    def _kind_settings(self) -> StreamConfig:
        if self.kind == "kinesis" and (self.stream_name is None or self.topic or self.cluster_arn):
            raise ValueError("kind kinesis needs stream_name (and no topic or cluster_arn)")
        if self.kind == "kafka" and (not self.topic or not self.cluster_arn or self.stream_name):
            raise ValueError("kind kafka needs topic and cluster_arn (and no stream_name)")
        return self


class StreamSource(SourceBase):
    type: Literal["stream"]
    config: StreamConfig

    @model_validator(mode="after")
    def _lands_jsonl(self) -> StreamSource:
        if self.schema_.type != "jsonl":
            raise ValueError("a stream source lands its records as JSON lines: set schema.type: jsonl")
        return self
