"""One work-around for moto's Step Functions interpreter (moto 5.2.5), applied only while rehearsing.

A `.sync` task of a service without task-token callbacks (Glue's `startJobRun.sync`) ends in
`callback_endpoint.interrupt_all()` on an endpoint that was never made, so every Glue task fails with
States.Runtime "'NoneType' object has no attribute 'interrupt_all'" (the interpreter comes from LocalStack,
which fixed the same crash in localstack/localstack#13705). Declaring task-token callbacks supported for
Glue makes the interpreter create the endpoint, as Step Functions does for sync tasks it lets a task token
interrupt (localstack/localstack#11197); the job run is still polled with GetJobRun until it ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from unittest import mock


def glue_sync_endpoint() -> AbstractContextManager[object]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_glue as glue,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

    return mock.patch.object(glue, "_SUPPORTED_INTEGRATION_PATTERNS",
                             {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})
