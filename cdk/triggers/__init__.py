"""Triggers: one function per `connector.trigger.kind` of the manifest, registered by name.

A trigger function receives a `TriggerContext` and adds whatever makes events reach the connector
Lambda (a rule, a subscription, an event source mapping, an API). To support a new source kind:

1. have `framework/render/manifest.py` write its trigger as `{"kind": "<name>", ...settings}`;
2. add `cdk/triggers/<name>.py` with `@register("<name>") def <name>_trigger(context): ...`;
3. import the module below, and add a source of that kind to the template tests.

Planned kinds and what they need: `ses` (email: an SES receipt rule storing to the raw
bucket, then the S3 trigger), `stream` (Kinesis or Kafka: an event source mapping with
ReportBatchItemFailures, bisect on error and an on-failure destination), `http` (http_push: an API
Gateway REST API with an API key and usage plan, or IAM auth, in front of the connector).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs


@dataclass(frozen=True)
class TriggerContext:
    """What a trigger function gets: the source's stack, its manifest trigger block and its connector."""

    stack: Stack
    source: str
    prefix: str  # deploy.yaml prefix; lake bucket names derive from it (onboard_cdk.access.bucket_name)
    trigger: Mapping[str, Any]
    function: lambda_.IFunction
    dead_letter_queue: sqs.IQueue
    key: kms.IKey | None = None  # the platform key, for anything the trigger must encrypt (log groups)
    log_retention: logs.RetentionDays | None = None


TriggerBuilder = Callable[[TriggerContext], None]
TRIGGERS: dict[str, TriggerBuilder] = {}


def register(kind: str) -> Callable[[TriggerBuilder], TriggerBuilder]:
    def add(builder: TriggerBuilder) -> TriggerBuilder:
        TRIGGERS[kind] = builder
        return builder

    return add


def add_trigger(context: TriggerContext) -> None:
    kind = context.trigger["kind"]
    if kind not in TRIGGERS:
        known = ", ".join(sorted(TRIGGERS))
        raise ValueError(f"no trigger for kind '{kind}' (source {context.source}); known: {known}")
    TRIGGERS[kind](context)


from onboard_cdk.triggers import (  # noqa: E402,F401  (each module registers its kind)
    http_endpoint,
    s3_objects,
    schedule,
    ses_inbox,
    stream_mapping,
)
