"""Each pagination style stops exactly on its documented condition, against a real local HTTP server."""

from __future__ import annotations

import json

import pytest

from framework.runtime.rest.http import FetchError
from framework.runtime.rest.pagination import next_link
from tests.runtime.api_server import Reply
from tests.runtime.conftest import raw_objects, rest_config

RECORDS = [{"id": f"o{i}", "amount": i * 10} for i in range(1, 6)]  # five records


def landed_records(lake, batch) -> list[str]:
    """Ids of every record in the batch's raw pages, in page order (the pages as received)."""
    keys = [k for k in lake.list("raw", batch.folder.prefix) if not k.endswith("_batch.json")]
    return [r["id"] for k in keys for r in json.loads(lake.get("raw", k))["data"]]


def test_no_pagination_makes_one_request(api, connector, lake):
    api.responder = lambda r: Reply(body={"data": RECORDS})
    [batch] = connector(rest_config(api.url("/orders"))).handle({})
    assert api.paths() == ["/orders"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]
    assert (batch.folder.objects, batch.files_landed) == (1, 1)


def test_page_number_stops_on_the_first_empty_page(api, connector, lake):
    def respond(r):
        page, size = int(r.params["page"]), int(r.params["per_page"])
        return Reply(body={"data": RECORDS[(page - 1) * size:page * size]})

    api.responder = respond
    pagination = {"type": "page_number", "param": "page", "start": 1, "size_param": "per_page", "size": 2,
                  "has_more_path": None, "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders?per_page=2&page=1", "/orders?per_page=2&page=2", "/orders?per_page=2&page=3",
                           "/orders?per_page=2&page=4"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]
    assert batch.folder.objects == 3  # the empty page is not landed


def test_page_number_from_zero_stops_on_has_more(api, connector, lake):
    def respond(r):
        page = int(r.params["p"])
        return Reply(body={"data": RECORDS[page * 2:page * 2 + 2], "meta": {"more": page < 1}})

    api.responder = respond
    pagination = {"type": "page_number", "param": "p", "start": 0, "has_more_path": "meta.more", "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders?p=0", "/orders?p=1"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4"]


def test_offset_advances_by_records_received_and_stops_on_an_empty_page(api, connector, lake):
    def respond(r):  # the server caps the page at 2 records whatever limit asks for
        offset = int(r.params["offset"])
        return Reply(body={"data": RECORDS[offset:offset + 2]})

    api.responder = respond
    pagination = {"type": "offset", "param": "offset", "start": 0, "limit_param": "limit", "limit": 10,
                  "total_path": None, "has_more_path": None, "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders?limit=10&offset=0", "/orders?limit=10&offset=2", "/orders?limit=10&offset=4",
                           "/orders?limit=10&offset=5"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]


def test_offset_stops_when_the_total_is_reached(api, connector, lake):
    def respond(r):
        offset, limit = int(r.params["skip"]), int(r.params["take"])
        return Reply(body={"data": RECORDS[offset:offset + limit], "meta": {"total": len(RECORDS)}})

    api.responder = respond
    pagination = {"type": "offset", "param": "skip", "start": 0, "limit_param": "take", "limit": 2,
                  "total_path": "meta.total", "has_more_path": None, "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders?take=2&skip=0", "/orders?take=2&skip=2", "/orders?take=2&skip=4"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]


def test_cursor_stops_when_the_body_has_no_next_cursor(api, connector, lake):
    pages = {"": (RECORDS[:2], "c2"), "c2": (RECORDS[2:4], "c3"), "c3": (RECORDS[4:], None)}

    def respond(r):
        records, following = pages[r.params.get("after", "")]
        return Reply(body={"data": records, "paging": {"next": following}})

    api.responder = respond
    pagination = {"type": "cursor", "cursor_path": "paging.next", "param": "after", "has_more_path": None,
                  "max_pages": 100}
    config = rest_config(api.url("/orders"), pagination=pagination, config={"params": {"status": "open"}})
    [batch] = connector(config).handle({})
    assert api.paths() == ["/orders?status=open", "/orders?status=open&after=c2", "/orders?status=open&after=c3"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]


def test_next_url_follows_relative_and_absolute_links_until_null(api, connector, lake):
    def respond(r):
        if r.path == "/orders":
            return Reply(body={"data": RECORDS[:2], "links": {"next": "/orders/p2?sig=x"}})
        if r.path == "/orders/p2":
            return Reply(body={"data": RECORDS[2:4], "links": {"next": api.url("/orders/p3")}})
        return Reply(body={"data": RECORDS[4:], "links": {"next": None}})

    api.responder = respond
    pagination = {"type": "next_url", "next_url_path": "links.next", "has_more_path": None, "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders", "/orders/p2?sig=x", "/orders/p3"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]


def test_link_header_follows_rel_next_until_there_is_none(api, connector, lake):
    def respond(r):
        page = int(r.params.get("page", "1"))
        links = [f'<{api.url("/orders")}?page=3>; rel="last"']
        if page < 3:
            links.insert(0, f'</orders?page={page + 1}>; title="next, page"; rel="next"')
        return Reply(body=RECORDS[(page - 1) * 2:page * 2], headers={"Link": ", ".join(links)})

    api.responder = respond
    pagination = {"type": "link_header", "has_more_path": None, "max_pages": 100}
    config = rest_config(api.url("/orders"), pagination=pagination, records_path=None)
    [batch] = connector(config).handle({})
    assert api.paths() == ["/orders", "/orders?page=2", "/orders?page=3"]
    keys = [k for k in lake.list("raw", batch.folder.prefix) if not k.endswith("_batch.json")]
    assert [r["id"] for k in keys for r in json.loads(lake.get("raw", k))] == ["o1", "o2", "o3", "o4", "o5"]


def test_last_record_sends_the_last_id_and_stops_on_has_more_false(api, connector, lake):
    def respond(r):
        start = next((i + 1 for i, rec in enumerate(RECORDS) if rec["id"] == r.params.get("starting_after")), 0)
        chunk = RECORDS[start:start + 2]
        return Reply(body={"data": chunk, "has_more": start + 2 < len(RECORDS)})

    api.responder = respond
    pagination = {"type": "last_record", "field": "id", "param": "starting_after", "has_more_path": "has_more",
                  "max_pages": 100}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders", "/orders?starting_after=o2", "/orders?starting_after=o4"]
    assert landed_records(lake, batch) == ["o1", "o2", "o3", "o4", "o5"]


def test_an_empty_first_page_lands_nothing_and_hands_on_no_batch(api, connector, lake):
    api.responder = lambda r: Reply(body={"data": [], "paging": {"next": "c2"}})
    pagination = {"type": "cursor", "cursor_path": "paging.next", "param": "after", "has_more_path": None,
                  "max_pages": 100}
    assert connector(rest_config(api.url("/orders"), pagination=pagination)).handle({}) == []
    assert api.paths() == ["/orders"]
    assert raw_objects(lake) == []


def test_max_pages_fails_a_runaway_pagination_and_lands_nothing(api, connector, lake):
    api.responder = lambda r: Reply(body={"data": RECORDS[:1]})  # every page is full: it never ends
    pagination = {"type": "page_number", "param": "page", "start": 1, "has_more_path": None, "max_pages": 3}
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert str(info.value) == (f"more than max_pages=3 pages: the API still had a next page ({api.url('/orders')}"
                               "?page=4); raise pagination.max_pages if that is expected")
    assert len(api.seen) == 3
    assert raw_objects(lake) == []


def test_a_cursor_that_points_to_its_own_page_fails(api, connector, lake):
    api.responder = lambda r: Reply(body={"data": RECORDS[:1], "next": "same"})
    pagination = {"type": "cursor", "cursor_path": "next", "param": "c", "has_more_path": None, "max_pages": 100}
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert str(info.value) == f"page 2 points to itself as the next page ({api.url('/orders')}?c=same): " \
                              "stopping a runaway loop"
    assert api.paths() == ["/orders", "/orders?c=same"]
    assert raw_objects(lake) == []


def test_records_path_missing_from_a_response_is_a_clear_error(api, connector, lake):
    api.responder = lambda r: Reply(body={"items": RECORDS, "count": 5})
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"))).handle({})
    assert str(info.value) == f"records_path 'data' is not in the response from {api.url('/orders')} " \
                              "(keys: items, count)"


def test_an_object_body_without_records_path_asks_for_one(api, connector):
    api.responder = lambda r: Reply(body={"results": RECORDS})
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), records_path=None)).handle({})
    assert str(info.value) == f"the response from {api.url('/orders')} is an object, not a list of records: set " \
                              "schema.records_path to the key holding them (keys: results)"


def test_a_body_that_is_not_json_fails(api, connector):
    api.responder = lambda r: Reply(body=b"<html>maintenance</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"))).handle({})
    assert str(info.value) == f"the response from {api.url('/orders')} is not JSON (text/html, 24 bytes)"


@pytest.mark.parametrize(("header", "expected"), [
    ('<https://a.example/x?page=2>; rel="next", <https://a.example/x?page=9>; rel="last"',
     "https://a.example/x?page=2"),
    ('<https://a.example/x?page=9>; rel="last", <https://a.example/x?page=2>; rel=next', "https://a.example/x?page=2"),
    ('<https://a.example/x?page=2>; REL="prev NEXT"', "https://a.example/x?page=2"),
    ('<https://a.example/x?a,b;c>; title="a, b; rel=next"; rel="next"', "https://a.example/x?a,b;c"),
    ('<https://a.example/x?page=2>; rel="nextpage"', None),
    ('<https://a.example/x?page=2>; title="rel=next"', None),
    ("", None),
])
def test_link_header_parsing_follows_rfc_8288(header, expected):
    assert next_link([header]) == expected


def test_pages_share_one_kept_alive_connection(api, connector):
    pages = iter([RECORDS[:2], RECORDS[2:4], RECORDS[4:], []])
    api.responder = lambda r: Reply(body={"data": next(pages)})
    pagination = {"type": "page_number", "param": "page", "start": 1, "has_more_path": None, "max_pages": 10}
    connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert len(api.seen) == 4
    assert len({r.peer for r in api.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_retry_wait(api, connector, timing):
    pages = iter([RECORDS[:2], RECORDS[2:], []])
    api.responder = lambda r: Reply(body={"data": next(pages)}, close_silently=True)
    pagination = {"type": "page_number", "param": "page", "start": 1, "has_more_path": None, "max_pages": 10}
    [batch] = connector(rest_config(api.url("/orders"), pagination=pagination)).handle({})
    assert api.paths() == ["/orders?page=1", "/orders?page=2", "/orders?page=3"]
    assert len({r.peer for r in api.seen}) == 3
    assert timing.waits == []
    assert batch.folder.objects == 2
