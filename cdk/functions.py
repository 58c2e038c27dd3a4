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

from onboard_cdk.nag import acknowledge

# One pinned, generally available runtime for every Onboard function (the runtime code needs Python 3.11+, the
# standard library and boto3), not "the newest this aws-cdk-lib knows": a CDK upgrade must not change it.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64  # the code is pure Python: Graviton costs less per GB-second
RUNTIME_REASON = ("Onboard pins one generally available Python runtime for all its functions (onboard_cdk.functions."
                  "RUNTIME), so an upgrade of aws-cdk-lib never changes the runtime under deployed code.")


class OnboardFunction(Construct):
    """A Python Lambda (arm64) with its own role and an encrypted log group with retention; no reserved
    concurrency unless asked for (a new account has none to spare: Lambda keeps 100 executions unreserved).

    The role starts empty apart from writing its own log group: callers add exactly what it needs.
    """

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, code_dir: Path, handler: str,
                 description: str, key: kms.IKey, log_retention: logs.RetentionDays, environment: dict[str, str],
                 timeout: Duration, reserved_concurrency: int | None = None, memory_mb: int = 512,
                 dead_letter_queue: sqs.IQueue | None = None) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"{function_name}: {description}")
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key)
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Function", function_name=function_name, description=description, runtime=RUNTIME,
            architecture=ARCHITECTURE, handler=handler, code=lambda_.Code.from_asset(str(code_dir)), role=self.role,
            timeout=timeout,
            memory_size=memory_mb, reserved_concurrent_executions=reserved_concurrency, log_group=self.log_group,
            environment=environment, environment_encryption=key, dead_letter_queue=dead_letter_queue,
            retry_attempts=2 if dead_letter_queue is not None else None)
        acknowledge(self.function, "L1", RUNTIME_REASON)
