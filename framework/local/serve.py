"""`onboard serve`: an http_push source's generated handler behind a local HTTP server.

Each request becomes the API Gateway proxy event the deployed endpoint would send (body base64-encoded);
the handler's answer is written back as is. Only POST to the source's `config.path` is routed, like the
deployed API. With `load`, every accepted batch is then transformed and loaded into the local warehouse.
"""

from __future__ import annotations

import base64
import json
import runpy
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from framework.runtime.events import api_gateway_post

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def push_server(handler: Handler, path: str, port: int = 0, host: str = "127.0.0.1",
                on_accepted: Callable[[dict[str, Any]], None] | None = None) -> ThreadingHTTPServer:
    """A server (not yet serving) that answers POST `path` through `handler`; port 0 picks a free port."""
    lock = threading.Lock()

    class PushRequest(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] != path:
                return self._answer(404, {"message": f"no endpoint at {self.path}; POST to {path}"})
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            event = api_gateway_post(path, body, str(uuid.uuid4()), dict(self.headers.items()))
            with lock:  # one handler invocation at a time, like one Lambda instance
                response = handler(event, None)
            payload = response.get("body", "")
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
            self._send(response["statusCode"], response.get("headers", {}), data)
            if response["statusCode"] == 202 and on_accepted is not None:
                with lock:
                    on_accepted(json.loads(payload))

        def do_GET(self) -> None:  # noqa: N802
            self._answer(405, {"message": "use POST"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer((host, port), PushRequest)


def generated_handler(folder: Path) -> Handler:
    return runpy.run_path(str(folder / "connector/handler.py"))["handler"]
