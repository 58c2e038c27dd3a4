"""How each source kind's trigger delivers an input locally: the event its Lambda would receive.

- `s3_file`: the input file is uploaded under the source's prefix; the event is S3's notification.
- `rest_api`: the input is a recorded API fixture, served on 127.0.0.1 while the connector runs (its
  base URL is `${ENV:ONBOARD_LOCAL_API}`); without an input the connector calls the real endpoint.
  The event is EventBridge's scheduled event.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from framework.local.fixture_api import serve_fixture
from framework.runtime.batch import utc_now
from framework.runtime.events import s3_put_event
from framework.runtime.references import resolve
from framework.runtime.storage import Storage

LOCAL_API_ENV = "ONBOARD_LOCAL_API"
Event = dict[str, Any]


@contextmanager
def s3_upload(storage: Storage, config: dict[str, Any], input_path: Path | None) -> Iterator[Event]:
    if input_path is None:
        raise ValueError("an s3_file source needs an input file")
    settings = config["config"]
    bucket = resolve(settings["bucket"])
    key = settings["prefix"] + input_path.name
    with open(input_path, "rb") as data:
        storage.put(bucket, key, data)
    yield s3_put_event(bucket, key, input_path.stat().st_size, file_etag(input_path))


def file_etag(path: Path) -> str:
    """What S3 reports for a single-part upload: the MD5 of the content, so the same bytes are the same object
    (the run ledger lands an object once per key and ETag)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scheduled_event(rule: str) -> Event:
    """The event EventBridge sends when a schedule fires."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "local",
            "resources": [f"arn:aws:events:local:000000000000:rule/{rule}"], "detail": {}}


@contextmanager
def schedule(storage: Storage, config: dict[str, Any], input_path: Path | None) -> Iterator[Event]:
    event = scheduled_event(f"onboard-{config['source']}")
    if input_path is None:
        yield event
        return
    saved = os.environ.get(LOCAL_API_ENV)
    with serve_fixture(input_path) as base_url:
        os.environ[LOCAL_API_ENV] = base_url
        try:
            yield event
        finally:
            if saved is None:
                os.environ.pop(LOCAL_API_ENV, None)
            else:
                os.environ[LOCAL_API_ENV] = saved


TRIGGERS: dict[str, Callable[[Storage, dict[str, Any], Path | None], AbstractContextManager[Event]]] = {
    "rest_api": schedule,
    "s3_file": s3_upload,
}

# Kinds whose connector can run without an input (it fetches by itself).
INPUT_OPTIONAL = frozenset({"rest_api"})
