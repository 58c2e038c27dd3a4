"""Hand a landed batch to the source's Step Functions state machine (deployed runs only)."""

from __future__ import annotations

import json
import os

from framework.runtime.batch import Batch


def start_pipeline(batch: Batch, client=None) -> str:
    """Start one execution per batch, named by the batch id so a repeated event cannot start it twice."""
    import boto3

    client = client or boto3.client("stepfunctions")
    try:
        response = client.start_execution(
            stateMachineArn=os.environ["ONBOARD_STATE_MACHINE_ARN"],
            name=batch.batch_id,
            input=json.dumps(batch.to_dict()),
        )
    except client.exceptions.ExecutionAlreadyExists:
        return "already-started"
    return response["executionArn"]
