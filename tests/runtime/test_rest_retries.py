"""429 and 5xx are retried as specified, other 4xx fail at once, and a deadline and rate limit hold."""

from __future__ import annotations

from email.utils import format_datetime

import pytest

from framework.runtime.rest.http import FetchError
from framework.runtime.rest.retry import RetryPolicy, Timing, retry_after_seconds
from tests.runtime.api_server import Reply
from tests.runtime.conftest import NOW, raw_objects, rest_config

OK = Reply(body={"data": [{"id": "o1"}]})


def scripted(*replies: Reply):
    """Answer with `replies` in order, then OK forever."""
    queue = list(replies)
    return lambda request: queue.pop(0) if queue else OK


def test_429_waits_the_seconds_retry_after_names(api, connector, timing):
    api.responder = scripted(Reply(429, {"error": "slow down"}, {"Retry-After": "7"}))
    [batch] = connector(rest_config(api.url("/orders"))).handle({})
    assert len(api.seen) == 2
    assert timing.waits == [7.0]
    assert batch.folder.objects == 1


def test_429_honours_an_http_date_retry_after(api, connector, timing, clock):
    later = clock.wall().replace(microsecond=0).timestamp() + 12
    from datetime import UTC, datetime

    date = format_datetime(datetime.fromtimestamp(later, UTC), usegmt=True)
    api.responder = scripted(Reply(429, {}, {"Retry-After": date}))
    connector(rest_config(api.url("/orders"))).handle({})
    assert len(api.seen) == 2
    assert timing.waits == [12.0]


def test_503_and_500_back_off_exponentially_with_full_jitter(api, connector, timing):
    api.responder = scripted(Reply(503, {}), Reply(500, {}), Reply(502, {}))
    connector(rest_config(api.url("/orders"))).handle({})
    assert len(api.seen) == 4
    # draw 0.5 x min(60, 1 x 2^(attempt-1)): 0.5, 1.0, 2.0
    assert timing.waits == [0.5, 1.0, 2.0]


def test_503_with_retry_after_waits_as_told(api, connector, timing):
    api.responder = scripted(Reply(503, {}, {"Retry-After": "3"}))
    connector(rest_config(api.url("/orders"))).handle({})
    assert timing.waits == [3.0]


def test_a_dropped_connection_is_retried(api, connector, timing):
    api.responder = scripted(Reply(drop_connection=True))
    [batch] = connector(rest_config(api.url("/orders"))).handle({})
    assert len(api.seen) == 2
    assert timing.waits == [0.5]
    assert batch.folder.objects == 1


def test_attempts_are_bounded(api, connector, timing, lake):
    api.responder = lambda r: Reply(503, {"error": "down"})
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"))).handle({})
    assert str(info.value) == f"GET {api.url('/orders')} failed after 4 attempts; last: HTTP 503 Service Unavailable"
    assert len(api.seen) == 4
    assert timing.waits == [0.5, 1.0, 2.0]
    assert raw_objects(lake) == []


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_4xx_fail_at_once_naming_url_status_and_body(api, connector, timing, status):
    api.responder = lambda r: Reply(status, {"error": "bad   filter", "echo": r.params.get("api_key")})
    auth = {"type": "api_key", "name": "api_key", "location": "query", "value": "${SECRET:api_key}"}
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), auth=auth)).handle({})
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 422: "Unprocessable Entity"}[status]
    assert str(info.value) == (f"GET {api.url('/orders')}?api_key=*** answered HTTP {status} {reason}: "
                               '{"error": "bad filter", "echo": "***"}')
    assert len(api.seen) == 1
    assert timing.waits == []


def test_a_connection_refused_fails_after_bounded_attempts(connector, timing):
    with pytest.raises(FetchError) as info:
        connector(rest_config("http://127.0.0.1:9/orders")).handle({})
    assert str(info.value) == ("GET http://127.0.0.1:9/orders failed after 4 attempts; last: connection error: "
                               "[Errno 111] Connection refused")
    assert timing.waits == [0.5, 1.0, 2.0]


def test_a_retry_after_beyond_the_deadline_fails_at_once(api, connector, timing):
    api.responder = scripted(Reply(429, {}, {"Retry-After": "900"}))
    config = rest_config(api.url("/orders"), retry={"max_attempts": 5, "backoff_seconds": 1.0,
                                                    "max_backoff_seconds": 60.0, "deadline_seconds": 120.0})
    with pytest.raises(FetchError) as info:
        connector(config).handle({})
    assert str(info.value) == (f"GET {api.url('/orders')} failed (HTTP 429 Too Many Requests) and the next attempt, "
                               "in 900.0 s, would pass the fetch's deadline of 120 s")
    assert len(api.seen) == 1
    assert timing.waits == []


def test_the_deadline_follows_the_lambda_time_left(api, connector, timing):
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 40_000  # 40 s left, 30 s kept back: 10 s for the fetch

    api.responder = scripted(Reply(429, {}, {"Retry-After": "15"}))
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"))).handle({}, Context())
    assert str(info.value).endswith("would pass the fetch's deadline of 10 s")


def test_the_rate_limit_spaces_request_starts(api, connector, timing):
    pages = iter([["o1"], ["o2"], ["o3"], []])
    api.responder = lambda r: Reply(body={"data": [{"id": i} for i in next(pages)]})
    pagination = {"type": "page_number", "param": "page", "start": 1, "has_more_path": None, "max_pages": 10}
    config = rest_config(api.url("/orders"), pagination=pagination, config={"requests_per_second": 4})
    connector(config).handle({})
    assert len(api.seen) == 4
    assert timing.waits == [0.25, 0.25, 0.25]


def test_real_waits_happen_on_the_real_clock(api, connector):
    api.responder = scripted(Reply(503, {}), Reply(429, {}, {"Retry-After": "0"}))
    timing = Timing(random=lambda: 1.0)
    config = rest_config(api.url("/orders"), retry={"max_attempts": 3, "backoff_seconds": 0.05,
                                                    "max_backoff_seconds": 1.0, "deadline_seconds": 10.0})
    [batch] = connector(config, timing=timing).handle({})
    assert len(api.seen) == 3
    assert timing.waits == [0.05]  # the 429's Retry-After: 0 means at once
    assert batch.folder.objects == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0), (" 0 ", 0.0), ("Sat, 16 Nov 2024 10:31:00 GMT", 60.0), ("Sat, 16 Nov 2024 10:29:00 GMT", 0.0),
    ("soon", None), (None, None), ("", None),
])
def test_retry_after_reads_seconds_and_http_dates(value, expected):
    assert retry_after_seconds(value, NOW) == expected


def test_full_jitter_is_capped():
    policy = RetryPolicy(backoff_seconds=1.0, max_backoff_seconds=5.0)
    assert [policy.backoff(attempt, lambda: 1.0) for attempt in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
