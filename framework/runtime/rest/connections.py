"""A urllib handler that keeps one connection per origin open between requests (HTTP/1.1 keep-alive).

urllib's own handlers send `Connection: close` and open a new TCP connection, and a new TLS handshake,
for every request: for an API read page by page that is most of the time spent. This handler sits in
front of them in the same opener (redirects, errors and proxies still go through urllib); requests through
an HTTPS proxy tunnel fall through to urllib's handler.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.request
from typing import Any
from urllib.error import URLError

# A reused connection the server has closed in the meantime fails like this before any response.
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class PersistentConnections(urllib.request.BaseHandler):
    handler_order = 400  # before urllib's HTTPHandler and HTTPSHandler (500)

    def __init__(self, context: ssl.SSLContext | None = None):
        self._context = context or ssl.create_default_context()
        self._pool: dict[tuple[str, str], tuple[http.client.HTTPConnection, http.client.HTTPResponse]] = {}
        self.opened = 0  # connections opened (for tests and benchmarks)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse | None:
        return self._open(req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse | None:
        return self._open(req)

    def close(self) -> None:
        for connection, _ in self._pool.values():
            connection.close()
        self._pool.clear()

    def _open(self, req: urllib.request.Request) -> http.client.HTTPResponse | None:
        if req._tunnel_host:  # type: ignore[attr-defined] - an HTTPS proxy tunnel: urllib's handler does it
            return None
        if not req.host:
            raise URLError("no host given")
        key = (req.type, req.host)
        headers = dict(req.unredirected_hdrs)
        headers.update({k: v for k, v in req.headers.items() if k not in headers})
        headers = {name.title(): value for name, value in headers.items()}
        reused = self._take(key, req.timeout)
        connection = reused or self._connect(req)
        try:
            response = self._exchange(connection, req, headers)
        except STALE_CONNECTION as exc:
            connection.close()
            if reused is None:
                raise URLError(exc) from None
            connection = self._connect(req)  # the server dropped the idle connection: once more, fresh
            response = self._exchange(connection, req, headers)
        self._pool[key] = (connection, response)
        response.url = req.get_full_url()  # type: ignore[attr-defined] - what urllib's handler sets
        response.msg = response.reason  # type: ignore[assignment]
        return response

    def _take(self, key: tuple[str, str], timeout: Any) -> http.client.HTTPConnection | None:
        """A pooled connection whose last response has been read to the end, else None."""
        pooled = self._pool.pop(key, None)
        if pooled is None:
            return None
        connection, last = pooled
        if not last.isclosed():  # the body was not read to the end: the connection cannot be reused
            connection.close()
            return None
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _connect(self, req: urllib.request.Request) -> http.client.HTTPConnection:
        self.opened += 1
        if req.type == "https":
            return http.client.HTTPSConnection(req.host, timeout=req.timeout, context=self._context)
        return http.client.HTTPConnection(req.host, timeout=req.timeout)

    @staticmethod
    def _exchange(connection: http.client.HTTPConnection, req: urllib.request.Request,
                  headers: dict[str, str]) -> http.client.HTTPResponse:
        try:
            connection.request(req.get_method(), req.selector, req.data, headers)
            return connection.getresponse()
        except STALE_CONNECTION:
            raise
        except OSError as exc:  # a timeout or refused connection, as urllib reports it
            connection.close()
            raise URLError(exc) from None
        except http.client.HTTPException:
            connection.close()
            raise
