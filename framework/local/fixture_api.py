"""A local HTTP server that answers from a recorded fixture, so REST sources run offline.

A fixture is JSON: `{"exchanges": [{"request": {...}, "response": {...}}, ...]}`. A request matches an
exchange when its method, path and query parameters are exactly the recorded ones; recorded `headers`
must also be present (else 401, as an API would answer a missing key). Anything else is a 404 naming the
request, so a source that asks for something the recording lacks fails clearly.

```json
{"request": {"method": "GET", "path": "/v1/reviews", "query": {"limit": "3"},
             "headers": {"X-Api-Key": "demo-key"}},
 "response": {"status": 200, "headers": {"X-Total": "7"}, "body": {"data": [...]}}}
```
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class FixtureError(ValueError):
    """A fixture file that cannot be served."""


def load_fixture(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        exchanges = document["exchanges"]
        for exchange in exchanges:
            exchange["request"]["path"], exchange["response"]["status"]  # noqa: B018 - shape check
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FixtureError(f"{path} is not a recorded API fixture ({{\"exchanges\": [{{\"request\": ..., "
                           f"\"response\": ...}}]}}): {type(exc).__name__}: {exc}") from None
    return exchanges


def _answer(exchanges: list[dict[str, Any]], method: str, target: str,
            headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    sent = {k.lower(): v for k, v in headers.items()}
    unauthorized = False
    for exchange in exchanges:
        want = exchange["request"]
        if (want.get("method", "GET").upper() != method or want["path"] != parts.path
                or {k: str(v) for k, v in (want.get("query") or {}).items()} != query):
            continue
        if any(sent.get(k.lower()) != v for k, v in (want.get("headers") or {}).items()):
            unauthorized = True
            continue
        response = exchange["response"]
        body = response.get("body")
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return response["status"], {"Content-Type": "application/json", **(response.get("headers") or {})}, data
    if unauthorized:
        return 401, {"Content-Type": "application/json"}, b'{"error": "missing or wrong credentials"}'
    message = {"error": f"no recorded response for {method} {target}"}
    return 404, {"Content-Type": "application/json"}, json.dumps(message).encode()


@contextmanager
def serve_fixture(path: Path) -> Iterator[str]:
    """Serve the fixture on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    exchanges = load_fixture(path)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = _answer(exchanges, self.command, self.path, dict(self.headers.items()))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="onboard-fixture-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
