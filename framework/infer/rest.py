"""`onboard new NAME --from URL`: one GET of a REST endpoint; from its answer the records (records_path), the
pagination style (a next link in the body, OData's `@odata.nextLink`, a cursor, a `Link` header) and the
columns. Credentials given with --header are never written: they become `${SECRET:...}` references."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from framework.infer.sample import DEFAULT_SAMPLE_ROWS, RawNumber, Sample, SampleError, read_json_text
from framework.spec.kinds.rest_api import names_a_credential

_NEXT_URL_KEYS = ("@odata.nextlink", "next", "next_url", "nexturl", "next_page_url", "nextpageurl", "next_link",
                  "nextlink")
_CURSOR_KEYS = ("next_cursor", "nextcursor", "cursor", "next_page_token", "nextpagetoken", "next_token",
                "nexttoken", "continuation_token", "continuationtoken")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*rel="?next"?', re.IGNORECASE)


@dataclass
class Answer:
    sample: Sample
    extras: dict[str, Any]  # endpoint, params, headers, pagination, pagination_note (for definition_text)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"--header must be 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def infer_endpoint(name: str, url: str, headers: list[tuple[str, str]], sample_rows: int = DEFAULT_SAMPLE_ROWS,
                   timeout: float = 30.0) -> Answer:
    request = urllib.request.Request(url, headers=dict(headers) | {"Accept": "application/json"}, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https only, checked)
            body, link = response.read(), response.headers.get("Link")
    except urllib.error.HTTPError as exc:
        raise SampleError(f"GET {_without_query(url)} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SampleError(f"GET {_without_query(url)} failed: {exc}") from None
    text = body.decode("utf-8-sig", "replace")
    sample = read_json_text(text, "json", sample_rows)
    if not sample.rows or not sample.fields:
        raise SampleError(f"GET {_without_query(url)}: no records in the answer, nothing to infer the columns from")
    document = json.loads(text, parse_int=RawNumber, parse_float=RawNumber)
    pagination, note = _pagination(document, link, sample.schema.get("records_path"))
    parts = urlsplit(url)
    extras: dict[str, Any] = {
        "endpoint": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "params": dict(parse_qsl(parts.query, keep_blank_values=True)),
        "headers": {k: (f"${{SECRET:{name}_{_snake(k)}}}" if names_a_credential(k) else v) for k, v in headers
                    if k.lower() != "accept"},
        "pagination": pagination, "pagination_note": note}
    if any(names_a_credential(k) for k, _ in headers):
        sample.notes.append("credential headers are written as ${SECRET:...} references: store their values "
                            "there (never in this file)")
    return Answer(sample, extras)


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _pagination(document: Any, link: str | None, records_path: str | None) -> tuple[dict | None, str]:
    if link and _LINK_NEXT.search(link):
        return {"type": "link_header"}, "the answer's Link header names the next page (rel=\"next\")"
    if isinstance(document, dict):
        for path, value in _scalars(document, records_path):
            key = path.rsplit(".", 1)[-1].strip('"').lower()
            if key in _NEXT_URL_KEYS and isinstance(value, str) and value.startswith(("http://", "https://", "/")):
                literal = path.strip('"') if path.count('"') == 2 and path.startswith('"') else path
                return {"type": "next_url", "next_url_path": literal}, f"'{literal}' holds the next page's URL"
        for path, value in _scalars(document, records_path):
            key = path.rsplit(".", 1)[-1].strip('"').lower()
            if key in _CURSOR_KEYS and isinstance(value, str) and value:
                param = "page_token" if "token" in key else "cursor"
                return ({"type": "cursor", "cursor_path": path, "param": param},
                        f"'{path}' holds the next cursor; check the query parameter that sends it back")
    return None, "no next page found in the first answer: one request per fetch"


def _scalars(value: dict, skip: str | None, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, inner in value.items():
        segment = f'"{key}"' if "." in key else key
        path = prefix + segment
        if path == skip:
            continue
        if isinstance(inner, dict):
            found += _scalars(inner, skip, path + ".")
        elif not isinstance(inner, list):
            found.append((path, inner))
    return found
