"""`--fail-at STATE`: the named task of the state machine fails, so its catch path is rehearsed.

The fault is injected where the task's work happens, not in the definition: a Lambda task's function
raises InjectedFailure for the invocation that state makes (recognised by the function and the constant
fields of the state's payload), a Glue task's job run ends FAILED, an SNS or SDK task's call is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from framework.rehearse.endpoints import ServiceError

if TYPE_CHECKING:
    from framework.rehearse.endpoints import Endpoints
    from framework.rehearse.execution import Rehearsal, SourcePipeline

ERROR_TYPE = "InjectedFailure"


def message(state: str) -> str:
    return f"injected by onboard rehearse --fail-at {state}"


def task_states(definition: dict[str, Any]) -> list[str]:
    return [name for name, state in definition["States"].items() if state["Type"] == "Task"]


def _payload_matcher(template: dict[str, Any]) -> Callable[[Any], bool]:
    """An event made from `template`: the same fields, and the same values where the template is constant."""
    names = {key.removesuffix(".$") for key in template}
    constants = {key: value for key, value in template.items() if not key.endswith(".$")}

    def matches(event: Any) -> bool:
        return (isinstance(event, dict) and set(event) == names
                and all(event.get(k) == v for k, v in constants.items()))

    return matches


def inject(rehearsal: Rehearsal, pipeline: SourcePipeline, state_name: str, endpoints: Endpoints) -> None:
    """Make `state_name` of the pipeline's state machine fail; ValueError when it is not a task."""
    tasks = task_states(pipeline.definition)
    if state_name not in tasks:
        raise ValueError(f"--fail-at {state_name}: not a task of {pipeline.name}'s state machine; "
                         f"choose from: {', '.join(tasks)}")
    state = pipeline.definition["States"][state_name]
    resource, parameters = state["Resource"], state.get("Parameters", {})
    text = message(state_name)
    if resource.endswith(":lambda:invoke"):
        function = rehearsal.lambdas.function(parameters["FunctionName"])
        rehearsal.lambdas.failures.append((function.name, _payload_matcher(parameters.get("Payload", {})), text))
    elif resource.endswith(":glue:startJobRun.sync"):
        rehearsal.glue.fail_jobs[parameters["JobName"]] = f"{ERROR_TYPE}: {text}"
    elif resource.endswith(":sns:publish"):
        subject = parameters.get("Subject")

        def publish(params: dict[str, Any]) -> dict[str, Any] | None:
            if params.get("Subject") == subject:
                raise ServiceError(ERROR_TYPE, text)
            return None  # every other message goes to moto's topic

        endpoints.add("sns", "Publish", publish)
    elif ":aws-sdk:" in resource:
        service, action = resource.split(":aws-sdk:")[1].split(":")
        operation = action[0].upper() + action[1:]

        def refuse(params: dict[str, Any]) -> dict[str, Any] | None:
            raise ServiceError(ERROR_TYPE, text)

        endpoints.add(service, operation, refuse)
    else:
        raise ValueError(f"--fail-at {state_name}: cannot inject a failure into a {resource} task")
