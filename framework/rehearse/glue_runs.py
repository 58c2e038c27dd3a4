"""Glue `StartJobRun` / `GetJobRun`: the job's script from its asset, run on local Spark.

A run gets the job's DefaultArguments from the template plus the run's Arguments (which win), with
`--JOB_NAME` as Glue adds it; lake locations (`s3://<lake bucket>/...`) become local paths (see lake.py).
The run is executed when it starts, so the first GetJobRun already sees its end: SUCCEEDED, or FAILED with
the job's error as `ErrorMessage` (`<ExceptionType>: <first line>`), as Glue reports a failed Python job.
A job at its MaxConcurrentRuns refuses a new run with ConcurrentRunsExceededException.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framework.local.spark import run_glue_script
from framework.rehearse.assembly import Stack
from framework.rehearse.endpoints import Endpoints, ServiceError
from framework.rehearse.lake import LakeBridge


@dataclass
class GlueJob:
    name: str
    script: Path
    default_arguments: dict[str, str]
    max_concurrent_runs: int = 1


@dataclass
class JobRun:
    id: str
    job: str
    arguments: dict[str, str]
    state: str = "RUNNING"
    error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    completed: datetime | None = None

    @property
    def seconds(self) -> float:
        return round(((self.completed or datetime.now(UTC)) - self.started).total_seconds(), 3)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"Id": self.id, "JobName": self.job, "JobRunState": self.state,
                                     "Arguments": self.arguments, "StartedOn": self.started, "Attempt": 0,
                                     "ExecutionTime": int(self.seconds)}
        if self.completed:
            described["CompletedOn"] = described["LastModifiedOn"] = self.completed
        if self.error:
            described["ErrorMessage"] = self.error
        return described


def jobs_of(stack: Stack) -> dict[str, GlueJob]:
    found = {}
    for logical_id, resource in stack.of_type("AWS::Glue::Job").items():
        properties = stack.resolve(resource["Properties"])
        script_key = properties["Command"]["ScriptLocation"].split("/", 3)[3]
        name = stack.physical_name(logical_id)
        found[name] = GlueJob(name, stack.asset_path(script_key),
                              {k: str(v) for k, v in properties.get("DefaultArguments", {}).items()},
                              int(properties.get("ExecutionProperty", {}).get("MaxConcurrentRuns", 1)))
    return found


class GlueService:
    """The job runs of the rehearsal's Glue jobs. `fail_jobs`: job names whose runs fail (--fail-at)."""

    def __init__(self, jobs: dict[str, GlueJob], lake: LakeBridge,
                 runner: Callable[[Path, dict[str, str]], None] = run_glue_script,
                 exclusive: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext) -> None:
        """`exclusive`: what a run holds while it executes (the rehearsal's process lock); a run is RUNNING,
        and counts against MaxConcurrentRuns, from its start, before it gets the lock."""
        self.jobs, self.lake, self.runner, self.exclusive = jobs, lake, runner, exclusive
        self.runs: dict[str, JobRun] = {}
        self.fail_jobs: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, endpoints: Endpoints) -> None:
        endpoints.add("glue", "StartJobRun", self._start, around=False)
        endpoints.add("glue", "GetJobRun", self._get, around=False)

    def runs_of(self, batch_ids: set[str]) -> list[JobRun]:
        """The runs (in start order) whose --batch_id is one of `batch_ids` (a coalesced run names several)."""
        return [run for run in self.runs.values()
                if batch_ids & set(run.arguments.get("--batch_id", "").split(","))]

    def _start(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(params.get("JobName", ""))
        if job is None:
            raise ServiceError("EntityNotFoundException", f"Job {params.get('JobName')} not found")
        with self._lock:
            running = [r for r in self.runs.values() if r.job == job.name and r.state == "RUNNING"]
            if len(running) >= job.max_concurrent_runs:
                raise ServiceError("ConcurrentRunsExceededException",
                                   f"Concurrent runs exceeded for {job.name}")
            arguments = {**job.default_arguments, **(params.get("Arguments") or {})}
            run = JobRun("jr_" + uuid.uuid4().hex, job.name, arguments)
            self.runs[run.id] = run
        try:
            with self.exclusive():
                self._execute(job, run)
        finally:
            run.completed = datetime.now(UTC)
        return {"JobRunId": run.id}

    def _execute(self, job: GlueJob, run: JobRun) -> None:
        if job.name in self.fail_jobs:
            run.state, run.error = "FAILED", self.fail_jobs[job.name]
            return
        arguments = {"JOB_NAME": job.name, **{k.removeprefix("--"): v for k, v in run.arguments.items()}}
        for uri in arguments.get("input", "").split(","):
            if uri.startswith("s3://"):
                self.lake.pull(uri)
        local = {name: self.lake.localize(value) for name, value in arguments.items()}
        if arguments.get("summary", "").startswith("s3://"):
            self.lake.local_path(arguments["summary"]).unlink(missing_ok=True)
        try:
            self.runner(job.script, local)
            run.state = "SUCCEEDED"
        except Exception as error:  # the job's failure is the run's state, as Glue reports it
            text = str(error).strip().splitlines()
            run.state, run.error = "FAILED", f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
        finally:
            for name in ("manifest", "summary"):
                if arguments.get(name, "").startswith("s3://"):
                    self.lake.push(arguments[name])
        run.completed = datetime.now(UTC)

    def _get(self, params: dict[str, Any]) -> dict[str, Any]:
        run = self.runs.get(params.get("RunId", ""))
        if run is None or run.job != params.get("JobName"):
            raise ServiceError("EntityNotFoundException", f"Job run {params.get('RunId')} not found")
        return {"JobRun": run.describe()}
