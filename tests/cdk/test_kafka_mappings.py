"""Kafka stream sources synthesized through `onboard synth` (cdk-nag AwsSolutions + cfn-lint): an MSK topic in
provisioned mode and a self-managed cluster on demand, with their event source mappings and IAM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from tests.cdk import cfn

pytestmark = pytest.mark.slow
CLUSTER = f"arn:aws:kafka:{cfn.REGION}:{cfn.ACCOUNT}:cluster/iot-events/5a1e0c3b-7d2f-4b8e-9c1d-2e3f4a5b6c7d-3"
SOURCE = """\
source:
  name: {name}
  type: stream
  config:
    kind: kafka
    topic: {topic}
{config}
  schema:
    type: jsonl
    columns:
      - {{name: device_id, type: string(64), nullable: false}}
      - {{name: temperature, type: double}}
  redshift:
    schema: iot
    table: {name}
"""
MSK = f"""\
    cluster_arn: {CLUSTER}
    batch_size: 250
    batch_window_seconds: 20
    starting_position: TRIM_HORIZON
    pollers: {{minimum: 1, maximum: 3}}
    max_retries: 4"""
SELF_MANAGED = """\
    bootstrap_servers: [broker-1.kafka.example.com:9096, broker-2.kafka.example.com:9096]
    consumer_group_id: onboard-plant-readings
    auth: {method: sasl_scram_512, secret: '${SECRET:plant_kafka_client}', root_ca_secret: '${SECRET:plant_kafka_ca}'}
    vpc: {subnet_ids: [subnet-0a1b2c3d4e5f60718, subnet-0f1e2d3c4b5a69788], security_group_ids: [sg-0123456789abcdef0]}
    batch_size: 500"""
PUBLIC_BROKERS = """\
    bootstrap_servers: ['kafka.partner.example.net:9094']
    auth: {method: mtls, secret: '${SECRET:partner_kafka_cert}'}"""


@pytest.fixture(scope="module")
def kafka_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from framework.project import Project
    from framework.render import render_project, write_generated
    from framework.spec import load_project

    root = tmp_path_factory.mktemp("kafka")
    (root / "sources").mkdir()
    for name, topic, config in (("msk_readings", "sensor-readings", MSK),
                                ("plant_readings", "plant.readings.v1", SELF_MANAGED),
                                ("partner_readings", "partner-readings", PUBLIC_BROKERS)):
        (root / "sources" / f"{name}.yaml").write_text(SOURCE.format(name=name, topic=topic, config=config))
    shutil.copytree(Path(__file__).resolve().parents[2] / "schemas", root / "schemas")
    project = Project.at(root)
    write_generated(project, render_project(load_project(project)))
    outdir = root / "cdk.out"
    result = CliRunner().invoke(main, ["--project", str(root), "synth", "--out", str(outdir)])
    assert result.exit_code == 0, result.output  # cdk-nag AwsSolutions and cfn-lint are clean
    return outdir


def mapping_of(template: dict) -> dict:
    [mapping] = cfn.resources(template, "AWS::Lambda::EventSourceMapping").values()
    mapping.pop("Tags", None)
    return mapping


def ids(template: dict) -> tuple[str, str]:
    connector = next(k for k, f in cfn.resources(template, "AWS::Lambda::Function").items()
                     if f["FunctionName"].endswith("-land"))
    return connector, next(iter(cfn.resources(template, "AWS::SQS::Queue")))


def test_msk_mapping_is_provisioned_with_bounded_retries_bisect_and_an_on_failure_queue(kafka_assembly):
    template = cfn.load(kafka_assembly, "Source-msk_readings")
    connector, queue = ids(template)
    assert mapping_of(template) == {
        "FunctionName": f"<{connector}>", "EventSourceArn": CLUSTER, "Topics": ["sensor-readings"],
        "AmazonManagedKafkaEventSourceConfig": {"ConsumerGroupId": "onboard-msk_readings"},
        "BatchSize": 250, "MaximumBatchingWindowInSeconds": 20, "StartingPosition": "TRIM_HORIZON",
        "ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 3},
        "MaximumRetryAttempts": 4, "MaximumRecordAgeInSeconds": 86400, "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": f"<{queue}.Arn>"}}}


def test_msk_access_is_scoped_to_the_cluster_its_topic_and_its_consumer_group(kafka_assembly):
    template = cfn.load(kafka_assembly, "Source-msk_readings")
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("ConnectorRole"))
    base = CLUSTER.replace(":cluster/", ":{}/")
    topic, group = base.format("topic") + "/sensor-readings", base.format("group") + "/onboard-msk_readings"
    granted = {(a, r) for s in access.statements[role] for a in cfn._listify(s["Action"])
               for r in cfn._listify(s["Resource"]) if a.startswith("kafka")}
    assert granted == {("kafka:DescribeClusterV2", CLUSTER), ("kafka:GetBootstrapBrokers", CLUSTER),
                       ("kafka-cluster:Connect", CLUSTER), ("kafka-cluster:DescribeClusterDynamicConfiguration", CLUSTER),
                       ("kafka-cluster:DescribeTopic", topic), ("kafka-cluster:ReadData", topic),
                       ("kafka-cluster:AlterGroup", group), ("kafka-cluster:DescribeGroup", group)}
    other_topic = base.format("topic") + "/payments"
    assert not access.allows(role, "kafka-cluster:ReadData", other_topic)
    assert not access.allows(role, "kafka-cluster:WriteData", topic)
    assert not access.allows(role, "kafka-cluster:AlterGroup", base.format("group") + "/someone-else")
    assert access.allows(role, "sqs:SendMessage", f"<{ids(template)[1]}.Arn>")  # the on-failure destination
    assert access.allows(role, "ec2:CreateNetworkInterface", "*")  # the poller's network interfaces (nag-acknowledged)
    assert not [p for p in cfn.resources(template, "AWS::IAM::Role").values() if p.get("ManagedPolicyArns")]


def test_self_managed_mapping_names_brokers_secrets_subnets_and_security_groups(kafka_assembly):
    template = cfn.load(kafka_assembly, "Source-plant_readings")
    connector, queue = ids(template)
    secret = f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:"
    assert mapping_of(template) == {
        "FunctionName": f"<{connector}>", "Topics": ["plant.readings.v1"],
        "SelfManagedEventSource": {"Endpoints": {"KafkaBootstrapServers": [
            "broker-1.kafka.example.com:9096", "broker-2.kafka.example.com:9096"]}},
        "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "onboard-plant-readings"},
        "SourceAccessConfigurations": [
            {"Type": "SASL_SCRAM_512_AUTH", "URI": secret + "plant_kafka_client"},
            {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": secret + "plant_kafka_ca"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0a1b2c3d4e5f60718"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0f1e2d3c4b5a69788"},
            {"Type": "VPC_SECURITY_GROUP", "URI": "security_group:sg-0123456789abcdef0"}],
        "BatchSize": 500, "MaximumBatchingWindowInSeconds": 5, "StartingPosition": "LATEST",
        "DestinationConfig": {"OnFailure": {"Destination": f"<{queue}.Arn>"}}}
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("ConnectorRole"))
    for name in ("plant_kafka_client", "plant_kafka_ca"):  # Lambda reads them as the function's role
        assert access.allows(role, "secretsmanager:GetSecretValue", f"{secret}{name}-AbCdEf")
    assert not access.allows(role, "secretsmanager:GetSecretValue", f"{secret}other-AbCdEf")
    assert access.allows(role, "ec2:CreateNetworkInterface", "*")
    assert not any(a.startswith("kafka") for s in access.statements[role] for a in cfn._listify(s["Action"]))


def test_public_self_managed_brokers_need_no_network_permissions(kafka_assembly):
    template = cfn.load(kafka_assembly, "Source-partner_readings")
    mapping = mapping_of(template)
    assert mapping["SourceAccessConfigurations"] == [
        {"Type": "CLIENT_CERTIFICATE_TLS_AUTH",
         "URI": f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:partner_kafka_cert"}]
    assert mapping["SelfManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "onboard-partner_readings"}
    access = cfn.Access.of(template)
    role = next(r for r in access.roles() if r.startswith("ConnectorRole"))
    assert not any(a.startswith("ec2:") for s in access.statements[role] for a in cfn._listify(s["Action"]))


def test_the_manifest_carries_the_kafka_settings_the_trigger_reads(kafka_assembly):
    manifest = json.loads((kafka_assembly.parent / "generated/plant_readings/manifest.json").read_text())
    trigger = manifest["connector"]["trigger"]
    assert (trigger["kind"], trigger["stream"], trigger["cluster_arn"], trigger["pollers"]) == (
        "stream", "kafka", None, None)
    assert trigger["auth"] == {"method": "sasl_scram_512", "secret": "${SECRET:plant_kafka_client}",
                               "root_ca_secret": "${SECRET:plant_kafka_ca}"}
    assert manifest["secrets"] == ["plant_kafka_ca", "plant_kafka_client"]
