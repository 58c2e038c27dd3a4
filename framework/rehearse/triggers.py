"""Deliver an input to a source's connector as its deployed trigger would.

- s3_file: the object is put in the (moto) bucket and EventBridge's `Object Created` event for it goes to
  the connector, after checking that the template's rule for the connector matches it.
- email: the message is stored where the SES receipt rule's S3 action puts it; the rule's Lambda action
  event follows (framework.local.triggers builds both).
- http_push: API Gateway's proxy event of one POST; stream: Kinesis (or Kafka) event batches;
  rest_api: the schedule's event, with the recorded fixture served on 127.0.0.1 (`ONBOARD_LOCAL_API`).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.local.runner import environment
from framework.local.triggers import TRIGGERS
from framework.runtime.storage import S3Storage

if TYPE_CHECKING:
    from framework.rehearse.execution import Rehearsal, SourcePipeline


class TriggerError(RuntimeError):
    """The trigger would not deliver this input (no rule matches), or the connector failed on it."""


def object_created_event(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """EventBridge's event for a new S3 object (the bucket sends events to EventBridge)."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1", "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": key, "size": size, "etag": etag, "sequencer": "0"},
                       "request-id": "rehearsal", "requester": "123456789012", "reason": "PutObject"}}


def rules_matching(pipeline: SourcePipeline, event: dict[str, Any],
                   target_arn: str | None = None) -> dict[str, list[str]]:
    """The stack's EventBridge rules whose pattern matches `event` (moto's matcher), with their target ARNs;
    only rules targeting `target_arn` when given."""
    from moto.events.models import EventPattern

    stack = pipeline.stack
    found = {}
    for logical_id, rule in stack.of_type("AWS::Events::Rule").items():
        properties = stack.resolve(rule["Properties"])
        targets = [t["Arn"] for t in properties.get("Targets", [])]
        if target_arn is not None and target_arn not in targets:
            continue
        if "EventPattern" in properties and EventPattern.load(json.dumps(properties["EventPattern"])).matches_event(
                event):
            found[logical_id] = targets
    return found


def execution_status_event(described: dict[str, Any]) -> dict[str, Any]:
    """EventBridge's `Step Functions Execution Status Change` event for an execution that ended."""
    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment else None

    detail = {"executionArn": described["executionArn"], "stateMachineArn": described["stateMachineArn"],
              "name": described["name"], "status": described["status"],
              "startDate": millis(described.get("startDate")), "stopDate": millis(described.get("stopDate")),
              "input": described.get("input"), "output": described.get("output"),
              "error": described.get("error"), "cause": described.get("cause")}
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states", "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
            "resources": [described["executionArn"]], "detail": detail}


def publish_event(pipeline: SourcePipeline, event: dict[str, Any]) -> list[tuple[str, Any]]:
    """Deliver `event` to the Lambda targets of every matching rule of the stack; (function, answer or error)."""
    answers = []
    for targets in rules_matching(pipeline, event).values():
        for arn in targets:
            function = pipeline.functions.get(arn)
            if function is None:
                continue
            try:
                answers.append((function.name, function.invoke(event)))
            except Exception as error:  # an async target's failure goes to its retries and DLQ
                answers.append((function.name, f"{type(error).__name__}: {error}"))
    return answers


def _buckets(pipeline: SourcePipeline) -> contextlib.AbstractContextManager[None]:
    """`${BUCKET:zone}` resolves to the deployed bucket names while the trigger stores the input."""
    return environment(**{k: v for k, v in pipeline.connector.environment.items() if k.startswith("ONBOARD_BUCKET_")})


def fire_schedules(pipeline: SourcePipeline) -> list[Any]:
    """Fire every schedule rule of the stack that targets a function other than the connector (a buffered
    source's flush), once, as EventBridge would when its rate comes round; the functions' answers."""
    from framework.local.triggers import scheduled_event

    stack = pipeline.stack
    answers = []
    for rule in stack.of_type("AWS::Events::Rule").values():
        properties = stack.resolve(rule["Properties"])
        if "ScheduleExpression" not in properties:
            continue
        for target in properties.get("Targets", []):
            function = pipeline.functions.get(target["Arn"])
            if function is not None and function is not pipeline.connector:
                answers.append(function.invoke(json.loads(target["Input"]) if "Input" in target
                                               else scheduled_event(properties.get("Name") or function.name)))
    return answers


def deliver_trigger(rehearsal: Rehearsal, pipeline: SourcePipeline, input_path: Path | None) -> list[Any]:
    """Run the connector on the trigger's event(s) for `input_path`; its answers."""
    config = json.loads((rehearsal.project.generated_dir / pipeline.name / "connector/config.json")
                        .read_text(encoding="utf-8"))
    kind = config["type"]
    if kind == "s3_file":
        if input_path is None:
            raise TriggerError("an s3_file source needs an input file")
        with _buckets(pipeline):
            from framework.runtime.references import resolve

            bucket = resolve(config["config"]["bucket"])
        key = config["config"]["prefix"] + input_path.name
        rehearsal.s3.put_object(Bucket=bucket, Key=key, Body=input_path.read_bytes())
        head = rehearsal.s3.head_object(Bucket=bucket, Key=key)
        event = object_created_event(bucket, key, head["ContentLength"], head["ETag"].strip('"'))
        if not rules_matching(pipeline, event, pipeline.connector.arn):
            raise TriggerError(f"no EventBridge rule of {pipeline.stack.construct_id} sends s3://{bucket}/{key} "
                               "to the connector")
        return [pipeline.connector.invoke(event)]
    storage = S3Storage(rehearsal.s3)
    with _buckets(pipeline), TRIGGERS[kind](storage, config, input_path) as delivered:
        events = delivered if isinstance(delivered, list) else [delivered]
        return [pipeline.connector.invoke(event) for event in events]
