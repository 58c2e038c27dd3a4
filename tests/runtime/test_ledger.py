"""The run ledger: the same behaviour from the local SQLite store and the deployed DynamoDB table (moto),
and an object delivered twice lands once."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from framework.runtime.connectors.s3_file import S3FileConnector
from framework.runtime.events import s3_put_event
from framework.runtime.ledger import DynamoRunLedger, RunRecord, SqliteRunLedger, run_ledger_from_env
from framework.runtime.storage import LocalStorage
from tests.runtime.conftest import create_run_ledger_table

NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
CONFIG = {"source": "airports", "type": "s3_file", "format": "csv", "raw_bucket": "${BUCKET:raw}",
          "config": {"bucket": "${BUCKET:raw}", "prefix": "incoming/airports/", "suffix": ".csv"}}
TABLE = "onboard-runs"


@pytest.fixture
def dynamo_ledger(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        # The platform stack's RunLedger table: partition key `source`, sort key `batch_id`.
        create_run_ledger_table(client, TABLE)
        yield DynamoRunLedger(TABLE, client)


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request, tmp_path):
    if request.param == "dynamodb":
        yield request.getfixturevalue("dynamo_ledger")
        return
    store = SqliteRunLedger(tmp_path / "ledger.sqlite")
    yield store
    store.close()


def record(source: str, batch_id: str, **fields) -> RunRecord:
    return RunRecord(source, batch_id, **{"status": "succeeded", "stage": "done", **fields})


def test_a_record_reads_back_with_objects_rows_timings_and_error(ledger):
    written = record("airports", "20241116T103000Z-aaaaaaaa", status="failed", stage="load",
                     ingest_time="2024-11-16T10:30:00Z",
                     objects=[{"bucket": "raw", "key": "airports/x.csv", "etag": "e1", "uri": "s3://raw/airports/x.csv"}],
                     rows={"rows_in": 3, "rows_loaded": 0, "rows_quarantined": 1, "rows_duplicate": 0},
                     seconds={"land": 0.5, "transform": 12.0}, error="load failed: COPY mismatch")
    ledger.put(written)
    read = ledger.get("airports", "20241116T103000Z-aaaaaaaa")
    assert read == written
    assert read.updated_at.endswith("Z")
    assert ledger.get("airports", "20241116T103000Z-bbbbbbbb") is None


def test_recent_lists_newest_first_per_source_and_across_sources(ledger):
    for source, batch in [("airports", "20241116T100000Z-a"), ("airports", "20241116T120000Z-b"),
                          ("airlines", "20241116T110000Z-c")]:
        ledger.put(record(source, batch))
    ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e1", "20241116T120000Z-b")
    assert [r.batch_id for r in ledger.recent("airports")] == ["20241116T120000Z-b", "20241116T100000Z-a"]
    assert [(r.source, r.batch_id) for r in ledger.recent()] == [
        ("airports", "20241116T120000Z-b"), ("airlines", "20241116T110000Z-c"), ("airports", "20241116T100000Z-a")]
    assert [r.batch_id for r in ledger.recent(limit=1)] == ["20241116T120000Z-b"]


def test_an_object_is_claimed_once_per_etag(ledger):
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", '"e1"', "batch-1") is None
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-2") == "batch-1"
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e2", "batch-3") is None
    assert ledger.claim_object("airlines", "raw/incoming/airports/x.csv", "e1", "batch-4") is None
    ledger.release_object("airports", "raw/incoming/airports/x.csv", "e1")
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-5") is None
    # released on behalf of a batch: only that batch's claim goes
    ledger.release_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-1")
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-6") == "batch-5"
    ledger.release_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-5")
    assert ledger.claim_object("airports", "raw/incoming/airports/x.csv", "e1", "batch-7") is None


def test_the_same_event_delivered_twice_lands_once(ledger, tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    body = b"iata,name\nLHR,Heathrow\n"
    storage.put("raw", "incoming/airports/today.csv", body)
    event = s3_put_event("raw", "incoming/airports/today.csv", len(body), "e1")
    first = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledger)
    [batch] = first.handle(event)
    first.commit(batch)  # the handler's, once the batch's execution started
    again = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledger)
    assert again.handle(event) == []
    assert again.skipped == [{"origin": "raw/incoming/airports/today.csv", "etag": "e1", "batch_id": batch.batch_id}]
    assert sorted(p.name for p in (tmp_path / "lake/raw/airports").rglob("*.csv")) == [f"{batch.batch_id}.csv"]
    changed = s3_put_event("raw", "incoming/airports/today.csv", len(body), "e2")
    assert len(S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledger).handle(changed)) == 1


def test_a_batch_not_handed_off_lands_again_as_itself_and_is_skipped_once_it_was(ledger, tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    storage.put("raw", "incoming/airports/today.csv", b"iata\nLHR\n")
    event = s3_put_event("raw", "incoming/airports/today.csv", 9, "e1")
    [batch] = S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledger).handle(event)
    later = datetime(2024, 11, 17, 8, 0, 0, tzinfo=UTC)
    retry = S3FileConnector(CONFIG, storage=storage, clock=lambda: later, runs=ledger)
    [again] = retry.handle(event)
    assert (again.batch_id, again.ingest_time, again.objects) == (batch.batch_id, batch.ingest_time, batch.objects)
    claim = ledger.object_claim("airports", "raw/incoming/airports/today.csv", "e1")
    assert (claim.batch_id, claim.handed_off) == (batch.batch_id, False)
    retry.commit(again)
    assert ledger.object_claim("airports", "raw/incoming/airports/today.csv", "e1").handed_off is True
    assert S3FileConnector(CONFIG, storage=storage, clock=lambda: later, runs=ledger).handle(event) == []


def test_a_landing_that_fails_releases_its_claim(ledger, tmp_path):
    storage = LocalStorage(tmp_path / "lake")
    event = s3_put_event("raw", "incoming/airports/missing.csv", 3, "e1")  # the object is not there
    with pytest.raises(FileNotFoundError):
        S3FileConnector(CONFIG, storage=storage, clock=lambda: NOW, runs=ledger).handle(event)
    assert ledger.claim_object("airports", "raw/incoming/airports/missing.csv", "e1", "later") is None


def test_state_machine_items_read_as_records(dynamo_ledger):
    """Items written by the deployed state machine (status, rows as JSON text, error name) read back."""
    ledger = dynamo_ledger
    ledger.client.put_item(TableName=TABLE, Item={
        "source": {"S": "airports"}, "batch_id": {"S": "20241116T100000Z-a"}, "status": {"S": "succeeded"},
        "ingest_time": {"S": "2024-11-16T10:00:00Z"}, "execution": {"S": "arn:aws:states:x"},
        "rows": {"S": '{"rows_in": 2, "rows_loaded": 2, "rows_quarantined": 0, "rows_duplicate": 0}'}})
    ledger.client.put_item(TableName=TABLE, Item={
        "source": {"S": "airports"}, "batch_id": {"S": "20241116T110000Z-b"}, "status": {"S": "failed"},
        "error": {"S": "LoadFailed"}})
    done, failed = ledger.get("airports", "20241116T100000Z-a"), ledger.get("airports", "20241116T110000Z-b")
    assert (done.status, done.stage, done.rows["rows_loaded"]) == ("succeeded", "done", 2)
    assert (failed.status, failed.stage, failed.error) == ("failed", "transform", "LoadFailed")


def test_run_ledger_from_env_picks_sqlite_then_dynamodb(tmp_path, monkeypatch):
    monkeypatch.delenv("ONBOARD_LEDGER_TABLE", raising=False)
    monkeypatch.delenv("ONBOARD_LEDGER_PATH", raising=False)
    assert run_ledger_from_env() is None
    monkeypatch.setenv("ONBOARD_LEDGER_TABLE", TABLE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert isinstance(run_ledger_from_env(), DynamoRunLedger)
    monkeypatch.setenv("ONBOARD_LEDGER_PATH", str(tmp_path / "l.sqlite"))
    assert isinstance(run_ledger_from_env(), SqliteRunLedger)


def test_incremental_state_items_are_not_runs(dynamo_ledger):
    """The REST connectors' `#state` item shares the source's partition; listing runs skips it."""
    from framework.runtime.ledger import DynamoDBLedger, put_state

    put_state(DynamoDBLedger(TABLE, dynamo_ledger.client), "airports", {"cursor": "5", "batch_id": "b"})
    dynamo_ledger.put(record("airports", "20241116T100000Z-a"))
    assert [r.batch_id for r in dynamo_ledger.recent("airports")] == ["20241116T100000Z-a"]
    assert [r.batch_id for r in dynamo_ledger.recent()] == ["20241116T100000Z-a"]
