"""One HTTP request with retries (urllib): 429 after Retry-After, 5xx and connection errors with backoff.

Every error message names the method, the URL and the status with secrets masked; other 4xx fail at once.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

from framework.runtime.errors import ConnectorError
from framework.runtime.rest.connections import PersistentConnections
from framework.runtime.rest.retry import Deadline, RateLimiter, RetryPolicy, Timing, retry_after_seconds

log = logging.getLogger(__name__)
USER_AGENT = "onboard-rest-connector/1"
BODY_EXCERPT_CHARS = 300
ERROR_BODY_LIMIT = 64 * 1024
CONNECTION_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class FetchError(ConnectorError):
    """A request that failed for good; the message is safe to log (secrets masked)."""


class HttpStatusError(FetchError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    headers: Message
    body: bytes


class _NoCredentialsToOtherOrigins(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send the request's headers (credentials) only to the same origin."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            new.headers = {}
        return new


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def default_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoCredentialsToOtherOrigins(), PersistentConnections())


class HttpClient:
    """Sends requests under one retry policy, one deadline and one rate limit (a whole fetch shares them)."""

    def __init__(self, policy: RetryPolicy, deadline: Deadline, mask: Callable[[str], str], *,
                 timeout: float = 30.0, limiter: RateLimiter | None = None, timing: Timing | None = None,
                 opener: urllib.request.OpenerDirector | None = None):
        self.policy = policy
        self.deadline = deadline
        self.mask = mask
        self.timeout = timeout
        self.timing = timing or Timing()
        self.limiter = limiter or RateLimiter(None, self.timing)
        self.opener = opener or default_opener()
        self.requests = 0

    def send(self, method: str, url: str, headers: Mapping[str, str] | None = None,
             body: bytes | None = None) -> HttpResponse:
        """The 2xx response to the request, retrying what is worth retrying; raise FetchError otherwise."""
        what = f"{method} {self.mask(url)}"
        attempt = 0
        while True:
            attempt += 1
            remaining = self.deadline.remaining()
            if remaining <= 0:
                raise FetchError(f"{what}: the fetch's deadline of {self.deadline.seconds:g} s has passed")
            self.limiter.acquire()
            request = urllib.request.Request(url, data=body, method=method,
                                             headers={"User-Agent": USER_AGENT, **(headers or {})})
            self.requests += 1
            try:
                with self.opener.open(request, timeout=min(self.timeout, remaining)) as response:
                    return HttpResponse(response.geturl(), response.status, response.headers, response.read())
            except urllib.error.HTTPError as exc:
                status, reason = exc.code, exc.reason
                excerpt = self._excerpt(exc)
                failure = f"HTTP {status} {reason}"
                if status == 429 or status >= 500:
                    wait = retry_after_seconds(exc.headers.get("Retry-After"), self.timing.wall())
                    if wait is None:
                        wait = self.policy.backoff(attempt, self.timing.random)
                else:
                    raise HttpStatusError(f"{what} answered {failure}{excerpt}", status) from None
            except CONNECTION_ERRORS as exc:
                reason_ = getattr(exc, "reason", exc)
                failure = f"connection error: {self.mask(str(reason_)) or type(exc).__name__}"
                if isinstance(reason_, ssl.SSLCertVerificationError):
                    raise FetchError(f"{what} failed: {failure}") from None
                wait = self.policy.backoff(attempt, self.timing.random)
            except ValueError as exc:  # an unusable URL
                raise FetchError(f"{what} failed: {self.mask(str(exc))}") from None
            if attempt >= self.policy.max_attempts:
                raise FetchError(f"{what} failed after {attempt} attempts; last: {failure}")
            if wait >= self.deadline.remaining():
                raise FetchError(f"{what} failed ({failure}) and the next attempt, in {wait:.1f} s, would pass the "
                                 f"fetch's deadline of {self.deadline.seconds:g} s")
            log.warning("%s: %s; attempt %d of %d in %.2f s", what, failure, attempt + 1, self.policy.max_attempts,
                        wait)
            self.timing.wait(wait)

    def close(self) -> None:
        """Close the connections kept open between requests."""
        for handler in getattr(self.opener, "handlers", []):
            if isinstance(handler, PersistentConnections):
                handler.close()

    def _excerpt(self, exc: urllib.error.HTTPError) -> str:
        try:
            # Read the body to its end (up to a limit) so the connection can serve the next attempt.
            text = exc.read(ERROR_BODY_LIMIT)[:BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        except Exception:  # noqa: BLE001 - the status alone still makes a clear error
            return ""
        text = " ".join(self.mask(text).split())[:BODY_EXCERPT_CHARS]
        return f": {text}" if text else ""
