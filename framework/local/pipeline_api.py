"""`onboard api`: the pipeline API (`framework.runtime.pipeline_api`) over the local runner and run ledger.

A POST lands the input at once (so the answer names the run's batch), then the batch is transformed and loaded
in the background by one worker thread: runs go one at a time, so a source never overlaps itself (a second
POST for a source still in flight answers 409) and the local Spark session and warehouse see one caller.
`input` is a local path (relative to the project folder); a rest_api source without one fetches from its
endpoint, as `onboard run --live` does; `since` reprocesses like `onboard run --reprocess --since` (an
append source is refused with 409: its rows would be loaded twice).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from framework.project import Project
from framework.runtime.batch import Batch
from framework.runtime.ledger import RunRecord, SqliteRunLedger
from framework.runtime.pipeline_api import ApiError, StartRequest, pipeline_id, route
from framework.spec import ResolvedSource


class LocalBackend:
    """Starts runs on a `LocalRunner`; reads the project's SQLite run ledger (its own connection)."""

    def __init__(self, project: Project, sources: list[ResolvedSource]) -> None:
        from framework.local.runner import LocalRunner

        self.project = project
        self.resolved = {s.name: s for s in sources}
        self.ledger = SqliteRunLedger(project.ledger_path)
        self._lander = LocalRunner(project)  # request threads, one at a time (`_lock`)
        self._worker = LocalRunner(project)  # the background thread
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onboard-api-run")
        self._lock = threading.Lock()
        self._busy: dict[str, str] = {}  # source -> pipeline id of its run in flight
        self.failures: list[BaseException] = []  # what a background run raised (its ledger record says it too)

    def sources(self) -> Mapping[str, str]:
        return {name: s.kind for name, s in self.resolved.items()}

    def running(self, source: str) -> str | None:
        return self._busy.get(source)

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes | None) -> tuple[int, dict]:
        with self._lock:  # landing and the busy map: one request at a time
            return route(method, path, query, body, self)

    def start(self, request: StartRequest, kind: str) -> str:
        from framework.local.runner import RunError
        from framework.local.triggers import INPUT_OPTIONAL

        source = self.resolved[request.source]
        if request.since is not None:
            return self._reprocess(source, request)
        if request.input is None and kind not in INPUT_OPTIONAL:
            raise ApiError(422, f"{source.name} is a {kind} source: give input (a local file)")
        path = None
        if request.input is not None:
            path = Path(request.input)
            path = path if path.is_absolute() else self.project.root / path
            if not path.is_file():
                raise ApiError(422, f"input file not found: {request.input}")
        try:
            folder = self._lander.generated(source)
            self._lander.check_schema_versions(source, folder)
            started = time.perf_counter()
            batches, skipped = self._lander.land(source, folder, path)
            landed = round(time.perf_counter() - started, 3)
        except RunError as exc:
            raise ApiError(409, f"{source.name}: {exc}") from None
        except Exception as exc:  # the connector refused the input (its message says why)
            raise ApiError(422, f"{source.name}: landing failed: {exc}") from None
        if not batches:
            if skipped:
                raise ApiError(409, f"this input was processed before as pipeline "
                                    f"{pipeline_id(source.name, skipped[0]['batch_id'])}")
            raise ApiError(409, f"{source.name} landed no data (nothing to run)")
        for batch in batches:  # visible at once; the runner's own records follow
            self.ledger.put(RunRecord(source.name, batch.batch_id, "running", "transform", batch.ingest_time))
        self._submit(source, batches, None, {"land": landed})
        return batches[0].batch_id

    def _reprocess(self, source: ResolvedSource, request: StartRequest) -> str:
        from framework.reprocess import ReprocessRefused, as_batch, select

        try:
            items = select(self.ledger, source, since=request.since)
        except ReprocessRefused as exc:
            raise ApiError(409, str(exc)) from None
        batches = [as_batch(item) for item in items]
        for item, batch in zip(items, batches, strict=True):
            self.ledger.put(RunRecord(source.name, batch.batch_id, "running", "transform", batch.ingest_time,
                                      reprocess_of=item.original.batch_id))
        self._submit(source, batches, [item.original.batch_id for item in items], {})
        return batches[0].batch_id

    def _submit(self, source: ResolvedSource, batches: list[Batch], reprocess_of: list[str] | None,
                seconds: dict[str, float]) -> None:
        self._busy[source.name] = pipeline_id(source.name, batches[0].batch_id)
        self._pool.submit(self._run, source, batches, reprocess_of, seconds)

    def _run(self, source: ResolvedSource, batches: list[Batch], reprocess_of: list[str] | None,
             seconds: dict[str, float]) -> None:
        try:
            folder = self._worker.generated(source)
            for number, batch in enumerate(batches):
                self._worker.process(source, folder, batch, seconds=seconds,
                                     reprocess_of=reprocess_of[number] if reprocess_of else None)
            self._worker.expose_quarantine(source.name)
        except BaseException as exc:  # recorded, never lost: the batch's ledger record says failed
            self.failures.append(exc)
            for batch in batches:
                record = self.ledger.get(source.name, batch.batch_id)
                if record is not None and record.status == "running":
                    record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
                    self.ledger.put(record)
        finally:
            with self._lock:
                self._busy.pop(source.name, None)

    def wait(self) -> None:
        """Let every submitted run finish (tests; shutdown)."""
        self._pool.submit(lambda: None).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.ledger.close()


def api_server(backend: LocalBackend, port: int = 8080, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server (not yet serving) answering the pipeline API's routes; port 0 picks a free port."""

    class ApiRequest(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else None
            status, answer = backend.handle(method, url.path, dict(parse_qsl(url.query)), body)
            data = json.dumps(answer, sort_keys=True).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer((host, port), ApiRequest)
