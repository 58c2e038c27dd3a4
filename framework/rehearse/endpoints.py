"""Answer chosen AWS API calls in-process, through botocore's own extension points.

botocore emits `before-call.<service>.<Operation>` before it sends a request; a handler that returns
`(http_response, parsed_response)` is the answer and nothing is sent (moto's own mock hooks in one step later,
at `before-send`, so every other call still reaches moto). The operation's API parameters are kept from
`before-parameter-build` in the request context. Registered on boto3's default session, the hook reaches
every client the rehearsal's code creates: the Lambda handlers', and moto's Step Functions interpreter's
(`boto3.client(...)` per task), without patching moto.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]
_PARAMS = "onboard_rehearse_params"


class ServiceError(Exception):
    """An API error answer: `code` becomes the ClientError's code (and the state machine's error name)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


class Endpoints:
    """The operations answered in-process: `(service id, operation name) -> handler(params) -> response`."""

    def __init__(self, around: Callable[[], Any] | None = None) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.around = around  # a context manager factory every answer runs in
        self.unwrapped: set[tuple[str, str]] = set()


    def add(self, service: str, operation: str, handler: Handler, around: bool = True) -> None:
        """`around=False`: the handler runs without the `around` context (it takes it itself, if at all)."""
        self.handlers[(service, operation)] = handler
        if not around:
            self.unwrapped.add((service, operation))

    def install(self, session: Any) -> None:
        """Hook every handler into `session` (a boto3 Session): clients it creates afterwards use them."""
        for service, operation in self.handlers:
            session.events.register(f"before-parameter-build.{service}.{operation}", _keep_params)
            session.events.register(f"before-call.{service}.{operation}", self._answer)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """The handler's answer; a handler that returns None lets the call go on to moto."""
        service = model.service_model.service_id.hyphenize()
        handler = self.handlers[(service, model.name)]
        try:
            if self.around is None or (service, model.name) in self.unwrapped:
                answer = handler(context.get(_PARAMS, {}))
            else:
                with self.around():
                    answer = handler(context.get(_PARAMS, {}))
            if answer is None:
                return None
            metadata = {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
            return AWSResponse("https://rehearsal.invalid/", 200, {}, None), {**answer, "ResponseMetadata": metadata}
        except ServiceError as error:
            metadata = {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": error.status, "HTTPHeaders": {},
                        "RetryAttempts": 0}
            return (AWSResponse("https://rehearsal.invalid/", error.status, {}, None),
                    {"Error": {"Code": error.code, "Message": error.message}, "ResponseMetadata": metadata})


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def json_payload(data: bytes | str | None) -> Any:
    if data is None or data == b"" or data == "":
        return {}
    return json.loads(data)
