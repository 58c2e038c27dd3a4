"""Hand a landed batch to the source's Step Functions state machine (deployed runs only)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

from framework.runtime.batch import Batch
from framework.runtime.lake import lake_from_env, manifest_key, quarantine_prefix, s3_uri, summary_key


def job_arguments(batch: Batch, lake: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The Glue job arguments of one batch (docs/contracts.md "Job arguments"), as S3 URIs.

    Glue passes `--JOB_NAME` itself, so it is not among them.
    """
    processed_bucket, processed_prefix = lake["processed"]
    manifests_bucket, _ = lake["manifests"]
    quarantine_bucket, _ = lake["quarantine"]
    return {
        "--batch_id": batch.batch_id,
        "--input": ",".join(batch.input_uris()),
        "--output": s3_uri(processed_bucket, processed_prefix),
        "--quarantine": s3_uri(quarantine_bucket, quarantine_prefix(batch.source, batch.batch_id)),
        "--manifest": s3_uri(manifests_bucket, manifest_key(batch.source, batch.batch_id)),
        "--summary": s3_uri(manifests_bucket, summary_key(batch.source, batch.batch_id)),
        "--ingest_time": batch.ingest_time,
    }


def pipeline_input(batch: Batch, lake: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The execution input of the source's state machine: the batch and what each step needs."""
    arguments = job_arguments(batch, lake)
    return {
        "source": batch.source,
        "batch_id": batch.batch_id,
        "ingest_time": batch.ingest_time,
        "files": batch.files_landed,
        "objects": batch.input_uris(),
        # For the run ledger: each object's origin and ETag (its claim) and the folder of a paged batch.
        "landed_objects": [asdict(o) for o in batch.objects],
        "folder": asdict(batch.folder) if batch.folder else None,
        "glue_arguments": arguments,
        "manifest_uri": arguments["--manifest"],
        "summary_uri": arguments["--summary"],
    }


def start_pipeline(batch: Batch, client: Any = None) -> str:
    """Start one execution per batch, named by the batch id so a repeated event cannot start it twice."""
    import boto3

    client = client or boto3.client("stepfunctions")
    try:
        response = client.start_execution(
            stateMachineArn=os.environ["ONBOARD_STATE_MACHINE_ARN"],
            name=batch.batch_id,
            input=json.dumps(pipeline_input(batch, lake_from_env()), sort_keys=True),
        )
    except client.exceptions.ExecutionAlreadyExists:
        return "already-started"
    return response["executionArn"]
