"""Incremental state advances only once a batch is handed on; a failure mid-pagination lands nothing;
the run ledger works locally (SQLite) and deployed (DynamoDB, moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from framework.runtime import handler as runtime_handler
from framework.runtime.ledger import DynamoDBLedger, LocalLedger, get_state, put_state
from framework.runtime.rest.http import FetchError
from tests.runtime.api_server import Reply
from tests.runtime.conftest import NOW, create_run_ledger_table, raw_objects, rest_config

ORDERS = [{"id": f"o{i}", "updated_at": f"2024-11-{i:02d}T08:00:00Z", "seq": i} for i in range(1, 8)]
INCREMENTAL = {"cursor_field": "updated_at", "param": "since", "initial": "2024-11-01T00:00:00Z"}
PAGINATION = {"type": "offset", "param": "offset", "start": 0, "limit_param": "limit", "limit": 2,
              "total_path": None, "has_more_path": None, "max_pages": 100}


class OrdersApi:
    """Orders updated after `since`, two per page; `fail_offset` makes that page answer 500."""

    def __init__(self):
        self.orders = list(ORDERS[:5])
        self.fail_offset: int | None = None

    def __call__(self, request) -> Reply:
        offset = int(request.params["offset"])
        if offset == self.fail_offset:
            return Reply(500, {"error": "boom"})
        newer = [o for o in self.orders if o["updated_at"] > request.params["since"]]
        return Reply(body={"data": newer[offset:offset + 2]})


def config_for(api, **extra):
    return rest_config(api.url("/orders"), incremental=INCREMENTAL, pagination=PAGINATION, **extra)


def sent_since(api) -> list[str]:
    return [r.params["since"] for r in api.seen]


def test_state_moves_only_when_the_batch_is_committed(api, connector, ledger):
    api.responder = OrdersApi()
    source = connector(config_for(api))
    [batch] = source.handle({})
    assert sent_since(api) == ["2024-11-01T00:00:00Z"] * 4  # offsets 0, 2, 4 and the empty 6
    assert batch.state == {"cursor": "2024-11-05T08:00:00Z", "batch_id": batch.batch_id}
    assert get_state(ledger, "orders") is None  # landed, not yet handed on
    source.commit(batch)
    assert get_state(ledger, "orders") == {"cursor": "2024-11-05T08:00:00Z", "batch_id": batch.batch_id}


def test_the_next_run_resumes_where_the_last_committed_batch_ended(api, connector, ledger, lake):
    orders = OrdersApi()
    api.responder = orders
    first = connector(config_for(api))
    first.commit(first.handle({})[0])
    orders.orders = list(ORDERS)  # o6 and o7 are new
    api.seen.clear()
    second = connector(config_for(api))
    [batch] = second.handle({"id": "evt-2", "time": "2024-11-16T11:00:00Z"})
    assert sent_since(api) == ["2024-11-05T08:00:00Z"] * 2
    pages = [json.loads(lake.get("raw", k)) for k in lake.list("raw", batch.folder.prefix) if "part-" in k]
    assert [o["id"] for page in pages for o in page["data"]] == ["o6", "o7"]
    second.commit(batch)
    assert get_state(ledger, "orders")["cursor"] == "2024-11-07T08:00:00Z"


def test_a_batch_never_handed_on_is_fetched_again(api, connector, ledger):
    api.responder = OrdersApi()
    lost = connector(config_for(api)).handle({})[0]  # landed, but the hand-on failed: no commit
    api.seen.clear()
    [again] = connector(config_for(api)).handle({"id": "retry"})
    assert sent_since(api)[0] == "2024-11-01T00:00:00Z"
    assert again.state["cursor"] == lost.state["cursor"] == "2024-11-05T08:00:00Z"


def test_a_failure_mid_pagination_lands_nothing_and_keeps_the_state(api, connector, ledger, lake):
    orders = OrdersApi()
    api.responder = orders
    put_state(ledger, "orders", {"cursor": "2024-11-01T12:00:00Z", "batch_id": "previous"})
    orders.fail_offset = 4  # pages at offsets 0 and 2 land, then the third page fails for good
    with pytest.raises(FetchError) as info:
        connector(config_for(api)).handle({})
    assert str(info.value) == (f"GET {api.url('/orders')}?since=2024-11-01T12%3A00%3A00Z&limit=2&offset=4 failed "
                               "after 4 attempts; last: HTTP 500 Internal Server Error")
    assert [r.params["offset"] for r in api.seen] == ["0", "2", "4", "4", "4", "4"]
    assert raw_objects(lake) == []
    assert not (lake.root / "raw" / "orders").exists()  # the batch folder is gone too
    assert get_state(ledger, "orders") == {"cursor": "2024-11-01T12:00:00Z", "batch_id": "previous"}
    orders.fail_offset = None
    api.seen.clear()
    [batch] = connector(config_for(api)).handle({})
    assert sent_since(api)[0] == "2024-11-01T12:00:00Z"
    assert batch.state["cursor"] == "2024-11-05T08:00:00Z"


def test_no_new_records_hands_on_nothing_and_keeps_the_state(api, connector, ledger, lake):
    api.responder = OrdersApi()
    put_state(ledger, "orders", {"cursor": "2024-11-30T00:00:00Z", "batch_id": "b0"})
    assert connector(config_for(api)).handle({}) == []
    assert api.paths() == ["/orders?since=2024-11-30T00%3A00%3A00Z&limit=2&offset=0"]
    assert raw_objects(lake) == []
    assert get_state(ledger, "orders") == {"cursor": "2024-11-30T00:00:00Z", "batch_id": "b0"}


def test_numeric_cursors_compare_as_numbers(api, connector):
    api.responder = lambda r: Reply(body={"data": [{"id": "a", "seq": 9}, {"id": "b", "seq": 10}, {"id": "c"}]})
    config = rest_config(api.url("/orders"), incremental={"cursor_field": "seq", "param": "after_seq", "initial": 0})
    [batch] = connector(config).handle({})
    assert api.paths() == ["/orders?after_seq=0"]
    assert batch.state["cursor"] == 10


def test_pages_land_as_received_with_a_sealing_marker(api, connector, lake):
    bodies = [b'{"data": [{"id": "o1"}],  "next": "c2"}', b'{"data": [{"id": "o2"}], "next": null}']
    api.responder = lambda r: Reply(body=bodies[1 if r.params.get("c") else 0])
    pagination = {"type": "cursor", "cursor_path": "next", "param": "c", "has_more_path": None, "max_pages": 10}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle(
        {"id": "evt-1", "time": "2024-11-16T10:00:00Z"})
    prefix = f"orders/ingest_date=2024-11-16/{batch.batch_id}/"
    assert batch.batch_id.startswith("20241116T100000Z-")
    assert raw_objects(lake) == [prefix + "_batch.json", prefix + "part-000001.json", prefix + "part-000002.json"]
    assert [lake.get("raw", prefix + f"part-00000{n}.json") for n in (1, 2)] == bodies
    assert json.loads(lake.get("raw", prefix + "_batch.json")) == {
        "batch_id": batch.batch_id, "bytes": sum(map(len, bodies)), "cursor_from": None, "cursor_to": None,
        "objects": 2, "pages": 2, "records": 2, "requests": 2, "source": "orders"}
    assert (batch.folder.prefix, batch.folder.objects, batch.input_uris()) == (
        prefix, 2, [str(lake.root / "raw" / prefix.rstrip("/"))])
    assert batch.ingest_time == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_same_scheduled_event_names_the_same_batch(api, connector):
    api.responder = lambda r: Reply(body={"data": [{"id": "o1"}]})
    event = {"id": "evt-7", "time": "2024-11-16T10:00:00Z"}
    first, second = connector(rest_config(api.url("/orders"))).handle(event), \
        connector(rest_config(api.url("/orders"))).handle(event)
    other = connector(rest_config(api.url("/orders"))).handle({"id": "evt-8", "time": "2024-11-16T10:00:00Z"})
    assert first[0].batch_id == second[0].batch_id != other[0].batch_id


def test_the_handler_commits_only_after_the_pipeline_started(api, tmp_path, monkeypatch, ledger):
    api.responder = OrdersApi()
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config_for(api)))
    monkeypatch.setenv("ONBOARD_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("ONBOARD_LEDGER_PATH", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("ONBOARD_STATE_MACHINE_ARN", "arn:aws:states:eu-west-1:000000000000:stateMachine:orders")
    started = []

    def refuse(batch, client=None):
        raise RuntimeError("Step Functions unavailable")

    monkeypatch.setattr("framework.runtime.orchestration.start_pipeline", refuse)
    handler = runtime_handler.make_handler(config_path)
    with pytest.raises(RuntimeError):
        handler({"id": "evt-1", "time": "2024-11-16T10:00:00Z"})
    assert get_state(ledger, "orders") is None
    monkeypatch.setattr("framework.runtime.orchestration.start_pipeline", lambda batch, client=None: started.append(batch))
    result = handler({"id": "evt-1", "time": "2024-11-16T10:00:00Z"})
    [batch] = result["batches"]
    assert [b.batch_id for b in started] == [batch["batch_id"]]
    assert get_state(ledger, "orders") == {"cursor": "2024-11-05T08:00:00Z", "batch_id": batch["batch_id"]}


def test_local_ledger_keeps_records_per_source(tmp_path):
    ledger = LocalLedger(tmp_path / "state" / "ledger.sqlite")
    put_state(ledger, "a", {"cursor": 1})
    put_state(ledger, "a", {"cursor": 2})
    ledger.put_record("a", "20241116T100000Z-1a2b3c4d", {"status": "landed"})
    again = LocalLedger(tmp_path / "state" / "ledger.sqlite")
    assert (get_state(again, "a"), get_state(again, "b"), again.get_record("a", "20241116T100000Z-1a2b3c4d")) == (
        {"cursor": 2}, None, {"status": "landed"})


def test_dynamodb_ledger_round_trips_state():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_run_ledger_table(client, "onboard-ledger")
        ledger = DynamoDBLedger("onboard-ledger", client)
        assert get_state(ledger, "orders") is None
        put_state(ledger, "orders", {"cursor": "2024-11-05T08:00:00Z", "batch_id": "b1"})
        put_state(ledger, "orders", {"cursor": 17, "batch_id": "b2"})
        item = client.get_item(TableName="onboard-ledger", Key={"source": {"S": "orders"}, "batch_id": {"S": "#state"}})
        assert get_state(ledger, "orders") == {"cursor": 17, "batch_id": "b2"}
        assert json.loads(item["Item"]["body"]["S"]) == {"cursor": 17, "batch_id": "b2"}


@pytest.mark.parametrize(("requested", "named"), [
    ("20241201T090000Z-0a1b2c3d", True),  # the pipeline API's POST /pipelines names the batch it answered with
    ("20241201T090000Z-0A1B2C3D", False),  # not a batch id this API makes: the usual derived one
    ("../../etc", False),
    (17, False),
])
def test_a_fetch_the_pipeline_api_asked_for_lands_under_the_batch_id_it_named(api, connector, requested, named):
    api.responder = lambda r: Reply(body={"data": [{"id": "o1"}]})
    event = {"id": "evt-9", "time": "2024-12-01T09:00:00Z", "batch_id": requested}
    [batch] = connector(rest_config(api.url("/orders"))).handle(event)
    assert (batch.batch_id == requested) is named
    assert batch.batch_id.startswith("20241201T090000Z-")
