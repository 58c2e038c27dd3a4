"""Seed 004's pipeline API: start a source's pipeline, read one run, list runs. One router, two backends.

Routes (the OpenAPI document `openapi_document()` describes them; `onboard generate` writes it to
`generated/_platform/openapi.json`):

- `POST /pipelines` `{"source": NAME, "input": URI?, "since": DATE?}`: start the source now; `202
  {"pipeline_id", "source", "status": "running"}`. `input` names the object a file source processes (a local
  path locally, `s3://...` deployed); a REST source without `input` fetches now; `since` reprocesses the
  source's batches ingested on or after that date.
- `GET /pipelines/{pipeline_id}`: the run ledger's record of that run.
- `GET /pipelines?status=&source=&limit=&next=`: runs, newest first; `next` continues a listing.
- `GET /openapi.json`: the document.

Errors are `{"error": message}`: 400 malformed JSON (or a body that is not an object), 404 unknown source or
pipeline id (or route), 409 the source is already running (no source allows overlapping runs: they would race
for the same table and incremental state) or the request would repeat what was done, 422 a body or query that
names fields wrongly (unknown or missing fields, wrong types).

A pipeline id is `<source>.<batch_id>`: the ledger's key, so a run is found without a scan. The backends
(`framework.local.pipeline_api.LocalBackend`, `DeployedBackend` here) start runs and read the ledger; this
module does the routing, validation and answers. Standard library and boto3 only: it ships in the Lambda asset.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from framework.runtime.ledger import RunLedger, RunRecord

log = logging.getLogger(__name__)
STATUSES = ("running", "succeeded", "failed")
START_FIELDS = {"source": str, "input": str, "since": str}
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
ALL_RUNS = 100_000
COUNTS = ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
JSON_HEADERS = {"Content-Type": "application/json"}


class ApiError(Exception):
    """An answer other than success: its HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StartRequest:
    source: str
    input: str | None = None
    since: date | None = None


class Backend(Protocol):
    """Where runs start and where their records are read."""

    ledger: RunLedger

    def sources(self) -> Mapping[str, str]:
        """Every known source and its kind (rest_api, s3_file, ...)."""
        ...

    def running(self, source: str) -> str | None:
        """The pipeline id of the source's run in progress, or None."""
        ...

    def start(self, request: StartRequest, kind: str) -> str:
        """Start the run; its batch id. Raises ApiError for what cannot be started."""
        ...


def pipeline_id(source: str, batch_id: str) -> str:
    return f"{source}.{batch_id}"


def split_pipeline_id(value: str) -> tuple[str, str]:
    source, _, batch_id = value.partition(".")
    if not SOURCE_NAME.match(source) or not batch_id or batch_id.startswith("#"):
        raise ApiError(404, f"no pipeline {value!r}: a pipeline id is <source>.<batch_id>")
    return source, batch_id


def record_view(record: RunRecord) -> dict[str, Any]:
    """A run as the API answers it (the `Pipeline` schema)."""
    view: dict[str, Any] = {"pipeline_id": pipeline_id(record.source, record.batch_id), "source": record.source,
                            "batch_id": record.batch_id, "status": record.status, "stage": record.stage}
    view.update({name: int(record.rows.get(name, 0)) for name in COUNTS})
    view.update(quality_score=record.quality_score, seconds=dict(record.seconds), error=record.error,
                ingest_time=record.ingest_time, updated_at=record.updated_at or None,
                reprocess_of=record.reprocess_of)
    return view


# -- validation --------------------------------------------------------------------------------------------

def parse_start(body: bytes | str | None) -> StartRequest:
    """A POST body: 400 when it is not a JSON object, 422 when its fields are wrong."""
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    unknown = sorted(set(data) - set(START_FIELDS))
    if unknown:
        raise ApiError(422, f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(START_FIELDS)}")
    if "source" not in data:
        raise ApiError(422, "missing field source")
    for name, kind in START_FIELDS.items():
        if name in data and not isinstance(data[name], kind):
            raise ApiError(422, f"{name} must be a string")
    if data.get("input") is not None and data.get("since") is not None:
        raise ApiError(422, "give input (process that object) or since (reprocess), not both")
    since = None
    if "since" in data:
        try:
            since = date.fromisoformat(data["since"])
        except ValueError:
            raise ApiError(422, f"since must be a date (YYYY-MM-DD), not {data['since']!r}") from None
    return StartRequest(data["source"], data.get("input"), since)


@dataclass(frozen=True)
class ListQuery:
    status: str | None
    source: str | None
    limit: int
    after: tuple[str, str] | None  # (batch_id, source) of the last run of the previous page


def parse_list(query: Mapping[str, str]) -> ListQuery:
    unknown = sorted(set(query) - {"status", "source", "limit", "next"})
    if unknown:
        raise ApiError(422, f"unknown query parameter(s) {', '.join(unknown)}; valid: status, source, limit, next")
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise ApiError(422, f"limit must be an integer, not {query['limit']!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(422, f"limit must be between 1 and {MAX_LIMIT}")
    after = None
    if query.get("next"):
        try:
            after = tuple(json.loads(base64.urlsafe_b64decode(query["next"].encode())))
            assert len(after) == 2 and all(isinstance(v, str) for v in after)
        except (ValueError, AssertionError, TypeError):
            raise ApiError(422, "next is not a token this API gave") from None
    return ListQuery(status, query.get("source"), limit, after)  # type: ignore[arg-type]


def _token(record: RunRecord) -> str:
    return base64.urlsafe_b64encode(json.dumps([record.batch_id, record.source]).encode()).decode()


# -- routing -----------------------------------------------------------------------------------------------

def route(method: str, path: str, query: Mapping[str, str], body: bytes | str | None,
          backend: Backend) -> tuple[int, dict[str, Any]]:
    """The answer to one request: (status, JSON body)."""
    try:
        return _route(method.upper(), "/" + path.strip("/"), query, body, backend)
    except ApiError as exc:
        return exc.status, {"error": str(exc)}


def _route(method: str, path: str, query: Mapping[str, str], body: bytes | str | None,
           backend: Backend) -> tuple[int, dict[str, Any]]:
    if path == "/openapi.json" and method == "GET":
        return 200, openapi_document()
    if path == "/pipelines" and method == "POST":
        return _start(parse_start(body), backend)
    if path == "/pipelines" and method == "GET":
        return 200, _list(parse_list(query), backend)
    if path.startswith("/pipelines/") and path.count("/") == 2 and method == "GET":
        source, batch_id = split_pipeline_id(path.rsplit("/", 1)[1])
        record = backend.ledger.get(source, batch_id) if source in backend.sources() else None
        if record is None:
            raise ApiError(404, f"no pipeline {pipeline_id(source, batch_id)}")
        return 200, record_view(record)
    raise ApiError(404, f"no route {method} {path}; routes: POST /pipelines, GET /pipelines, "
                        "GET /pipelines/{pipeline_id}, GET /openapi.json")


def _start(request: StartRequest, backend: Backend) -> tuple[int, dict[str, Any]]:
    sources = backend.sources()
    if request.source not in sources:
        raise ApiError(404, f"unknown source {request.source!r}; known: {', '.join(sorted(sources)) or 'none'}")
    running = backend.running(request.source)
    if running is not None:
        raise ApiError(409, f"{request.source} is already running (pipeline {running}); a source runs one "
                            "pipeline at a time")
    batch_id = backend.start(request, sources[request.source])
    log.info("started %s", pipeline_id(request.source, batch_id))
    return 202, {"pipeline_id": pipeline_id(request.source, batch_id), "source": request.source,
                 "status": "running"}


def _list(query: ListQuery, backend: Backend) -> dict[str, Any]:
    if query.source is not None and query.source not in backend.sources():
        raise ApiError(404, f"unknown source {query.source!r}")
    runs = [r for r in backend.ledger.recent(query.source, ALL_RUNS)
            if r.source in backend.sources() and (query.status is None or r.status == query.status)
            and (query.after is None or (r.batch_id, r.source) < query.after)]
    page = runs[:query.limit]
    more = len(runs) > query.limit
    return {"pipelines": [record_view(r) for r in page], "next": _token(page[-1]) if more else None}


# -- the deployed backend and the Lambda handler ------------------------------------------------------------

class DeployedBackend:
    """Starts executions of the sources' state machines; reads the DynamoDB run ledger.

    `catalog` is `{source: {"kind", "state_machine" (its ARN), "load_mode", "lake"}}` (`load_catalog`; `lake` is
    the manifest's block, its buckets resolved by `environ`'s `ONBOARD_BUCKET_<ZONE>`).
    A file source's `input` (an `s3://` object of the lake's raw zone under the source's folder) becomes a batch
    of that object; `since` reprocesses as `onboard run --reprocess --deployed` does
    (an append source is refused: its rows would be loaded twice)."""

    def __init__(self, ledger: RunLedger, stepfunctions: Any, catalog: Mapping[str, Mapping[str, str]],
                 environ: Mapping[str, str], clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 lambda_client: Any = None):
        self.ledger, self.stepfunctions, self.catalog, self.environ, self.clock = \
            ledger, stepfunctions, catalog, environ, clock
        self.lambda_client = lambda_client

    def lake(self, source: str) -> dict[str, tuple[str, str]]:
        from framework.runtime.lake import lake_from_env

        return lake_from_env({**self.environ, "ONBOARD_LAKE": json.dumps(self.catalog[source]["lake"])})

    def sources(self) -> Mapping[str, str]:
        return {name: entry["kind"] for name, entry in self.catalog.items()}

    def running(self, source: str) -> str | None:
        for record in self.ledger.recent(source, 20):
            if record.status == "running":
                return pipeline_id(source, record.batch_id)
        return None

    def start(self, request: StartRequest, kind: str) -> str:
        machine = self.catalog[request.source]["state_machine"]
        if request.since is not None:
            return self._reprocess(request, machine)
        if kind == "rest_api" and not request.input:
            return self._fetch_now(request.source)
        if kind != "s3_file":
            raise ApiError(422, f"{request.source} is a {kind} source: deployed, it runs on its own trigger; the "
                                "API starts file and REST sources and reprocesses (since)")
        if not request.input:
            raise ApiError(422, f"{request.source} is a file source: give input (s3://bucket/key)")
        from framework.runtime.batch import Batch, LandedObject, new_batch_id
        from framework.runtime.orchestration import pipeline_input

        bucket, key = _s3_object(request.input)
        lake = self.lake(request.source)
        raw_bucket = lake["raw"][0]
        if bucket != raw_bucket or not key.startswith(f"{request.source}/"):
            raise ApiError(422, f"input must be an object of the raw zone under s3://{raw_bucket}/{request.source}/")
        now = self.clock()
        batch_id = new_batch_id(now, "api", bucket, key)
        obj = LandedObject(bucket, key, f"s3://{bucket}/{key}", f"{bucket}/{key}")
        batch = Batch(request.source, batch_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), [obj])
        self._execute(machine, batch_id, pipeline_input(batch, lake))
        return batch_id

    def _fetch_now(self, source: str) -> str:
        """A REST source fetches now: its connector is invoked (asynchronously, as its schedule would) with the
        batch id the answer names, so the pipeline id is known before the fetch lands anything."""
        from uuid import uuid4

        from framework.runtime.batch import new_batch_id

        now = self.clock()
        batch_id = new_batch_id(now, "api", source, uuid4().hex)
        event = {"source": "onboard.pipeline-api", "detail-type": "Pipeline API request", "id": batch_id,
                 "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "batch_id": batch_id}
        if self.lambda_client is None:
            import boto3

            self.lambda_client = boto3.client("lambda")
        self.lambda_client.invoke(FunctionName=self.catalog[source]["connector"], InvocationType="Event",
                                  Payload=json.dumps(event).encode())
        return batch_id

    def _reprocess(self, request: StartRequest, machine: str) -> str:
        """The source's succeeded batches since the date, each a new execution; the first one's batch id."""
        from framework.runtime.batch import new_batch_id

        chosen = [r for r in reversed(self.ledger.recent(request.source, ALL_RUNS))
                  if r.status == "succeeded" and r.reprocess_of is None
                  and (r.ingest_time or "")[:10] >= request.since.isoformat()]  # type: ignore[union-attr]
        if not chosen:
            raise ApiError(409, f"{request.source} has no succeeded batch ingested on or after {request.since} "
                                "to reprocess")
        if self.catalog[request.source].get("load_mode", "append") == "append":
            raise ApiError(409, f"{request.source} appends: reprocessing would load its rows a second time; use "
                                "`onboard run --reprocess --deployed --yes`")
        now = self.clock()
        first = None
        for record in chosen:
            new_id = new_batch_id(now, "reprocess", record.batch_id)
            original_arn = machine.replace(":stateMachine:", ":execution:", 1) + ":" + record.batch_id
            try:
                original = json.loads(self.stepfunctions.describe_execution(executionArn=original_arn)["input"])
            except self.stepfunctions.exceptions.ExecutionDoesNotExist:
                raise ApiError(409, f"the first execution of batch {record.batch_id} is gone (Step Functions keeps "
                                    "closed executions for 90 days); land its raw objects again") from None
            self._execute(machine, new_id, reprocess_input(original, record.batch_id, new_id))
            first = first or new_id
        return first  # type: ignore[return-value]

    def _execute(self, machine: str, name: str, execution_input: dict[str, Any]) -> None:
        errors = self.stepfunctions.exceptions
        try:
            self.stepfunctions.start_execution(stateMachineArn=machine, name=name,
                                               input=json.dumps(execution_input, sort_keys=True))
        except errors.StateMachineDoesNotExist:
            raise ApiError(404, f"no state machine {machine.rsplit(':', 1)[-1]}: is the source deployed "
                                "(onboard deploy)?") from None
        except errors.ExecutionAlreadyExists:
            raise ApiError(409, f"batch {name} was started already") from None


PER_BATCH_ARGUMENTS = ("--batch_id", "--quarantine", "--manifest", "--summary")


def reprocess_input(original: dict[str, Any], old_id: str, new_id: str) -> dict[str, Any]:
    """A reprocess execution's input: the original's, with the new batch id wherever the batch's own outputs
    are named (its raw objects, in `objects` and `--input`, stay the original's)."""
    arguments = dict(original.get("glue_arguments") or {})
    for name in PER_BATCH_ARGUMENTS:
        if name in arguments:
            arguments[name] = arguments[name].replace(old_id, new_id)
    found = {k: v for k, v in original.items() if k not in ("resume_from",)}
    found.update(batch_id=new_id, glue_arguments=arguments, reprocess_of=old_id)
    for name in ("manifest_uri", "summary_uri"):
        if name in found:
            found[name] = found[name].replace(old_id, new_id)
    return found


def _s3_object(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:] or uri.endswith("/"):
        raise ApiError(422, f"input must be an S3 object URI (s3://bucket/key), not {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def load_catalog(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The sources the API knows: the JSON file `ONBOARD_API_SOURCES` (shipped in the function's asset, as a
    catalog of thirty sources outgrows Lambda's 4 KB of environment), each state machine named there and
    completed into its ARN by `ONBOARD_STATE_MACHINE_ARN_PREFIX` (`arn:<partition>:states:<region>:<account>:
    stateMachine:`)."""
    path = os.path.join(environ.get("LAMBDA_TASK_ROOT", ""), environ["ONBOARD_API_SOURCES"])
    with open(path, encoding="utf-8") as file:
        catalog = json.load(file)
    prefix = environ["ONBOARD_STATE_MACHINE_ARN_PREFIX"]
    return {name: {**entry, "state_machine": prefix + entry["state_machine"]} for name, entry in catalog.items()}


def lambda_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": JSON_HEADERS, "body": json.dumps(body, sort_keys=True)}


def handler(event: dict[str, Any], context: Any = None, *, backend: Backend | None = None) -> dict[str, Any]:
    """API Gateway (REST, proxy integration) -> route -> the proxy answer."""
    if backend is None:
        import boto3

        from framework.runtime.ledger import DynamoRunLedger

        backend = DeployedBackend(DynamoRunLedger(os.environ["ONBOARD_LEDGER_TABLE"]), boto3.client("stepfunctions"),
                                  load_catalog(os.environ), os.environ)
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    status, answer = route(event.get("httpMethod", "GET"), event.get("path") or "/",
                           event.get("queryStringParameters") or {}, body, backend)
    return lambda_response(status, answer)


# -- the OpenAPI document -----------------------------------------------------------------------------------

def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.0 document (deterministic)."""
    nullable_string = {"type": "string", "nullable": True}
    pipeline = {
        "type": "object", "additionalProperties": False,
        "required": ["pipeline_id", "source", "batch_id", "status", "stage", *COUNTS, "quality_score", "seconds",
                     "error"],
        "properties": {
            "pipeline_id": {"type": "string", "description": "<source>.<batch_id>"},
            "source": {"type": "string"}, "batch_id": {"type": "string"},
            "status": {"type": "string", "enum": [*STATUSES, "skipped"]},
            "stage": {"type": "string", "enum": ["land", "transform", "load", "done"]},
            **{name: {"type": "integer", "minimum": 0} for name in COUNTS},
            "quality_score": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
            "seconds": {"type": "object", "additionalProperties": {"type": "number"},
                        "description": "seconds per stage (land, transform, load)"},
            "error": nullable_string, "ingest_time": nullable_string, "updated_at": nullable_string,
            "reprocess_of": nullable_string,
        }}
    schemas = {
        "StartRequest": {
            "type": "object", "additionalProperties": False, "required": ["source"],
            "properties": {
                "source": {"type": "string", "description": "a source's name (sources/<name>.yaml)"},
                "input": {"type": "string", "description": "the object a file source processes: s3://bucket/key "
                                                           "deployed (raw zone, under <source>/), a path locally"},
                "since": {"type": "string", "format": "date",
                          "description": "reprocess the source's batches ingested on or after this date"}}},
        "Started": {
            "type": "object", "additionalProperties": False, "required": ["pipeline_id", "source", "status"],
            "properties": {"pipeline_id": {"type": "string"}, "source": {"type": "string"},
                           "status": {"type": "string", "enum": ["running"]}}},
        "Pipeline": pipeline,
        "PipelineList": {
            "type": "object", "additionalProperties": False, "required": ["pipelines", "next"],
            "properties": {"pipelines": {"type": "array", "items": {"$ref": "#/components/schemas/Pipeline"}},
                           "next": {**nullable_string, "description": "pass as ?next= for the next page"}}},
        "Error": {"type": "object", "additionalProperties": False, "required": ["error"],
                  "properties": {"error": {"type": "string"}}},
    }
    query = [
        {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": list(STATUSES)}},
        {"name": "source", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
        {"name": "next", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    return {
        "openapi": "3.0.3",
        "x-generated": "by `onboard generate` from framework/runtime/pipeline_api.py; do not edit",
        "info": {"title": "Onboard pipeline API", "version": "1.0.0",
                 "description": "Start a source's pipeline, read a run's ledger record, list runs. Deployed, "
                                "every method needs IAM (SigV4) authorization."},
        "paths": {
            "/pipelines": {
                "post": {"operationId": "startPipeline", "summary": "Start a source's pipeline now",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/StartRequest"}}}},
                         "responses": {"202": _ok("started", "Started"), "400": _error("the body is not a JSON "
                                                                                           "object"),
                                       "404": _error("unknown source"),
                                       "409": _error("the source is already running, or nothing to reprocess"),
                                       "422": _error("fields named wrongly")}},
                "get": {"operationId": "listPipelines", "summary": "Runs, newest first", "parameters": query,
                        "responses": {"200": _ok("a page of runs", "PipelineList"),
                                      "404": _error("unknown source"), "422": _error("bad query parameter")}}},
            "/pipelines/{pipeline_id}": {
                "get": {"operationId": "getPipeline", "summary": "One run's ledger record",
                        "parameters": [{"name": "pipeline_id", "in": "path", "required": True,
                                        "schema": {"type": "string"}}],
                        "responses": {"200": _ok("the run", "Pipeline"), "404": _error("unknown pipeline id")}}},
            "/openapi.json": {
                "get": {"operationId": "openapi", "summary": "This document",
                        "responses": {"200": {"description": "the OpenAPI document",
                                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": schemas},
    }


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
