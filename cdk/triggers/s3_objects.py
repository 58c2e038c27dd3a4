"""`s3`: objects created under the source's prefix of a lake bucket invoke the connector.

S3 delivers the "Object Created" events through EventBridge (the raw bucket has EventBridge notifications
on), so sources on one bucket never contend for its single notification configuration, overlapping
prefixes are allowed, and the rule lives in the source's own stack.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets

from onboard_cdk.access import bucket_name, zone_of
from onboard_cdk.lake_buckets import BUCKETS
from onboard_cdk.triggers import TriggerContext, register


def key_pattern(prefix: str, suffix: str | None) -> dict[str, str]:
    """An EventBridge key filter: `prefix`, or a wildcard when a suffix must also match."""
    if not suffix:
        return {"prefix": prefix}
    escape = str.maketrans({"*": "\\*", "\\": "\\\\"})
    return {"wildcard": f"{prefix.translate(escape)}*{suffix.translate(escape)}"}


@register("s3")
def s3_trigger(context: TriggerContext) -> None:
    trigger = context.trigger
    bucket = bucket_name(context.prefix, zone_of(trigger["bucket"], BUCKETS))
    rule = events.Rule(
        context.stack, "ObjectCreated", description=f"New objects for source {context.source}",
        event_pattern=events.EventPattern(
            source=["aws.s3"], detail_type=["Object Created"],
            detail={"bucket": {"name": [bucket]},
                    "object": {"key": [key_pattern(trigger["prefix"], trigger.get("suffix"))]}}))
    rule.add_target(targets.LambdaFunction(
        context.function, dead_letter_queue=context.dead_letter_queue, retry_attempts=8,
        max_event_age=Duration.hours(6)))
