"""`onboard run SOURCE --reprocess`: run a source's raw objects again through its current job, as new batches.

After a column is added, data already received can only fill it by being transformed again: the same file
delivered again is (rightly) skipped as already loaded. A reprocess takes the raw objects of the source's
succeeded batches from the run ledger (oldest first; `--since DATE` by ingest date, `--batch ID` one batch),
and runs each again as a new batch whose ledger record says `reprocess_of: <original batch>`. Merge sources
then replace their rows by key and replace sources their table; an append source would add the rows a
second time, so that needs `--yes` after being told how many, as does one `--batch` that later batches
followed (its rows would replace theirs).

Locally the batches go through `LocalRunner.process`; deployed, each is a new execution of the source's
state machine (input: the original batch's first execution input under the new batch id, plus
`reprocess_of`), whose ledger task records `reprocess_of` and leaves the original's object claims alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from framework.project import Project
from framework.runtime.batch import Batch, new_batch_id
from framework.runtime.ledger import RunLedger, RunRecord
from framework.spec import ResolvedSource

ALL_RUNS = 100_000
PER_BATCH_ARGUMENTS = ("--batch_id", "--quarantine", "--manifest", "--summary")


class ReprocessRefused(RuntimeError):
    """Nothing was started; the message says why and what to do."""


@dataclass(frozen=True)
class Reprocess:
    """One original batch and the new batch that runs its raw objects again."""

    original: RunRecord
    batch_id: str


def select(ledger: RunLedger, source: ResolvedSource, *, since: date | None = None, batch: str | None = None,
           yes: bool = False, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Reprocess]:
    """The batches to run again, oldest first, each with its new batch id; refuses what would surprise."""
    name = source.name
    if batch is not None:
        record = ledger.get(name, batch)
        if record is None:
            raise ReprocessRefused(f"no batch {batch} of {name} in the run ledger")
        if record.status != "succeeded":
            raise ReprocessRefused(f"batch {batch} of {name} is {record.status}; only a succeeded batch is "
                                   f"reprocessed (a failed one is continued with `--resume {batch}`)")
        chosen = [record.reprocess_of and ledger.get(name, record.reprocess_of) or record]
    else:
        chosen = [r for r in reversed(ledger.recent(name, ALL_RUNS))
                  if r.status == "succeeded" and r.reprocess_of is None
                  and (since is None or (r.ingest_time or "")[:10] >= since.isoformat())]
    if not chosen:
        after = f" ingested on or after {since.isoformat()}" if since else ""
        raise ReprocessRefused(f"{name} has no succeeded batch{after} to reprocess")
    mode = source.definition.redshift.load.mode
    if batch is not None and mode != "append" and not yes:
        later = [r.batch_id for r in ledger.recent(name, ALL_RUNS) if r.status == "succeeded"
                 and r.reprocess_of is None and r.batch_id > chosen[0].batch_id]
        if later:
            what = "its rows replace the table" if mode == "replace" else \
                "its rows replace those of the later batches with the same key"
            raise ReprocessRefused(
                f"{len(later)} batch(es) of {name} came after {chosen[0].batch_id}, so {what}; reprocess them all "
                f"in order with --since {(chosen[0].ingest_time or '')[:10]}, or pass --yes")
    if mode == "append" and not yes:
        rows = sum(r.rows.get("rows_loaded", 0) for r in chosen)
        table = f"{source.definition.redshift.schema_}.{source.definition.redshift.table}"
        raise ReprocessRefused(
            f"{name} appends: reprocessing {len(chosen)} batch(es) adds their {rows} row(s) to {table} again, "
            "next to the rows already loaded (delete those first to replace them); pass --yes to go ahead")
    now = clock()
    return [Reprocess(r, new_batch_id(now, "reprocess", r.batch_id)) for r in chosen]


def as_batch(item: Reprocess) -> Batch:
    """The new batch: the original's raw objects (or folder) and ingest time, under the new id."""
    record = item.original
    return Batch.from_dict({"source": record.source, "batch_id": item.batch_id, "ingest_time": record.ingest_time,
                            "objects": record.objects, "folder": record.folder})


def reprocess_local(project: Project, source: ResolvedSource, items: list[Reprocess]) -> list[Any]:
    """Run each batch again on the local pipeline; their RunSummaries, in order."""
    from framework.local.runner import LocalRunner, RunError

    runner = LocalRunner(project)
    folder = runner.generated(source)
    runner.check_schema_versions(source, folder)
    for item in items:
        record = item.original
        keys = [(record.folder["bucket"], record.folder["prefix"])] if record.folder else \
            [(o["bucket"], o["key"]) for o in record.objects]
        gone = [key for bucket, key in keys if not runner.storage.list(bucket, key)]
        if gone:
            raise RunError(f"the raw objects of batch {record.batch_id} are gone ({gone[0]}); nothing was "
                           "reprocessed")
    summaries = [runner.process(source, folder, as_batch(item), reprocess_of=item.original.batch_id)
                 for item in items]
    runner.expose_quarantine(source.name)
    return summaries


def reprocess_input(original: dict[str, Any], old_id: str, new_id: str) -> dict[str, Any]:
    """A reprocess execution's input: the original's, with the new batch id wherever the batch's own outputs
    are named (its raw objects, in `objects` and `--input`, stay the original's)."""
    arguments = dict(original.get("glue_arguments") or {})
    for name in PER_BATCH_ARGUMENTS:
        if name in arguments:
            arguments[name] = arguments[name].replace(old_id, new_id)
    found = {k: v for k, v in original.items() if k not in ("resume_from",)}
    found.update(batch_id=new_id, glue_arguments=arguments, reprocess_of=old_id)
    for name in ("manifest_uri", "summary_uri"):
        if name in found:
            found[name] = found[name].replace(old_id, new_id)
    return found


def reprocess_deployed(project: Project, source: ResolvedSource, *, since: date | None = None,
                       batch: str | None = None, yes: bool = False, stepfunctions: Any = None, dynamodb: Any = None,
                       clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[tuple[Reprocess, str]]:
    """Start one execution of the source's state machine per batch to run again; (batch, execution ARN)."""
    import boto3

    from framework.deployed import DeployedError, _prefix, deployed_ledger, state_machine_arn
    from onboard_cdk.naming import resource_name

    stepfunctions = stepfunctions or boto3.client("stepfunctions")
    items = select(deployed_ledger(project, dynamodb), source, since=since, batch=batch, yes=yes, clock=clock)
    machine = state_machine_arn(stepfunctions, resource_name(_prefix(project), source.name))
    started = []
    for item in items:
        old_id = item.original.batch_id
        first = machine.replace(":stateMachine:", ":execution:", 1) + ":" + old_id
        try:
            original = json.loads(stepfunctions.describe_execution(executionArn=first)["input"])
        except stepfunctions.exceptions.ExecutionDoesNotExist:
            raise DeployedError(f"the first execution of batch {old_id} is gone (Step Functions keeps closed "
                                "executions for 90 days); land its raw objects again") from None
        answer = stepfunctions.start_execution(
            stateMachineArn=machine, name=item.batch_id,
            input=json.dumps(reprocess_input(original, old_id, item.batch_id), sort_keys=True))
        started.append((item, answer["executionArn"]))
    return started
