"""The Lambdas of a source: the connector (lands input, starts the pipeline), the warehouse loader and the
run ledger task of its state machine."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def latest_python_runtime() -> lambda_.Runtime:
    """The newest Python runtime this aws-cdk-lib knows (what cdk-nag's AwsSolutions-L1 asks for).

    The runtime code needs Python 3.11+ and only the standard library and boto3.
    """
    def version(runtime: lambda_.Runtime) -> tuple[int, ...]:
        return tuple(int(part) for part in runtime.name.removeprefix("python").split("."))

    pythons = [r for r in lambda_.Runtime.ALL if r.name.startswith("python3.")]
    return max(pythons, key=version)


RUNTIME = latest_python_runtime()
CONNECTOR_RESERVED_CONCURRENCY = 5
LOADER_RESERVED_CONCURRENCY = 2
RUNS_RESERVED_CONCURRENCY = 2


class OnboardFunction(Construct):
    """A Python Lambda with its own role, an encrypted log group with retention and a reserved concurrency.

    The role starts empty apart from writing its own log group: callers add exactly what it needs.
    """

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, code_dir: Path, handler: str,
                 description: str, key: kms.IKey, log_retention: logs.RetentionDays, environment: dict[str, str],
                 reserved_concurrency: int | None, timeout: Duration, memory_mb: int = 512,
                 dead_letter_queue: sqs.IQueue | None = None) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"{function_name}: {description}")
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key)
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Function", function_name=function_name, description=description, runtime=RUNTIME,
            handler=handler, code=lambda_.Code.from_asset(str(code_dir)), role=self.role, timeout=timeout,
            memory_size=memory_mb, reserved_concurrent_executions=reserved_concurrency, log_group=self.log_group,
            environment=environment, environment_encryption=key, dead_letter_queue=dead_letter_queue,
            retry_attempts=2 if dead_letter_queue is not None else None)
