"""`onboard run` of a Kafka stream source replays a JSONL file in the event shape of the source's cluster."""

from __future__ import annotations

import base64

import pytest

from framework.local.triggers import stream_replay


@pytest.mark.parametrize("cluster, event_source", [
    ({"cluster_arn": "arn:aws:kafka:eu-west-1:123456789012:cluster/iot/5a1e"}, "aws:kafka"),
    ({"bootstrap_servers": ["broker-1.kafka.example.com:9096"]}, "SelfManagedKafka"),
])
def test_kafka_replay_uses_the_clusters_event_shape_in_batches(tmp_path, cluster, event_source):
    records = tmp_path / "records.jsonl"
    records.write_text('{"n": 1}\n{"n": 2}\n\n{"n": 3}\n')
    config = {"config": {"kind": "kafka", "topic": "readings", "batch_size": 2, **cluster}}
    with stream_replay(None, config, records) as events:  # type: ignore[arg-type]
        assert [e["eventSource"] for e in events] == [event_source] * 2
        assert ("eventSourceArn" in events[0]) == (event_source == "aws:kafka")
        assert [[(r["offset"], base64.b64decode(r["value"])) for r in e["records"]["readings-0"]] for e in events] == [
            [(0, b'{"n": 1}'), (1, b'{"n": 2}')], [(2, b'{"n": 3}')]]
