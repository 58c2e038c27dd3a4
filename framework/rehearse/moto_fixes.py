"""One work-around for moto's Step Functions interpreter (moto 5.2.5), applied only while rehearsing.

A `.sync` task of a service without task-token callbacks (Glue's `startJobRun.sync`) ends in
`callback_endpoint.interrupt_all()` on an endpoint that was never made, so every Glue task fails with
States.Runtime "'NoneType' object has no attribute 'interrupt_all'" (the interpreter comes from LocalStack,
which fixed the same crash in localstack/localstack#13705). Declaring task-token callbacks supported for
Glue makes the interpreter create the endpoint, as Step Functions does for sync tasks it lets a task token
interrupt (localstack/localstack#11197); the job run is still polled with GetJobRun until it ends.

Known and left alone: the interpreter refuses a Fail state whose ErrorPath yields a `States.*` name (the
pipeline's `Failed` state re-raises the caught error, e.g. States.TaskFailed); the execution still ends
FAILED there, only its error becomes a runtime error, so the rehearsal takes a failure's error text from the
run ledger (what RecordFailure wrote). Its log lines are kept out of the rehearsal's output.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from unittest import mock


def glue_sync_endpoint() -> AbstractContextManager[object]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_glue as glue,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

    return mock.patch.object(glue, "_SUPPORTED_INTEGRATION_PATTERNS",
                             {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})


@contextlib.contextmanager
def quiet_interpreter() -> Iterator[None]:
    """moto's interpreter logs every caught task failure as an error: the summaries say it better."""
    logger = logging.getLogger("moto.stepfunctions")
    saved = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)
