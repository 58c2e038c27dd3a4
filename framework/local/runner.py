"""`onboard run`: land an input through the generated connector, transform it with the generated Glue job
on local Spark and load it with the generated Redshift SQL into the embedded warehouse."""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework.local.engine import Engine, engine_enabled
from framework.local.fixture_api import FixtureError
from framework.local.spark import run_glue_script
from framework.local.triggers import INPUT_OPTIONAL, TRIGGERS
from framework.project import Project
from framework.render import drift, render_source
from framework.render.evolution import LOCK_FILE, MIGRATIONS_DIR, EvolutionRefused, Previous
from framework.runtime.batch import Batch
from framework.runtime.buffer import PendingBuffer, flush
from framework.runtime.errors import ConnectorError
from framework.runtime.lake import manifest_key, quality_score, quarantine_prefix, summary_key
from framework.runtime.ledger import RunLedger, RunRecord, SqliteRunLedger
from framework.runtime.migrations import (
    applied,
    locked_table,
    meta_statements,
    migrate,
    read_migrations,
    version_disagreement,
)
from framework.runtime.references import ReferenceError_
from framework.runtime.storage import LocalStorage
from framework.spec import ResolvedSource
from framework.warehouse import DuckDBWarehouse, as_script, render_load_sql


class RunError(Exception):
    """A run that could not complete; the warehouse is left as it was."""


@dataclass
class RunSummary:
    source: str
    batch_id: str | None
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    files_landed: int = 0
    quality_score: float | None = None
    error: str | None = None
    # A failed run only: rows that passed every check but were not loaded because the run failed.
    rows_not_loaded: int | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    unmapped_fields: list[str] | None = None  # input fields no column maps (ignored), when there are any
    quarantine_examples: dict[str, str] | None = None  # reason kind -> one of its reasons, when rows were quarantined
    quarantine_path: str | None = None  # the folder of this batch's quarantined rows (JSON lines)
    warnings: dict[str, int] | None = None  # rows that broke each `warn` quality rule, when any did
    datasets_refreshed: list[str] | None = None  # curated datasets rebuilt after this load, in order
    dataset_errors: dict[str, str] | None = None  # dataset -> why its refresh failed (the load is committed)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """`os.environ` with `values` set (None: unset) and afterwards those names as they were; other names are
    left alone, so a thread that changed them meanwhile keeps its change."""
    saved = {k: os.environ.get(k) for k in values}
    _apply(values)
    try:
        yield
    finally:
        _apply(saved)


def _apply(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class LocalRunner:
    """Runs sources of one project against its local lake and warehouse."""

    def __init__(self, project: Project, warehouse: DuckDBWarehouse | None = None, engine: bool | None = None,
                 seconds: dict[str, float] | None = None):
        """`engine`: hand the Glue job to the project's warm engine (default: unless ONBOARD_ENGINE=off);
        `seconds`: stages timed before the runner (the command's start-up), added to every summary."""
        self.project = project
        self.storage = LocalStorage(project.lake_dir)
        self._warehouse = warehouse
        self._ledger: SqliteRunLedger | None = None
        self._datasets: list | None = None
        use_engine = engine_enabled() if engine is None else engine
        self.engine = Engine(project.state_dir, on_wait=_tell) if use_engine else None
        self.before = dict(seconds or {})

    @property
    def ledger(self) -> RunLedger:
        if self._ledger is None:
            self._ledger = SqliteRunLedger(self.project.ledger_path)
        return self._ledger

    @property
    def warehouse(self) -> DuckDBWarehouse:
        if self._warehouse is None:
            self.project.state_dir.mkdir(parents=True, exist_ok=True)
            self._warehouse = DuckDBWarehouse(self.project.warehouse_path)
        return self._warehouse

    @property
    def datasets(self) -> list:
        """The project's curated datasets in dependency order (validated against every source)."""
        if self._datasets is None:
            from framework.spec import SpecErrors, load_project
            from framework.spec.datasets import load_datasets

            try:
                self._datasets = load_datasets(self.project, load_project(self.project)) \
                    if self.project.dataset_files() else []
            except SpecErrors as exc:  # checked before anything lands, so no load leaves a dataset behind
                raise RunError(f"invalid datasets (see `onboard validate`): {exc.errors[0]}") from None
        return self._datasets

    def expose_lake(self, source: ResolvedSource) -> None:
        """Make `lake.<source>` (and `lake.<source>_batches`) queryable: the processed zone as Athena sees it."""
        from framework.render.redshift import table_spec

        folder = self.project.lake_dir / "processed" / source.name
        if any(folder.rglob("*.parquet")):
            self.warehouse.lake_views(source.name, table_spec(source), str(folder / "**" / "*.parquet"))

    def refresh_datasets(self, source: ResolvedSource, result: RunSummary) -> None:
        """Rebuild the datasets that read the source's table (see framework.local.datasets)."""
        from framework.local.datasets import refresh_after_load
        from framework.render.redshift import table_spec

        if not self.datasets:
            return
        table = table_spec(source)
        refreshed = refresh_after_load(self.warehouse, self.datasets, f"{table.schema}.{table.table}",
                                       self.project.lake_dir)
        result.datasets_refreshed = refreshed.rebuilt or None
        result.dataset_errors = refreshed.failed or None

    def generated(self, source: ResolvedSource) -> Path:
        """The source's generated folder, refusing to run artifacts that no longer match the YAML."""
        folder = self.project.generated_dir / source.name
        try:
            rendered = render_source(source, Previous.read(folder))
        except EvolutionRefused as exc:
            raise RunError(f"{exc}; see `onboard plan {source.name}`") from None
        expected = {f"{source.name}/{rel}": text for rel, text in rendered.items()}
        stale = [line for line in drift(self.project, expected) if f"generated/{source.name}/" in line
                 and not line.startswith("stale")]
        if stale:
            raise RunError(f"generated/{source.name} is out of date ({stale[0]}); run `onboard generate`")
        return folder

    def run(self, source: ResolvedSource, input_path: Path | None) -> list[RunSummary]:
        """Land the input (None: a rest_api source fetches from its real endpoint), then process each batch."""
        started = time.perf_counter()
        folder = self.generated(source)
        self.check_schema_versions(source, folder)
        _ = self.datasets  # a dataset the sources no longer satisfy stops the run before anything lands
        before = {**self.before, "check": round(time.perf_counter() - started, 3)}
        if input_path is None and source.kind not in INPUT_OPTIONAL:
            raise RunError(f"a {source.kind} source needs an input file")
        if input_path is not None and not input_path.is_file():
            raise RunError(f"input file not found: {input_path}")
        started = time.perf_counter()
        try:
            batches, skipped = self.land(source, folder, input_path)
        except (ConnectorError, ReferenceError_, FixtureError) as exc:
            return [RunSummary(source.name, None, "failed", error=f"landing failed: {exc}")]
        landed = {**before, "land": round(time.perf_counter() - started, 3)}
        if not batches and not skipped:
            return [RunSummary(source.name, None, "no_data", seconds=landed)]
        summaries = [self._already_seen(source.name, s["batch_id"]) for s in skipped]
        for batch in batches:
            summaries.append(self.process(source, folder, batch, seconds=dict(landed)))
        self.expose_quarantine(source.name)
        return summaries

    def expose_quarantine(self, source: str) -> None:
        """Make `quarantine.<source>` queryable in the local warehouse once the source has quarantined rows."""
        folder = self.project.lake_dir / "quarantine" / source
        if any(folder.glob("*/*.json")):
            self.warehouse.json_lines_view("quarantine", source, str(folder / "*" / "*.json"))

    def _already_seen(self, source: str, batch_id: str) -> RunSummary:
        """The summary of an input delivered again: skipped, or failed with a hint when its batch had failed."""
        record = self.ledger.get(source, batch_id)
        if record is None or record.status == "succeeded":
            return RunSummary(source, batch_id, "skipped")
        hint = "" if "--resume" in (record.error or "") else \
            f"; continue it with `onboard run {source} --resume {batch_id}`"
        return RunSummary(source, batch_id, "failed", error=(
            f"this input is batch {batch_id}, which {record.status} at {record.stage}: {record.error or 'no error'}"
            + hint))

    def resume(self, source: ResolvedSource, batch_id: str | None = None) -> RunSummary:
        """Continue a failed batch from the stage where it stopped (the latest failed one by default)."""
        folder = self.generated(source)
        self.check_schema_versions(source, folder)
        _ = self.datasets
        if batch_id is None:
            failed = [r for r in self.ledger.recent(source.name, limit=1000) if r.status in ("failed", "running")]
            if not failed:
                raise RunError(f"{source.name} has no failed batch to resume")
            record = failed[0]
        else:
            found = self.ledger.get(source.name, batch_id)
            if found is None:
                raise RunError(f"{source.name} has no batch {batch_id} in the run ledger")
            record = found
        if record.status == "succeeded":
            raise RunError(f"batch {record.batch_id} of {source.name} already succeeded")
        batch = Batch.from_dict({"source": record.source, "batch_id": record.batch_id,
                                 "ingest_time": record.ingest_time, "objects": record.objects,
                                 "folder": record.folder})
        summary_path = self.project.lake_dir / "processed" / summary_key(source.name, batch.batch_id)
        start_at = "load" if record.stage == "load" and summary_path.is_file() else "transform"
        summary = self.process(source, folder, batch, start_at=start_at, seconds=dict(record.seconds),
                               reprocess_of=record.reprocess_of)
        self.expose_quarantine(source.name)
        return summary

    def land(self, source: ResolvedSource, folder: Path, input_path: Path | None) -> tuple[list[Batch], list[dict]]:
        """Deliver the input as the source's trigger would, then run the generated connector handler.

        Returns the landed batches and the objects skipped because the run ledger had seen them already. A
        buffered kind (stream, http_push) lands micro-batches that wait in the run ledger: as deployed, a flush
        takes every pending one as one batch, when pending data passes `buffer.megabytes` and, at the end of
        the input, as the schedule would."""
        config = json.loads((folder / "connector/config.json").read_text(encoding="utf-8"))
        buffer = config.get("buffer")
        flushed: list[Batch] = []
        with environment(ONBOARD_LAKE_ROOT=str(self.project.lake_dir),
                          ONBOARD_LEDGER_PATH=str(self.project.ledger_path),
                          ONBOARD_SECRETS_FILE=str(self.project.secrets_file)):
            with TRIGGERS[source.kind](self.storage, config, input_path) as delivered:
                handler = runpy.run_path(str(folder / "connector/handler.py"))["handler"]
                # a stream replay delivers several event batches, every other trigger one event
                events = delivered if isinstance(delivered, list) else [delivered]
                results = []
                for event in events:
                    results.append(handler(event, None))
                    if buffer and PendingBuffer(self.ledger, source.name).due(buffer["megabytes"]):
                        flushed += self.flush(source.name)
        batches: list[Batch] = []
        skipped: list[dict] = []
        for result in results:
            if "statusCode" in result:  # an HTTP answer (http_push): accepted, or why it was refused
                if result["statusCode"] != 202:
                    raise RunError(f"the endpoint answered {result['statusCode']}: {result['body']}")
            else:
                batches += [b for b in map(Batch.from_dict, result["batches"]) if b.status != "pending"]
                skipped += result.get("skipped", [])
        if buffer:
            batches = flushed + self.flush(source.name)
        return batches, skipped

    def flush(self, source: str) -> list[Batch]:
        """Every pending micro-batch of a buffered source as one batch (none when nothing waits)."""
        return flush(self.ledger, source, start=lambda batch: None)  # the caller processes what it returns

    def process(self, source: ResolvedSource, folder: Path, batch: Batch, start_at: str = "transform",
                seconds: dict[str, float] | None = None, reprocess_of: str | None = None) -> RunSummary:
        """Transform one landed batch with the Glue job and load it; any failure leaves the table as it was.

        Every stage is recorded in the run ledger, so a failed batch says where and why it stopped."""
        processed = self.project.lake_dir / "processed"
        manifest = processed / manifest_key(source.name, batch.batch_id)
        summary_path = processed / summary_key(source.name, batch.batch_id)
        result = RunSummary(source.name, batch.batch_id, "failed", files_landed=batch.files_landed,
                            seconds=dict(seconds or {}))
        if batch.status != "landed":  # quarantined or duplicate by the connector: nothing to transform
            result.status, result.error = batch.status, batch.reason
            result.rows_in = result.rows_quarantined = batch.rejected
            return result
        record = RunRecord(source.name, batch.batch_id, "running", start_at, batch.ingest_time,
                           [asdict(o) for o in batch.objects], seconds=result.seconds,
                           folder=asdict(batch.folder) if batch.folder else None, reprocess_of=reprocess_of)
        self.ledger.put(record)
        if start_at == "transform":
            started = time.perf_counter()
            try:
                timing = self._transform(source, folder, batch, manifest, summary_path)
            except Exception as exc:  # the Spark job failed (or the quality threshold): nothing was loaded
                if summary_path.is_file():  # the job counted the rows before it stopped
                    _count(result, record, json.loads(summary_path.read_text(encoding="utf-8")), batch.rejected)
                    self._locate_quarantine(result, source, batch)
                return self._failed(record, result, "transform", f"transform failed: {_short(exc)}"
                                    + _after_refused_batch(exc, source, batch.batch_id))
            result.seconds["transform"] = round(time.perf_counter() - started, 3)
            if timing:  # in the engine: starting it (when this run did), and the hand-off around the job
                if timing["engine_start"]:
                    result.seconds["engine_start"] = timing["engine_start"]
                result.seconds["transform"] = timing["job"]
                result.seconds["handoff"] = round(time.perf_counter() - started - timing["engine_start"]
                                                  - timing["job"], 3)
        try:
            counts = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return self._failed(record, result, "transform", f"transform failed: no job summary ({_short(exc)})")
        _count(result, record, counts, batch.rejected)
        self._locate_quarantine(result, source, batch)
        record.stage = "load"
        record.rows = _rows(result)
        self.ledger.put(record)
        started = time.perf_counter()
        try:  # the deployed state machine's Migrate step, before the load
            self.migrate(source, folder)
        except Exception as exc:
            result.rows_loaded = 0
            return self._failed(record, result, "load", f"migration failed: {_short(exc)}")
        if counts.get("files", 0) > 0:  # nothing survived: COPY of an empty manifest fails in Redshift
            try:
                self.warehouse.execute_script((folder / "redshift/ddl.sql").read_text(encoding="utf-8"))
                load = render_load_sql((folder / "redshift/load.sql").read_text(encoding="utf-8"),
                                       manifest_uri=str(manifest), iam_role_arn="")
                self.warehouse.execute_script(load)
            except Exception as exc:
                result.rows_not_loaded, result.rows_loaded = result.rows_loaded, 0
                return self._failed(record, result, "load", f"load failed: {_short(exc)}")
            result.seconds["load"] = round(time.perf_counter() - started, 3)
            self.refresh_datasets(source, result)
            self.expose_lake(source)
        result.status = "succeeded"
        record.status, record.stage, record.rows = "succeeded", "done", _rows(result)
        self.ledger.put(record)
        return result

    def migrate(self, source: ResolvedSource, folder: Path) -> list[int]:
        """Apply the source's pending schema migrations to the local warehouse; the versions that ran."""
        schema, table, _ = locked_table(folder / LOCK_FILE)
        return migrate(DuckDBExecutor(self.warehouse), source.name, schema=schema, table=table,
                       ddl_sql=(folder / "redshift/ddl.sql").read_text(encoding="utf-8"),
                       migrations=read_migrations(folder / MIGRATIONS_DIR))

    def check_schema_versions(self, source: ResolvedSource, folder: Path) -> None:
        """Refuse to land anything while the warehouse holds a schema version the lock does not know."""
        if not self.project.warehouse_path.exists():
            return
        executor = DuckDBExecutor(self.warehouse)
        executor.transaction(meta_statements())
        schema, table, _ = locked_table(folder / LOCK_FILE)
        problem = version_disagreement(source.name, schema, table, applied(executor, source.name),
                                       read_migrations(folder / MIGRATIONS_DIR))
        if problem is not None:
            raise RunError(problem.removeprefix(f"{source.name}: "))

    def _transform(self, source: ResolvedSource, folder: Path, batch: Batch, manifest: Path,
                   summary: Path) -> dict[str, float] | None:
        """Run the batch's Glue job (in the warm engine, or in this process); the engine's timings, if used."""
        processed = self.project.lake_dir / "processed"
        quarantine = self.project.lake_dir / "quarantine" / quarantine_prefix(source.name, batch.batch_id)
        prefix = source.definition.destination.prefix or f"{source.name}/"
        summary.unlink(missing_ok=True)  # a stale summary of an earlier attempt must not count as this one's
        arguments = {
            "JOB_NAME": f"onboard-{source.name}",
            "batch_id": batch.batch_id,
            "input": ",".join(batch.input_uris()),
            "output": str(processed / prefix),
            "quarantine": str(quarantine),
            "manifest": str(manifest),
            "summary": str(summary),
            "ingest_time": batch.ingest_time,
        }
        with environment(ONBOARD_LAKE_ROOT=str(self.project.lake_dir),  # the job reads a PII secret locally
                          ONBOARD_SECRETS_FILE=str(self.project.secrets_file)):
            if self.engine is not None:
                return self.engine.run(folder / "glue/job.py", arguments)
            run_glue_script(folder / "glue/job.py", arguments)
        return None

    def _locate_quarantine(self, result: RunSummary, source: ResolvedSource, batch: Batch) -> None:
        """Name the folder of the batch's quarantined rows in the summary, when the job quarantined any."""
        folder = self.project.lake_dir / "quarantine" / quarantine_prefix(source.name, batch.batch_id)
        if result.rows_quarantined > batch.rejected and folder.is_dir():
            result.quarantine_path = self.project.display(folder) + "/"

    def _failed(self, record: RunRecord, result: RunSummary, stage: str, error: str) -> RunSummary:
        result.error = error
        record.status, record.stage, record.error, record.rows = "failed", stage, error, _rows(result)
        self.ledger.put(record)
        return result

    def reset(self) -> None:
        """Forget the local lake and warehouse (used by the demo to start clean)."""
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        shutil.rmtree(self.project.state_dir, ignore_errors=True)


class DuckDBExecutor:
    """framework.runtime.migrations' Executor on the local warehouse (Redshift SQL through the adapter)."""

    def __init__(self, warehouse: DuckDBWarehouse):
        self.warehouse = warehouse

    def query(self, sql: str) -> list[tuple]:
        return self.warehouse.query(sql)[1]

    def transaction(self, statements: list[str]) -> None:
        self.warehouse.execute_script(as_script(["BEGIN", *statements, "COMMIT"]))

    def single(self, statement: str) -> None:
        self.warehouse.execute_script(as_script([statement]))


def _count(result: RunSummary, record: RunRecord, counts: dict[str, Any], rejected: int = 0) -> None:
    """Take the job summary's counts and the batch's quality score.

    Records the connector already quarantined (a stream's undecodable ones) count as received and quarantined."""
    result.rows_in = counts["rows_in"] + rejected
    result.rows_loaded = counts["rows_loaded"]
    result.rows_quarantined = counts["rows_quarantined"] + rejected
    result.rows_duplicate = counts["rows_duplicate"]
    result.rows_not_loaded = counts.get("rows_not_loaded")
    result.quarantine_reasons = dict(counts.get("quarantine_reasons", {}))
    result.unmapped_fields = list(counts.get("unmapped_fields") or []) or None
    result.quarantine_examples = dict(counts.get("quarantine_examples") or {}) or None
    result.warnings = record.warnings = dict(counts.get("warnings") or {}) or None
    if rejected:
        result.quarantine_reasons["malformed"] = result.quarantine_reasons.get("malformed", 0) + rejected
    result.quality_score = record.quality_score = quality_score(result.rows_in, result.rows_quarantined)


def _after_refused_batch(exc: BaseException, source: ResolvedSource, batch_id: str) -> str:
    """What to do after the job refused the batch (its quality, or a header without a declared column):
    resuming runs the same job again, so the source definition must change first, and `onboard generate`
    must regenerate the job."""
    from onboard_glue.header import MissingColumnsError
    from onboard_glue.job import QualityThresholdError

    if not isinstance(exc, QualityThresholdError | MissingColumnsError):
        return ""
    return (f" ({source.file}); run `onboard generate`, then `onboard run {source.name} --resume {batch_id}` "
            "runs the regenerated job on this batch")


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _rows(summary: RunSummary) -> dict[str, int]:
    rows = {"rows_in": summary.rows_in, "rows_loaded": summary.rows_loaded,
            "rows_quarantined": summary.rows_quarantined, "rows_duplicate": summary.rows_duplicate}
    if summary.rows_not_loaded is not None:
        rows["rows_not_loaded"] = summary.rows_not_loaded
    return rows


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]
