"""Which request comes after a page, and when pagination stops.

Every style stops on an empty page and, when `has_more_path` is set, on a false (or absent) flag there;
each style adds its own condition (documented on its class). `max_pages` fails a fetch that would need
more pages, and a style that asks for the page it just got fails too: both are runaway loops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from framework.runtime.rest.http import FetchError, HttpResponse
from framework.runtime.rest.records import MISSING, lookup

Params = tuple[tuple[str, str], ...]


class PaginationError(FetchError):
    """Pagination that cannot go on safely."""


@dataclass(frozen=True)
class PageRequest:
    """A page's URL: `url` (which may carry its own query) with `params` set on top of it."""

    url: str
    params: Params = ()

    def with_param(self, name: str, value: Any) -> PageRequest:
        return replace(self, params=set_param(self.params, name, param_text(value)))

    def full_url(self, extra: Params = ()) -> str:
        params = self.params + extra
        if not params:
            return self.url
        parts = urlsplit(self.url)
        names = {name for name, _ in params}
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
        return urlunsplit(parts._replace(query=urlencode(kept + list(params))))


def set_param(params: Params, name: str, value: str) -> Params:
    return tuple((k, v) for k, v in params if k != name) + ((name, value),)


def param_text(value: Any) -> str:
    """How a JSON value travels in a query string (booleans as the APIs write them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    request: PageRequest
    response: HttpResponse
    body: Any  # the parsed JSON
    records: list[Any]


class Paginator:
    """No pagination: one request."""

    def __init__(self, spec: dict[str, Any] | None = None):
        spec = spec or {}
        self.has_more_path: str | None = spec.get("has_more_path")
        self.max_pages: int = spec.get("max_pages") or 10_000

    def first(self, request: PageRequest) -> PageRequest:
        return request

    def after(self, page: Page) -> PageRequest | None:
        """The request for the page after `page`, or None when `page` was the last."""
        if not page.records:
            return None
        if self.has_more_path is not None and not _flag(lookup(page.body, self.has_more_path, None)):
            return None
        return self._next(page)

    def _next(self, page: Page) -> PageRequest | None:
        return None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class PageNumber(Paginator):
    """`param` = start, start+1, ...; stops on an empty page."""

    def __init__(self, spec: dict[str, Any]):
        super().__init__(spec)
        self.param, self.start = spec.get("param") or "page", spec.get("start", 1)
        self.size_param, self.size = spec.get("size_param"), spec.get("size")

    def first(self, request: PageRequest) -> PageRequest:
        if self.size_param:
            request = request.with_param(self.size_param, self.size)
        return request.with_param(self.param, self.start)

    def _next(self, page: Page) -> PageRequest | None:
        return page.request.with_param(self.param, self.start + page.number)


class Offset(Paginator):
    """`param` advances by the records received (an API that caps the page size skips nothing); stops on
    an empty page or when the offset reaches the total at `total_path`."""

    def __init__(self, spec: dict[str, Any]):
        super().__init__(spec)
        self.param, self.start = spec.get("param") or "offset", spec.get("start", 0)
        self.limit_param, self.limit = spec.get("limit_param") or "limit", spec["limit"]
        self.total_path: str | None = spec.get("total_path")
        self.offset = self.start

    def first(self, request: PageRequest) -> PageRequest:
        self.offset = self.start
        return request.with_param(self.limit_param, self.limit).with_param(self.param, self.start)

    def _next(self, page: Page) -> PageRequest | None:
        self.offset += len(page.records)
        if self.total_path is not None:
            total = lookup(page.body, self.total_path, None)
            if isinstance(total, int | float | str) and str(total).strip().isdigit() and self.offset >= int(total):
                return None
        return page.request.with_param(self.param, self.offset)


class Cursor(Paginator):
    """The cursor at `cursor_path` goes back as `param`; stops when it is null, empty or absent."""

    def __init__(self, spec: dict[str, Any]):
        super().__init__(spec)
        self.cursor_path, self.param = spec["cursor_path"], spec.get("param") or "cursor"

    def _next(self, page: Page) -> PageRequest | None:
        cursor = lookup(page.body, self.cursor_path, None)
        if cursor is None or cursor == "":
            return None
        return page.request.with_param(self.param, cursor)


class NextUrl(Paginator):
    """Follows the URL at `next_url_path` (relative URLs resolve against the page's); stops when it is
    null, empty or absent."""

    def __init__(self, spec: dict[str, Any]):
        super().__init__(spec)
        self.next_url_path = spec["next_url_path"]

    def _next(self, page: Page) -> PageRequest | None:
        url = lookup(page.body, self.next_url_path, None)
        if not url or not isinstance(url, str):
            return None
        return PageRequest(urljoin(page.response.url, url))


def parse_link_header(value: str) -> Iterator[tuple[str, dict[str, str]]]:
    """`(target, params)` of each link-value in one Link header (RFC 8288); quoted values may hold , and ;."""
    i, n = 0, len(value)
    while True:
        start = value.find("<", i)
        end = value.find(">", start + 1) if start >= 0 else -1
        if end < 0:
            return
        target, params, i = value[start + 1:end].strip(), {}, end + 1
        while i < n and value[i] != ",":
            if value[i] != ";":
                i += 1
                continue
            name_end = i + 1
            while name_end < n and value[name_end] not in "=;,":
                name_end += 1
            name, i = value[i + 1:name_end].strip().lower(), name_end
            text = ""
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] == " ":
                    i += 1
                if i < n and value[i] == '"':
                    close = i + 1
                    while close < n and value[close] != '"':
                        close += 2 if value[close] == "\\" else 1
                    text, i = value[i + 1:close].replace('\\"', '"'), close + 1
                else:
                    token_end = i
                    while token_end < n and value[token_end] not in ";,":
                        token_end += 1
                    text, i = value[i:token_end].strip(), token_end
            params.setdefault(name, text)
        yield target, params


def next_link(header_values: list[str]) -> str | None:
    """The target of the first link whose relation types include "next" (case-insensitive), or None."""
    for value in header_values:
        for target, params in parse_link_header(value):
            if "next" in params.get("rel", "").lower().split():
                return target
    return None


class LinkHeader(Paginator):
    """Follows the `Link: <...>; rel="next"` response header; stops when there is none."""

    def _next(self, page: Page) -> PageRequest | None:
        target = next_link(page.response.headers.get_all("Link") or [])
        return PageRequest(urljoin(page.response.url, target)) if target else None


class LastRecord(Paginator):
    """`field` of the page's last record goes back as `param` (Stripe's `starting_after`); stops on an
    empty page or a false `has_more_path`."""

    def __init__(self, spec: dict[str, Any]):
        super().__init__(spec)
        self.field, self.param = spec.get("field") or "id", spec.get("param") or "starting_after"

    def _next(self, page: Page) -> PageRequest | None:
        value = lookup(page.records[-1], self.field)
        if value is MISSING or value is None:
            raise PaginationError(f"the last record of page {page.number} has no '{self.field}' to continue from")
        return page.request.with_param(self.param, value)


PAGINATORS: dict[str, Callable[[dict[str, Any]], Paginator]] = {
    "page_number": PageNumber, "offset": Offset, "cursor": Cursor, "next_url": NextUrl,
    "link_header": LinkHeader, "last_record": LastRecord,
}


def paginator_for(spec: dict[str, Any] | None) -> Paginator:
    if spec is None:
        return Paginator()
    kind = spec["type"]
    if kind not in PAGINATORS:
        raise ValueError(f"unknown pagination type '{kind}'; known: {', '.join(sorted(PAGINATORS))}")
    return PAGINATORS[kind](spec)


def pages(fetch: Callable[[PageRequest, int], Page], first: PageRequest, paginator: Paginator,
          mask: Callable[[str], str] = str) -> Iterator[Page]:
    """Fetch page after page until the paginator stops; guard against runaway loops."""
    request: PageRequest | None = paginator.first(first)
    number = 0
    while request is not None:
        if number >= paginator.max_pages:
            raise PaginationError(f"more than max_pages={paginator.max_pages} pages: the API still had a next page "
                                  f"({mask(request.full_url())}); raise pagination.max_pages if that is expected")
        number += 1
        page = fetch(request, number)
        yield page
        following = paginator.after(page)
        if following is not None and following.full_url() == request.full_url():
            raise PaginationError(f"page {number} points to itself as the next page "
                                  f"({mask(following.full_url())}): stopping a runaway loop")
        request = following
