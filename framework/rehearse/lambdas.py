"""Lambda functions of the templates, run in-process from their assets (moto's Lambda would need Docker).

Each function runs its handler (`module.function`) from its unzipped asset folder with exactly the
environment the template gives it (plus what the Lambda runtime sets: `LAMBDA_TASK_ROOT`,
`AWS_LAMBDA_FUNCTION_NAME`, the region): the asset's own `framework/` and `connector/` packages are imported,
not the installed ones, so an asset that lacks a file fails here as it would in Lambda. Its modules are kept
between invocations (a warm container) and swapped out of `sys.modules` in between, so the installed
`framework` package of the CLI is untouched. Invocations run one at a time (one lock), as the environment
is the process's.

An unhandled exception is answered as Lambda does: `FunctionError: Unhandled` and the payload
`{"errorType", "errorMessage", "stackTrace"}`, which Step Functions turns into the error name and cause.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.local.runner import environment
from framework.rehearse.assembly import REGION, Stack
from framework.rehearse.endpoints import Endpoints, ServiceError, json_payload, streaming

_LOCK = threading.RLock()
_RUNNING: list[Function] = []  # the function whose asset modules are loaded (the innermost last)
# Variables of the rehearsal process that a Lambda environment never has: they would switch the runtime
# to its local backends (lake root, SQLite ledger, secrets file).
_LOCAL_ONLY = ("ONBOARD_LAKE_ROOT", "ONBOARD_LEDGER_PATH", "ONBOARD_SECRETS_FILE", "ONBOARD_SQL_DIR")


class InjectedFailure(RuntimeError):
    """The failure `onboard rehearse --fail-at STATE` injects into a task."""


@dataclass
class Function:
    name: str
    arn: str
    handler: str
    code: Path
    environment: dict[str, str]
    modules: dict[str, Any] = field(default_factory=dict)
    invocations: int = 0
    _host: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def packages(self) -> list[str]:
        """The top-level modules of the asset (they shadow the installed ones while it runs)."""
        names = [p.name for p in self.code.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]
        names += [p.stem for p in self.code.glob("*.py")]
        names += [p.name for p in self.code.iterdir() if p.is_dir() and any(p.glob("*.py")) and p.name not in names]
        return sorted(set(names))

    def _owned(self, name: str) -> bool:
        return any(name == top or name.startswith(top + ".") for top in self.packages)

    @contextlib.contextmanager
    def _loaded(self) -> Iterator[None]:
        """The asset's modules in sys.modules and its folder first on sys.path, for one invocation."""
        saved = {name: module for name, module in list(sys.modules.items()) if self._owned(name)}
        for name in saved:
            del sys.modules[name]
        sys.modules.update(self.modules)
        sys.path.insert(0, str(self.code))
        importlib.invalidate_caches()
        self._host = saved
        _RUNNING.append(self)
        try:
            yield
        finally:
            _RUNNING.pop()
            sys.path.remove(str(self.code))
            self.modules = {name: module for name, module in list(sys.modules.items()) if self._owned(name)}
            for name in self.modules:
                del sys.modules[name]
            sys.modules.update(saved)

    def _environment(self) -> contextlib.AbstractContextManager[None]:
        """The template's environment plus what the Lambda runtime sets, without the local-only names; only
        those names are restored afterwards (the interpreter runs executions on threads of its own)."""
        return environment(**dict.fromkeys(_LOCAL_ONLY), LAMBDA_TASK_ROOT=str(self.code),
                           AWS_LAMBDA_FUNCTION_NAME=self.name, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
                           **self.environment)

    def invoke(self, event: Any) -> Any:
        """The handler's answer to `event` (exceptions propagate)."""
        with _LOCK, self._environment(), self._loaded():
            module_name, _, attribute = self.handler.rpartition(".")
            entry: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
            self.invocations += 1
            return entry(event, LambdaContext(self.name, self.arn))


@dataclass(frozen=True)
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = "rehearsal"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@contextlib.contextmanager
def outside_assets() -> Iterator[None]:
    """Exclusive use of the process (the one lock Lambda invocations take), with the rehearsal's own modules
    in place: a fake endpoint answering a call that a running handler made imports from the installed
    `framework`, not from the asset's. The lock is reentrant, so a handler's own calls get through."""
    with _LOCK:
        if not _RUNNING:
            yield
            return
        with _host_modules(_RUNNING[-1]):
            yield


@contextlib.contextmanager
def _host_modules(function: Function) -> Iterator[None]:
    inside = {name: module for name, module in list(sys.modules.items()) if function._owned(name)}
    for name in inside:
        del sys.modules[name]
    sys.modules.update(function._host)
    sys.path.remove(str(function.code))
    try:
        yield
    finally:
        sys.path.insert(0, str(function.code))
        for name in [n for n in list(sys.modules) if function._owned(n)]:
            del sys.modules[name]
        sys.modules.update(inside)


def functions_of(stack: Stack) -> dict[str, Function]:
    """Every Lambda function of a stack, by name and by ARN."""
    found: dict[str, Function] = {}
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        properties = stack.resolve(resource["Properties"])
        code = properties.get("Code", {})
        if "S3Key" not in code:
            continue  # inline code (CDK's own helpers): not part of the pipeline
        function = Function(
            name=stack.physical_name(logical_id), arn=stack.arn(logical_id), handler=properties["Handler"],
            code=stack.asset_path(code["S3Key"]),
            environment={k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()})
        found[function.name] = found[function.arn] = function
    return found


class LambdaService:
    """`lambda:Invoke` (RequestResponse) of the functions it knows, in-process.

    `failures` maps a function name to a predicate on the event: a matching invocation raises
    InjectedFailure inside the function (the `--fail-at` of a Lambda task)."""

    def __init__(self, functions: dict[str, Function]) -> None:
        self.functions = functions
        self.failures: list[tuple[str, Callable[[Any], bool], str]] = []
        self.async_failures: list[tuple[str, str]] = []

    def register(self, endpoints: Endpoints) -> None:
        endpoints.add("lambda", "Invoke", self._invoke)

    def function(self, name_or_arn: str) -> Function:
        name = name_or_arn.split(":function:")[-1].split(":")[0] if ":function:" in name_or_arn else name_or_arn
        try:
            return self.functions[name]
        except KeyError:
            raise ServiceError("ResourceNotFoundException", f"Function not found: {name_or_arn}", 404) from None

    def _invoke(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params["FunctionName"])
        event = json_payload(params.get("Payload"))
        if params.get("InvocationType") == "Event":  # asynchronous: accepted; it runs (here, now) on its own
            try:
                function.invoke(event)
            except Exception as error:  # an async failure goes to the function's retries and DLQ, not the caller
                self.async_failures.append((function.name, f"{type(error).__name__}: {error}"))
            return {"StatusCode": 202}
        try:
            for name, matches, message in self.failures:
                if name == function.name and matches(event):
                    raise InjectedFailure(message)
            result = function.invoke(event)
        except Exception as error:  # the handler's failure is the invocation's answer, as Lambda gives it
            body = {"errorType": type(error).__name__, "errorMessage": str(error),
                    "stackTrace": traceback.format_tb(error.__traceback__)[-5:]}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                    "Payload": streaming(json.dumps(body).encode("utf-8"))}
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                "Payload": streaming(json.dumps(result).encode("utf-8"))}
