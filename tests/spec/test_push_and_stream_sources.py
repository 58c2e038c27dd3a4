"""The http_push and stream kinds' configs: positioned errors for what cannot work."""

from __future__ import annotations

import pytest

from framework.spec import SpecErrors, load_project
from tests.conftest import write_source

MSK_ARN = "arn:aws:kafka:eu-west-1:123456789012:cluster/iot/5a1e0c3b-7d2f-4b8e"
BASE = """
source:
  name: readings
  type: {kind}
  config:
{config}
  schema:
    type: jsonl
    columns:
      - {{name: device_id, type: string}}
  redshift:
    schema: iot
    table: readings
"""


def errors(project, kind: str, config: str, schema_type: str = "jsonl") -> list[str]:
    write_source(project, "x.yaml", BASE.format(kind=kind, config=config).replace("type: jsonl", f"type: {schema_type}"))
    with pytest.raises(SpecErrors) as caught:
        load_project(project)
    return [str(e) for e in caught.value.errors]


def test_valid_push_and_stream_sources_load(project):
    write_source(project, "a.yaml", BASE.format(kind="http_push", config="    path: /ingest/readings"))
    write_source(project, "b.yaml", BASE.format(kind="stream", config="    kind: kafka\n    topic: readings\n"
                                                "    cluster_arn: " + MSK_ARN)
                 .replace("name: readings", "name: readings_kafka").replace("table: readings", "table: r2"))
    assert sorted(s.kind for s in load_project(project)) == ["http_push", "stream"]


@pytest.mark.parametrize("kind, config, schema_type, message", [
    ("http_push", "    path: ingest", "jsonl",
     "sources/x.yaml:5:11: source.config.path: path must start with '/' and hold only letters, digits, '.', '_', "
     "'-' and '/', e.g. '/ingest/readings'"),
    ("http_push", "    path: /in\n    max_body_bytes: 7000000", "jsonl",
     "sources/x.yaml:6:21: source.config.max_body_bytes: 7000000 is out of range; at most 6000000"),
    ("http_push", "    path: /in", "csv",
     "sources/x.yaml:2:3: source: an http_push source lands the records it accepts as JSON lines: set "
     "schema.type: jsonl"),
    ("stream", "    kind: kinesis\n    topic: t", "jsonl",
     "sources/x.yaml:5:5: source.config: kind kinesis needs stream_name"),
    ("stream", "    kind: kinesis\n    stream_name: s\n    topic: t\n    pollers: {minimum: 1}", "jsonl",
     "sources/x.yaml:5:5: source.config: kind kinesis takes no Kafka settings: topic, pollers"),
    ("stream", "    kind: kafka\n    cluster_arn: " + MSK_ARN, "jsonl",
     "sources/x.yaml:5:5: source.config: kind kafka needs topic (and no stream_name)"),
    ("stream", "    kind: kinesis\n    stream_name: s\n    batch_size: 0", "jsonl",
     "sources/x.yaml:7:17: source.config.batch_size: 0 is out of range; at least 1"),
])
def test_config_errors_are_positioned(project, kind, config, schema_type, message):
    assert errors(project, kind, config, schema_type) == [message]


def kafka(config: str) -> str:
    return "    kind: kafka\n    topic: sensor-readings\n" + config


@pytest.mark.parametrize("config, message", [
    ("", "sources/x.yaml:5:5: source.config: kind kafka needs exactly one of cluster_arn (Amazon MSK) or "
         "bootstrap_servers (self-managed Kafka)"),
    (f"    cluster_arn: {MSK_ARN}\n    bootstrap_servers: [b-1.example.com:9092]",
     "sources/x.yaml:5:5: source.config: kind kafka needs exactly one of cluster_arn (Amazon MSK) or "
     "bootstrap_servers (self-managed Kafka)"),
    ("    bootstrap_servers:\n      - broker-1.example.com:9096\n      - broker-2.example.com",
     "sources/x.yaml:9:9: source.config.bootstrap_servers[1]: 'broker-2.example.com' is not host:port "
     "(e.g. broker-1.kafka.example.com:9096)"),
    ("    bootstrap_servers: ['broker-1:99999']",
     "sources/x.yaml:7:25: source.config.bootstrap_servers[0]: 'broker-1:99999' is not host:port "
     "(e.g. broker-1.kafka.example.com:9096)"),
    ("    bootstrap_servers: []",
     "sources/x.yaml:7:24: source.config.bootstrap_servers: list should have at least 1 item after validation, "
     "not 0"),
    ("    cluster_arn: arn:aws:kafka:eu-west-1:123456789012:topic/iot/5a1e/readings",
     "sources/x.yaml:7:18: source.config.cluster_arn: 'arn:aws:kafka:eu-west-1:123456789012:topic/iot/5a1e/readings' "
     "is not an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)"),
    (f"    cluster_arn: {MSK_ARN}\n    auth: {{secret: '${{SECRET:kafka}}'}}",
     "sources/x.yaml:5:5: source.config: auth and vpc apply to bootstrap_servers: Lambda reads an MSK cluster with "
     "IAM, in the cluster's own VPC"),
    ("    bootstrap_servers: [b-1.example.com:9096]\n    auth: {method: sasl_scram_512, secret: hunter2}",
     "sources/x.yaml:8:44: source.config.auth.secret: give the Secrets Manager secret as a reference, e.g. "
     "secret: ${SECRET:kafka_client}"),
    ("    bootstrap_servers: [b-1.example.com:9096]\n    auth: {method: kerberos, secret: '${SECRET:k}'}",
     "sources/x.yaml:8:20: source.config.auth.method: 'kerberos' is not valid; choose from: sasl_scram_512, "
     "sasl_scram_256, basic, mtls"),
    ("    bootstrap_servers: [b-1.example.com:9096]\n    vpc: {subnet_ids: [subnet-12], security_group_ids: []}",
     ["sources/x.yaml:8:24: source.config.vpc.subnet_ids[0]: 'subnet-12' is not a subnet id "
      "(e.g. subnet-0a1b2c3d4e5f60718)",
      "sources/x.yaml:8:56: source.config.vpc.security_group_ids: list should have at least 1 item after "
      "validation, not 0"]),
    (f"    cluster_arn: {MSK_ARN}\n    max_retries: 2",
     "sources/x.yaml:5:5: source.config: max_retries needs pollers for kind kafka: an on-demand Kafka mapping "
     "retries a failing batch until its records expire"),
    (f"    cluster_arn: {MSK_ARN}\n    pollers: {{minimum: 3, maximum: 2}}",
     "sources/x.yaml:8:14: source.config.pollers: minimum (3) is above maximum (2)"),
])
def test_kafka_config_errors_are_positioned(project, config, message):
    assert errors(project, "stream", kafka(config)) == (message if isinstance(message, list) else [message])


def test_self_managed_kafka_with_auth_vpc_and_pollers_loads(project):
    write_source(project, "k.yaml", BASE.format(kind="stream", config=kafka(
        "    bootstrap_servers: [broker-1.kafka.example.com:9096, 10.0.3.17:9096]\n"
        "    auth: {method: mtls, secret: '${SECRET:kafka_client}', root_ca_secret: '${SECRET:kafka_ca}'}\n"
        "    vpc: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0a1b2c3d]}\n"
        "    pollers: {minimum: 1, maximum: 4}\n    max_retries: 5")))
    [source] = load_project(project)
    config = source.definition.config
    assert (config.bootstrap_servers, config.auth.method, config.vpc.security_group_ids, config.pollers.maximum,
            config.max_retries) == (["broker-1.kafka.example.com:9096", "10.0.3.17:9096"], "mtls", ["sg-0a1b2c3d"], 4, 5)


def test_buffer_defaults_to_five_minutes_and_64_megabytes_and_reaches_the_connector(project):
    from framework.render.connector import connector_config
    from framework.render.manifest import manifest

    write_source(project, "a.yaml", BASE.format(kind="http_push", config="    path: /ingest/readings"))
    write_source(project, "b.yaml", BASE.format(kind="stream", config="    kind: kinesis\n    stream_name: s")
                 .replace("name: readings", "name: readings_stream").replace("table: readings", "table: r2")
                 + "  buffer: {seconds: 600, megabytes: 16}\n")
    sources = {s.name: s for s in load_project(project)}
    assert connector_config(sources["readings"])["buffer"] == {"seconds": 300, "megabytes": 64}
    assert connector_config(sources["readings_stream"])["buffer"] == {"seconds": 600, "megabytes": 16}
    assert manifest(sources["readings_stream"])["connector"]["buffer"] == {"seconds": 600, "megabytes": 16}


@pytest.mark.parametrize("buffer, message", [
    ("{seconds: 90}", "sources/x.yaml:13:21: source.buffer.seconds: 90 is not a whole number of minutes "
                      "(EventBridge schedules count minutes): use 60 or 120"),
    ("{seconds: 30}", "sources/x.yaml:13:21: source.buffer.seconds: 30 is out of range; at least 60"),
    ("{megabytes: 0}", "sources/x.yaml:13:23: source.buffer.megabytes: 0 is out of range; at least 1"),
    ("{minutes: 5}", "sources/x.yaml:13:12: source.buffer.minutes: unknown key 'minutes' valid keys: seconds, megabytes"),
])
def test_buffer_errors_are_positioned(project, buffer, message):
    write_source(project, "x.yaml", BASE.format(kind="http_push", config="    path: /in") + f"  buffer: {buffer}\n")
    with pytest.raises(SpecErrors) as caught:
        load_project(project)
    assert [str(e) for e in caught.value.errors] == [message]
