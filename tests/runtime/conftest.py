"""Fixtures for connector tests: a scripted local API, a fake clock and a REST connector factory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from framework.runtime.connectors.rest_api import RestApiConnector
from framework.runtime.ledger import LocalLedger
from framework.runtime.rest.retry import Timing
from framework.runtime.storage import LocalStorage
from tests.runtime.api_server import ApiServer

NOW = datetime(2024, 11, 16, 10, 30, 0, tzinfo=UTC)
SECRETS = {"api_key": "k3y-VALUE/+=", "token": "t0ken-VALUE", "password": "pa55-VALUE", "client_secret": "cl1ent-VALUE"}


class FakeClock:
    """Monotonic and wall time that move only when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> datetime:
        return datetime.fromtimestamp(NOW.timestamp() + self.now - 1000.0, UTC)


@pytest.fixture
def api() -> Iterator[ApiServer]:
    with ApiServer().running() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timing(clock: FakeClock) -> Timing:
    """Waits are recorded and skipped; the jitter draw is always 0.5."""
    return Timing(monotonic=clock.monotonic, sleep=clock.sleep, wall=clock.wall, random=lambda: 0.5)


def rest_config(endpoint: str, **blocks: Any) -> dict[str, Any]:
    """A rendered connector config (as in generated/<source>/connector/config.json) for source `orders`."""
    settings = {"endpoint": endpoint, "method": "GET", "headers": {}, "params": {}, "body": None,
                "schedule": "rate(1 hour)", "timeout_seconds": 5.0, "requests_per_second": None}
    settings.update(blocks.pop("config", {}))
    config = {"source": "orders", "type": "rest_api", "format": "json", "raw_bucket": "${BUCKET:raw}",
              "config": settings, "records_path": "data", "auth": None, "pagination": None, "incremental": None,
              "retry": {"max_attempts": 4, "backoff_seconds": 1.0, "max_backoff_seconds": 60.0,
                        "deadline_seconds": 780.0}}
    config.update(blocks)
    return config


@pytest.fixture
def lake(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "lake")


@pytest.fixture
def ledger(tmp_path: Path) -> LocalLedger:
    return LocalLedger(tmp_path / "ledger.sqlite")


@pytest.fixture
def connector(lake: LocalStorage, ledger: LocalLedger, timing: Timing):
    """`connector(config)`: a RestApiConnector on the local lake and ledger, with the test secrets."""

    def make(config: dict[str, Any], **overrides: Any) -> RestApiConnector:
        args = {"storage": lake, "clock": lambda: NOW, "ledger": ledger, "secrets": SECRETS.__getitem__,
                "timing": timing, **overrides}
        return RestApiConnector(config, **args)

    return make


def raw_objects(lake: LocalStorage) -> list[str]:
    return lake.list("raw")


def create_run_ledger_table(client: Any, name: str) -> None:
    """The platform stack's run ledger table (partition key `source`, sort key `batch_id`), in moto."""
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "source", "AttributeType": "S"},
                                              {"AttributeName": "batch_id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "source", "KeyType": "HASH"},
                                   {"AttributeName": "batch_id", "KeyType": "RANGE"}])
