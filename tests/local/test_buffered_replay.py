"""`onboard run` of a buffered source (stream, http_push) lands micro-batches that wait in the run ledger, as
deployed: a flush takes every pending one as one batch, at the end of the input (the schedule) or as soon as
pending data passes `buffer.megabytes`. Landing only (no Spark): the batches the runner would transform."""

from __future__ import annotations

import json

import pytest

from framework.local.runner import LocalRunner
from framework.project import Project
from framework.runtime import buffer
from framework.spec.loader import load_project
from tests.conftest import REPO

SAMPLE = REPO / "sources/samples/sensor_stream.jsonl"  # 13 lines, one truncated: batches of 5 -> 3 micro-batches


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    project = Project.at(REPO)
    sources = {s.name: s for s in load_project(project)}
    runner = LocalRunner(project)
    yield runner, sources
    runner.reset()


def land(runner, sources, name, path):
    source = sources[name]
    return runner.land(source, runner.generated(source), path)


def test_a_stream_replay_of_three_micro_batches_is_one_batch_with_every_record(runner):
    runner, sources = runner
    batches, skipped = land(runner, sources, "sensor_readings_stream", SAMPLE)
    [batch] = batches
    assert (skipped, batch.status, batch.files_landed, batch.rejected) == ([], "landed", 3, 1)
    lines = [line for o in batch.objects for line in runner.storage.get("raw", o.key).splitlines()]
    assert len(lines) == 12  # + the one the connector quarantined = the replay's 13
    assert batch.input_uris() == [o.uri for o in batch.objects]
    assert runner.ledger.pending("sensor_readings_stream") == []  # the flush took them all


def test_pending_data_past_the_size_flushes_before_the_end(runner, monkeypatch):
    runner, sources = runner
    [whole], _ = land(runner, sources, "sensor_readings_stream", SAMPLE)
    first_size = whole.objects[0].size
    megabytes = json.loads((REPO / "generated/sensor_readings_stream/connector/config.json").read_text())["buffer"][
        "megabytes"]
    assert megabytes == 64  # the default
    monkeypatch.setattr(buffer, "MEGABYTE", (first_size + 1) / megabytes)  # the size is just above micro-batch 1
    batches, _ = land(runner, sources, "sensor_readings_stream", SAMPLE)
    # micro-batch 1 waits, 2 passes the size (a flush of 1 and 2), 3 is left for the end (a flush of 3)
    assert [b.files_landed for b in batches] == [2, 1]
    assert [b.rejected for b in batches] == [1, 0]
    # the same micro-batches, in landing order (their ids end with a hash of their first and last record)
    assert [o.key.rsplit("-", 1)[1] for b in batches for o in b.objects] == [
        o.key.rsplit("-", 1)[1] for o in whole.objects]


def test_a_push_is_landed_and_flushed_as_one_batch(runner):
    runner, sources = runner
    batches, _ = land(runner, sources, "sensor_readings_push", REPO / "sources/samples/sensor_readings.jsonl")
    [batch] = batches
    assert (batch.status, batch.files_landed) == ("landed", 1)
    assert runner.storage.get("raw", batch.objects[0].key).count(b"\n") == 8
