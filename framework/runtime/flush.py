"""The flush Lambda of a buffered source (stream, http_push): every pending micro-batch, one execution.

Invoked by the source's EventBridge schedule (`rate(<buffer.seconds / 60> minutes)`) and, asynchronously, by
the connector when pending data passed `buffer.megabytes`. Environment: ONBOARD_SOURCE, ONBOARD_LEDGER_TABLE,
ONBOARD_STATE_MACHINE_ARN and the lake (ONBOARD_LAKE, ONBOARD_BUCKET_<ZONE>) for the execution input.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from framework.runtime.buffer import flush
from framework.runtime.ledger import DynamoRunLedger, RunLedger

log = logging.getLogger(__name__)
logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def handler(event: dict[str, Any], context: Any = None, *, ledger: RunLedger | None = None,
            sfn: Any = None) -> dict[str, Any]:
    from framework.runtime.orchestration import start_pipeline

    source = os.environ["ONBOARD_SOURCE"]
    ledger = ledger or DynamoRunLedger(os.environ["ONBOARD_LEDGER_TABLE"])
    batches = flush(ledger, source, lambda batch: start_pipeline(batch, client=sfn))
    for batch in batches:
        log.info("flushed %d micro-batch object(s) of %s as batch %s (%s)", len(batch.objects), source,
                 batch.batch_id, batch.status)
    return {"source": source, "batches": [{"batch_id": b.batch_id, "status": b.status, "files": b.files_landed}
                                          for b in batches]}


def request_flush(function_name: str, source: str, client: Any = None) -> None:
    """Ask the flush Lambda to run now (an asynchronous invoke: the connector does not wait)."""
    import json

    import boto3

    client = client or boto3.client("lambda")
    client.invoke(FunctionName=function_name, InvocationType="Event",
                  Payload=json.dumps({"source": source, "reason": "size"}).encode())
