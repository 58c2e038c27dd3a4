"""When to retry a request and how long to wait: full-jitter backoff, Retry-After, a deadline, a rate limit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Timing:
    """The clocks, sleep and randomness a fetch uses; tests replace them to assert exact waits."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], datetime] = _utc_now
    random: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)  # every wait, in order (rate limit and retries)

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waits.append(seconds)
            self.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    deadline_seconds: float = 780.0

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> RetryPolicy:
        return cls(**config) if config else cls()

    def backoff(self, attempt: int, draw: Callable[[], float]) -> float:
        """Full jitter: a uniform wait in [0, min(cap, base * 2^(attempt-1))) after failed attempt `attempt`."""
        return draw() * min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP-date) as seconds from `now`; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Deadline:
    """The time by which the whole fetch must be done."""

    def __init__(self, seconds: float, timing: Timing):
        self.seconds = seconds
        self._timing = timing
        self._at = timing.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - self._timing.monotonic()


class RateLimiter:
    """At most `per_second` request starts per second (None: no limit)."""

    def __init__(self, per_second: float | None, timing: Timing):
        self._interval = 1.0 / per_second if per_second else 0.0
        self._timing = timing
        self._next: float | None = None

    def acquire(self) -> None:
        if not self._interval:
            return
        now = self._timing.monotonic()
        if self._next is not None and now < self._next:
            self._timing.wait(self._next - now)
            now = self._next
        self._next = now + self._interval
