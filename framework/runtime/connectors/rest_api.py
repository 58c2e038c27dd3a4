"""`rest_api`: on each scheduled event, page through a JSON API and land every page in the raw zone.

Pages land as received (one object per page, so memory holds one page) under the batch's folder; the
generated Glue job reads them all with `format: json` and the source's `records_path`. A failure at any
page discards what was written and hands nothing on. With `incremental`, the greatest cursor value
seen is stored in the run ledger only when the batch has been handed on (`commit`).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from framework.runtime import references
from framework.runtime.batch import Batch, new_batch_id, utc_now
from framework.runtime.connectors.base import Connector
from framework.runtime.errors import ConnectorError
from framework.runtime.landing import BatchWriter
from framework.runtime.ledger import Ledger, get_state, ledger_from_env, put_state
from framework.runtime.rest.auth import Auth, auth_from_config
from framework.runtime.rest.http import FetchError, HttpClient, HttpResponse, HttpStatusError
from framework.runtime.rest.pagination import Page, PageRequest, pages, paginator_for, param_text
from framework.runtime.rest.records import MISSING, RecordsError, lookup, records_of
from framework.runtime.rest.retry import Deadline, RateLimiter, RetryPolicy, Timing
from framework.runtime.secrets import Masker, SecretSource, secrets_from_env
from framework.runtime.storage import Storage

log = logging.getLogger(__name__)
LAMBDA_MARGIN_SECONDS = 30  # left to land, hand on and report after the last request


class RestApiConnector(Connector):
    """Fetches, lands and remembers; every collaborator can be replaced (tests, benchmarks), and each
    defaults to what the deployed Lambda uses: storage, ledger and secrets from the environment."""

    def __init__(self, config: dict[str, Any], storage: Storage | None = None,
                 clock: Callable[[], datetime] = utc_now, *, ledger: Ledger | None = None,
                 secrets: SecretSource | None = None, timing: Timing | None = None,
                 opener: urllib.request.OpenerDirector | None = None):
        super().__init__(config, storage, clock)
        self._ledger = ledger
        self.secrets = secrets
        self.timing = timing or Timing()
        self.opener = opener
        self.requests = 0  # HTTP requests of the last fetch (token requests included)

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            try:
                self._ledger = ledger_from_env()
            except LookupError as exc:
                raise ConnectorError(str(exc)) from None
        return self._ledger

    def handle(self, event: dict[str, Any], context: Any = None) -> list[Batch]:
        batch = self.fetch(event or {}, context)
        return [batch] if batch is not None else []

    def commit(self, batch: Batch) -> None:
        super().commit(batch)
        if batch.state is not None:
            put_state(self.ledger, self.source, batch.state)

    # ------------------------------------------------------------------------------------------ fetch

    def fetch(self, event: dict[str, Any], context: Any = None) -> Batch | None:
        """Land every page as one batch; None when the API has no records (nothing is handed on)."""
        now = self.clock()
        masker = Masker()
        secret = masker.watch(self.secrets or secrets_from_env())
        settings = self.config["config"]
        incremental = self.config.get("incremental")
        policy = RetryPolicy.from_config(self.config.get("retry"))
        client = HttpClient(policy, Deadline(self._deadline(policy, context), self.timing), masker,
                            timeout=settings.get("timeout_seconds") or 30.0,
                            limiter=RateLimiter(settings.get("requests_per_second"), self.timing),
                            timing=self.timing, opener=self.opener)
        try:
            request = self._request(settings, secret)
            auth = auth_from_config(self.config.get("auth"), lambda v: references.resolve(v, secret), client, masker)
            headers, body = self._headers(settings, secret), self._body(settings, secret)
        except references.ReferenceError_ as exc:
            raise ConnectorError(f"{self.source}: {exc}") from None
        start = self._start_cursor(incremental)
        if start is not None:
            request = request.with_param(incremental["param"], start)

        logical = _event_time(event) or now
        batch_id = requested_batch_id(event) or new_batch_id(logical, self.source, str(event.get("id") or ""),
                                                             param_text(start))
        writer = BatchWriter(self.storage, self.raw_bucket, self.source, batch_id, logical)
        records, cursor, count = 0, start, 0
        method = settings.get("method") or "GET"

        def fetch_page(page_request: PageRequest, number: int) -> Page:
            url = page_request.full_url(tuple(auth.params()))
            response = _send(client, auth, method, url, headers, body)
            return _parse(number, page_request, response, self.config.get("records_path"), masker)

        try:
            for page in pages(fetch_page, request, paginator_for(self.config.get("pagination")), masker):
                count = page.number
                if not page.records:
                    continue
                writer.add(page.response.body, "json")
                records += len(page.records)
                if incremental:
                    cursor = _greatest(cursor, page.records, incremental["cursor_field"])
                log.debug("%s: page %d, %d records", self.source, page.number, len(page.records))
            if records == 0:
                log.info("%s: no records (%d page(s) fetched); nothing to land", self.source, count)
                return None
            state = {"cursor": cursor, "batch_id": batch_id} if incremental else None
            folder = writer.commit({"pages": writer.objects, "records": records, "requests": client.requests,
                                    "cursor_from": start, "cursor_to": cursor})
        except BaseException:
            writer.discard()
            raise
        finally:
            self.requests = client.requests
            client.close()
        log.info("%s: landed %d records in %d pages as batch %s", self.source, records, folder.objects, batch_id)
        return Batch(self.source, batch_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), folder=folder, state=state)

    def _request(self, settings: dict[str, Any], secret: SecretSource) -> PageRequest:
        params = tuple((name, references.resolve(v, secret) if isinstance(v, str) else param_text(v))
                       for name, v in (settings.get("params") or {}).items())
        return PageRequest(references.resolve(settings["endpoint"], secret), params)

    @staticmethod
    def _headers(settings: dict[str, Any], secret: SecretSource) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        for name, value in (settings.get("headers") or {}).items():
            headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
            headers[name] = references.resolve(value, secret)
        if settings.get("body") is not None:
            headers.setdefault("Content-Type", "application/json")
        return headers

    @staticmethod
    def _body(settings: dict[str, Any], secret: SecretSource) -> bytes | None:
        if settings.get("body") is None:
            return None

        def resolved(value: Any) -> Any:
            if isinstance(value, str):
                return references.resolve(value, secret)
            if isinstance(value, dict):
                return {k: resolved(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolved(v) for v in value]
            return value

        return json.dumps(resolved(settings["body"])).encode()

    def _start_cursor(self, incremental: dict[str, Any] | None) -> Any:
        if not incremental:
            return None
        state = get_state(self.ledger, self.source)
        return state["cursor"] if state and state.get("cursor") is not None else incremental.get("initial")

    @staticmethod
    def _deadline(policy: RetryPolicy, context: Any) -> float:
        """The configured deadline, shortened to what the Lambda invocation has left (minus a margin)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return policy.deadline_seconds
        return max(1.0, min(policy.deadline_seconds, remaining() / 1000 - LAMBDA_MARGIN_SECONDS))


def _send(client: HttpClient, auth: Auth, method: str, url: str, headers: dict[str, str],
          body: bytes | None) -> HttpResponse:
    """One request; on a 401, renew the credential (OAuth2) and try exactly once more."""
    credentials = auth.headers()  # outside the try: a token endpoint's own 401 is not a reason to renew
    try:
        return client.send(method, url, {**headers, **credentials}, body)
    except HttpStatusError as exc:
        if exc.status != 401 or not auth.renew():
            raise
        log.info("%s %s: 401, renewing the access token once", method, client.mask(url))
        return client.send(method, url, {**headers, **auth.headers()}, body)


def _parse(number: int, request: PageRequest, response: HttpResponse, records_path: str | None,
           masker: Masker) -> Page:
    where = masker(response.url)
    try:
        body = json.loads(response.body)
    except ValueError:
        kind = response.headers.get("Content-Type") or "no Content-Type"
        raise FetchError(f"the response from {where} is not JSON ({kind}, {len(response.body)} bytes)") from None
    try:
        records = records_of(body, records_path, where)
    except RecordsError as exc:
        raise FetchError(str(exc)) from None
    return Page(number, request, response, body, records)


def _greatest(current: Any, records: list[Any], field: str) -> Any:
    """The greatest of `current` and each record's `field` (numbers numerically, anything else as text:
    ISO-8601 timestamps in one format order correctly)."""
    for record in records:
        value = lookup(record, field)
        if value is MISSING or value is None:
            continue
        if current is None or _later(value, current):
            current = value
    return current


def _later(a: Any, b: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return a > b if numbers else str(a) > str(b)


_BATCH_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


def requested_batch_id(event: dict[str, Any]) -> str | None:
    """The batch id the pipeline API named when it asked for this fetch (`POST /pipelines`), if well formed."""
    value = event.get("batch_id")
    return value if isinstance(value, str) and _BATCH_ID.match(value) else None


def _event_time(event: dict[str, Any]) -> datetime | None:
    """The scheduled time of an EventBridge event: a redelivered event names the same batch."""
    text = event.get("time")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
