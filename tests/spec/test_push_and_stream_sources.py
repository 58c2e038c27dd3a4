"""The http_push and stream kinds' configs: positioned errors for what cannot work."""

from __future__ import annotations

import pytest

from framework.spec import SpecErrors, load_project
from tests.conftest import write_source

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
                                                "    cluster_arn: arn:aws:kafka:eu-west-1:1:cluster/c/1")
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
     "sources/x.yaml:5:5: source.config: kind kinesis needs stream_name (and no topic or cluster_arn)"),
    ("stream", "    kind: kafka\n    topic: t", "jsonl",
     "sources/x.yaml:5:5: source.config: kind kafka needs topic and cluster_arn (and no stream_name)"),
    ("stream", "    kind: kinesis\n    stream_name: s\n    batch_size: 0", "jsonl",
     "sources/x.yaml:7:17: source.config.batch_size: 0 is out of range; at least 1"),
])
def test_config_errors_are_positioned(project, kind, config, schema_type, message):
    assert errors(project, kind, config, schema_type) == [message]
