"""`type: stream`: records read from a Kinesis data stream or a Kafka topic in micro-batches.

Kafka is either an Amazon MSK cluster (`cluster_arn`, read with IAM) or a self-managed cluster
(`bootstrap_servers`, with `auth` from Secrets Manager and, when the brokers are private, `vpc`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from framework.spec.kinds.buffer import MicroBatchSource
from framework.spec.models import StrictModel

_HOST_PORT = re.compile(r"^(?=.{1,253}:)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:([0-9]{1,5})$")
_MSK_CLUSTER_ARN = re.compile(r"^arn:aws(-[a-z]+)*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9-]+/[A-Za-z0-9-]+$")
_SECRET_REFERENCE = re.compile(r"^\$\{SECRET:[A-Za-z0-9/_+=.@-]{1,512}\}$")


def _host_port(server: str) -> str:
    match = _HOST_PORT.match(server)
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise ValueError(f"'{server}' is not host:port (e.g. broker-1.kafka.example.com:9096)")
    return server


def _resource_id(kind: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(rf"{kind}-[0-9a-f]{{8,17}}", value):
            raise ValueError(f"'{value}' is not a {kind} id (e.g. {kind}-0a1b2c3d4e5f60718)")
        return value
    return AfterValidator(check)


HostPort = Annotated[str, AfterValidator(_host_port)]
SubnetId = Annotated[str, _resource_id("subnet")]
SecurityGroupId = Annotated[str, _resource_id("sg")]


def _secret_reference(value: str | None, example: str) -> str | None:
    if value is not None and not _SECRET_REFERENCE.match(value):
        raise ValueError(f"give the Secrets Manager secret as a reference, e.g. {example}")
    return value


class KafkaAuth(StrictModel):
    """How Lambda signs in to self-managed brokers; the credentials stay in Secrets Manager."""

    method: Literal["sasl_scram_512", "sasl_scram_256", "basic", "mtls"] = Field(
        "sasl_scram_512", description="sasl_scram_512/256 and basic: the secret holds username and password; "
                                      "mtls: the secret holds the client certificate and private key (PEM).")
    secret: str = Field(description="The credentials' secret, as a reference.", examples=["${SECRET:kafka_client}"])
    root_ca_secret: str | None = Field(
        None, description="The brokers' root CA certificate (PEM), when a private CA signed it.",
        examples=["${SECRET:kafka_root_ca}"])

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        return _secret_reference(value, "secret: ${SECRET:kafka_client}")  # type: ignore[return-value]

    @field_validator("root_ca_secret")
    @classmethod
    def _root_ca(cls, value: str | None) -> str | None:
        return _secret_reference(value, "root_ca_secret: ${SECRET:kafka_root_ca}")


class KafkaVpc(StrictModel):
    """Where Lambda reaches private self-managed brokers from: subnets and security groups of their VPC."""

    subnet_ids: list[SubnetId] = Field(min_length=1, description="Subnets that can reach the brokers.",
                                  examples=[["subnet-0a1b2c3d4e5f60718"]])
    security_group_ids: list[SecurityGroupId] = Field(min_length=1, description="Security groups the brokers admit.",
                                          examples=[["sg-0a1b2c3d4e5f60718"]])


class Pollers(StrictModel):
    """Provisioned mode: Lambda keeps between minimum and maximum event pollers for the mapping (billed per
    poller hour). Kafka mappings bound retries and record age, and split failing batches, only in this mode."""

    minimum: int = Field(1, ge=1, le=200, description="Pollers always provisioned.")
    maximum: int = Field(2, ge=1, le=2000, description="Most pollers Lambda scales to.")

    @model_validator(mode="after")
    def _ordered(self) -> Pollers:
        if self.minimum > self.maximum:
            raise ValueError(f"minimum ({self.minimum}) is above maximum ({self.maximum})")
        return self


class StreamConfig(StrictModel):
    kind: Literal["kinesis", "kafka"] = Field(description="kinesis: a Kinesis data stream; kafka: a Kafka topic, "
                                                          "on Amazon MSK or self-managed.")
    stream_name: str | None = Field(None, description="Kinesis: the stream's name (in the deployed account).")
    topic: str | None = Field(None, description="Kafka: the topic to read.")
    cluster_arn: str | None = Field(None, description="Kafka on Amazon MSK: the cluster's ARN.",
                                    examples=["arn:aws:kafka:eu-west-1:123456789012:cluster/iot/5a1e0c3b-7d2f-4b8e"])
    bootstrap_servers: list[HostPort] | None = Field(
        None, min_length=1, description="Self-managed Kafka: brokers as host:port.",
        examples=[["broker-1.kafka.example.com:9096", "broker-2.kafka.example.com:9096"]])
    auth: KafkaAuth | None = Field(None, description="Self-managed Kafka: how Lambda authenticates to the brokers.")
    vpc: KafkaVpc | None = Field(None, description="Self-managed Kafka in a VPC: where Lambda reaches it from.")
    consumer_group_id: str | None = Field(
        None, pattern=r"^[a-zA-Z0-9/*:_+=.@-]{1,200}$",
        description="Kafka: the consumer group (default <deploy prefix>-<source name>).")
    pollers: Pollers | None = Field(None, description="Kafka: provisioned mode (see Pollers); without it the "
                                                      "mapping is on-demand and retries until a record expires.")
    batch_size: int = Field(100, ge=1, le=10000, description="Most records per connector invocation.")
    batch_window_seconds: int = Field(
        5, ge=0, le=300, description="How long the event source mapping gathers records before invoking.")
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = Field(
        "LATEST", description="Where a new mapping starts reading.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a failing batch (bisected) before the "
                             "on-failure destination gets it (Kafka: with pollers only).")

    @field_validator("cluster_arn")
    @classmethod
    def _msk_arn(cls, value: str | None) -> str | None:
        if value is not None and not _MSK_CLUSTER_ARN.match(value):
            raise ValueError(f"'{value}' is not an MSK cluster ARN "
                             "(arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)")
        return value

    @model_validator(mode="after")
    def _kind_settings(self) -> StreamConfig:
        kafka_only = [name for name in ("topic", "cluster_arn", "bootstrap_servers", "auth", "vpc",
                                        "consumer_group_id", "pollers") if getattr(self, name) is not None]
        if self.kind == "kinesis" and self.stream_name is None:
            raise ValueError("kind kinesis needs stream_name")
        if self.kind == "kinesis" and kafka_only:
            raise ValueError("kind kinesis takes no Kafka settings: " + ", ".join(kafka_only))
        if self.kind == "kafka":
            if not self.topic or self.stream_name:
                raise ValueError("kind kafka needs topic (and no stream_name)")
            if (self.cluster_arn is None) == (self.bootstrap_servers is None):
                raise ValueError("kind kafka needs exactly one of cluster_arn (Amazon MSK) or bootstrap_servers "
                                 "(self-managed Kafka)")
            if self.cluster_arn and (self.auth or self.vpc):
                raise ValueError("auth and vpc apply to bootstrap_servers: Lambda reads an MSK cluster with IAM, in "
                                 "the cluster's own VPC")
            if self.pollers is None and "max_retries" in self.model_fields_set:
                raise ValueError("max_retries needs pollers for kind kafka: an on-demand Kafka mapping retries a "
                                 "failing batch until its records expire")
        return self


class StreamSource(MicroBatchSource):
    LANDS_JSONL = "a stream source lands its records as JSON lines: set schema.type: jsonl"
    type: Literal["stream"]
    config: StreamConfig
