"""`stream`: an event source mapping from the source's Kinesis stream or MSK topic to the connector.

Batch size and window come from the YAML; failing batches are bisected and retried a bounded number of
times, then described to the connector's dead-letter queue (the on-failure destination). Kinesis mappings
report partial batch failures, so one undecodable record does not fail its neighbours.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources

from onboard_cdk.nag import acknowledge
from onboard_cdk.triggers import TriggerContext, register

DLQ_KEY_REASON = ("The on-failure destination is the connector's KMS-encrypted dead-letter queue: sending to it "
                  "needs the data-key actions CDK grants on that one key.")


@register("stream")
def stream_trigger(context: TriggerContext) -> None:
    trigger = context.trigger
    position = lambda_.StartingPosition[trigger["starting_position"]]
    window = Duration.seconds(trigger["batch_window_seconds"])
    on_failure = sources.SqsDlq(context.dead_letter_queue)
    if trigger["stream"] == "kinesis":
        stream = kinesis.Stream.from_stream_arn(
            context.stack, "Stream",
            f"arn:{Aws.PARTITION}:kinesis:{Aws.REGION}:{Aws.ACCOUNT_ID}:stream/{trigger['stream_name']}")
        context.function.add_event_source(sources.KinesisEventSource(
            stream, starting_position=position, batch_size=trigger["batch_size"], max_batching_window=window,
            bisect_batch_on_error=True, retry_attempts=trigger["max_retries"], report_batch_item_failures=True,
            max_record_age=Duration.days(1), on_failure=on_failure))
        policy = context.function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
        for finding in ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"):
            acknowledge(policy, "IAM5", DLQ_KEY_REASON, finding)
    else:
        context.function.add_event_source(sources.ManagedKafkaEventSource(
            cluster_arn=trigger["cluster_arn"], topic=trigger["topic"], starting_position=position,
            batch_size=trigger["batch_size"], max_batching_window=window))
