"""`schedule`: an EventBridge rule invokes the connector on the source's `rate(...)` or `cron(...)` schedule
(rest_api sources). Failed invocations go to the connector's dead-letter queue; a missed tick is not
retried for long, since the next tick fetches from the same stored state."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets

from onboard_cdk.triggers import TriggerContext, register


@register("schedule")
def schedule_trigger(context: TriggerContext) -> None:
    rule = events.Rule(context.stack, "Schedule", description=f"Scheduled fetch of source {context.source}",
                       schedule=events.Schedule.expression(context.trigger["expression"]))
    rule.add_target(targets.LambdaFunction(
        context.function, dead_letter_queue=context.dead_letter_queue, retry_attempts=2,
        max_event_age=Duration.hours(1)))
