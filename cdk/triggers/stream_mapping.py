"""`stream`: an event source mapping from the source's Kinesis stream or Kafka topic to the connector.

Batch size and window come from the YAML; failing batches are bisected and retried a bounded number of
times, then described to the connector's dead-letter queue (the on-failure destination). The mappings
report partial batch failures, so one undecodable record does not fail its neighbours. Kafka mappings do
all of this only in provisioned mode (`pollers`); on demand they keep the on-failure destination only.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
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
    if trigger["stream"] == "kinesis":
        kinesis_mapping(context)
    else:
        kafka_mapping(context)
    policy = context.function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
    for finding in ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"):
        acknowledge(policy, "IAM5", DLQ_KEY_REASON, finding)


def kinesis_mapping(context: TriggerContext) -> None:
    trigger = context.trigger
    stream = kinesis.Stream.from_stream_arn(
        context.stack, "Stream",
        f"arn:{Aws.PARTITION}:kinesis:{Aws.REGION}:{Aws.ACCOUNT_ID}:stream/{trigger['stream_name']}")
    context.function.add_event_source(sources.KinesisEventSource(
        stream, starting_position=lambda_.StartingPosition[trigger["starting_position"]],
        batch_size=trigger["batch_size"], max_batching_window=Duration.seconds(trigger["batch_window_seconds"]),
        bisect_batch_on_error=True, retry_attempts=trigger["max_retries"], report_batch_item_failures=True,
        max_record_age=Duration.days(1), on_failure=sources.SqsDlq(context.dead_letter_queue)))


def kafka_mapping(context: TriggerContext) -> None:
    """An MSK (`cluster_arn`) or self-managed (`bootstrap_servers`) Kafka mapping.

    Both send what they give up on to the dead-letter queue (Kafka mappings take SQS, SNS, S3 or Kafka
    destinations). Bounded retries, a record age limit, bisect on error and partial batch responses exist for
    Kafka only in provisioned mode, so they are set when the source has `pollers`; on demand, Lambda retries a
    failing batch until its records expire from the topic."""
    trigger = context.trigger
    group = trigger.get("consumer_group_id") or f"{context.prefix}-{context.source}"
    options: dict[str, Any] = {
        "kafka_topic": trigger["topic"], "kafka_consumer_group_id": group,
        "starting_position": lambda_.StartingPosition[trigger["starting_position"]],
        "batch_size": trigger["batch_size"], "max_batching_window": Duration.seconds(trigger["batch_window_seconds"]),
        "on_failure": sources.SqsDlq(context.dead_letter_queue)}
    pollers = trigger.get("pollers")
    if pollers:
        options.update(
            provisioned_poller_config=lambda_.ProvisionedPollerConfig(
                minimum_pollers=pollers["minimum"], maximum_pollers=pollers["maximum"]),
            retry_attempts=trigger["max_retries"], max_record_age=Duration.days(1), bisect_batch_on_error=True,
            report_batch_item_failures=True)
    if trigger.get("cluster_arn"):
        options["event_source_arn"] = trigger["cluster_arn"]
        for statement in msk_statements(trigger["cluster_arn"], trigger["topic"], group):
            context.function.add_to_role_policy(statement)
        network = True
    else:
        options["kafka_bootstrap_servers"] = list(trigger["bootstrap_servers"])
        options["source_access_configurations"] = self_managed_access(trigger.get("auth"), trigger.get("vpc"))
        network = bool(trigger.get("vpc"))
    context.function.add_event_source_mapping("KafkaTopic", **options)
    if network:
        context.function.add_to_role_policy(iam.PolicyStatement(actions=list(NETWORK_ACTIONS), resources=["*"]))
        policy = context.function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
        acknowledge(policy, "IAM5", NETWORK_REASON, "Resource::*")


# What Lambda's Kafka poller needs in the brokers' VPC: it places network interfaces there as the function's role.
# The Describe actions support no resource scoping; Create/DeleteNetworkInterface name subnets and security
# groups Lambda picks at run time (AWS's AWSLambdaMSKExecutionRole grants the same on *).
NETWORK_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
                   "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")
NETWORK_REASON = ("The Kafka event source mapping creates and describes network interfaces in the brokers' VPC as "
                  "the function's role; EC2's Describe actions cannot be scoped to resources.")


def kafka_arn(cluster_arn: str, kind: str, name: str) -> str:
    """The ARN of a topic or group of an MSK cluster: `...:cluster/NAME/UUID` -> `...:<kind>/NAME/UUID/<name>`."""
    head, _, cluster = cluster_arn.partition(":cluster/")
    return f"{head}:{kind}/{cluster}/{name}"


def msk_statements(cluster_arn: str, topic: str, group: str) -> list[iam.PolicyStatement]:
    """Reading one topic of one MSK cluster with IAM as one consumer group, and nothing else."""
    return [
        iam.PolicyStatement(actions=["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], resources=[cluster_arn]),
        iam.PolicyStatement(actions=["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"],
                            resources=[cluster_arn]),
        iam.PolicyStatement(actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                            resources=[kafka_arn(cluster_arn, "topic", topic)]),
        iam.PolicyStatement(actions=["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                            resources=[kafka_arn(cluster_arn, "group", group)]),
    ]


AUTH_TYPES = {"sasl_scram_512": lambda_.SourceAccessConfigurationType.SASL_SCRAM_512_AUTH,
              "sasl_scram_256": lambda_.SourceAccessConfigurationType.SASL_SCRAM_256_AUTH,
              "basic": lambda_.SourceAccessConfigurationType.BASIC_AUTH,
              "mtls": lambda_.SourceAccessConfigurationType.CLIENT_CERTIFICATE_TLS_AUTH}


def secret_arn(reference: str) -> str:
    """`${SECRET:name}` as the secret's ARN without Secrets Manager's random suffix (what Lambda accepts);
    the connector's role may read it (the manifest lists the secret, `onboard_cdk.access.secret_statement`)."""
    name = reference.removeprefix("${SECRET:").removesuffix("}")
    return f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{name}"


def self_managed_access(auth: dict[str, Any] | None,
                        vpc: dict[str, Any] | None) -> list[lambda_.SourceAccessConfiguration]:
    """The credentials' secrets, then the subnets and security groups in Lambda's `subnet:ID` and
    `security_group:ID` URI forms."""
    found = []
    if auth:
        found.append(lambda_.SourceAccessConfiguration(type=AUTH_TYPES[auth["method"]], uri=secret_arn(auth["secret"])))
        if auth.get("root_ca_secret"):
            found.append(lambda_.SourceAccessConfiguration(
                type=lambda_.SourceAccessConfigurationType.SERVER_ROOT_CA_CERTIFICATE,
                uri=secret_arn(auth["root_ca_secret"])))
    for subnet in (vpc or {}).get("subnet_ids", []):
        found.append(lambda_.SourceAccessConfiguration(type=lambda_.SourceAccessConfigurationType.VPC_SUBNET,
                                                       uri=f"subnet:{subnet}"))
    for group in (vpc or {}).get("security_group_ids", []):
        found.append(lambda_.SourceAccessConfiguration(
            type=lambda_.SourceAccessConfigurationType.VPC_SECURITY_GROUP, uri=f"security_group:{group}"))
    return found
