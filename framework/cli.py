"""The `onboard` command line: validate, generate, run, serve, query, export-schema, synth, rehearse, doctor,
deploy.

Exit codes: 0 success, 1 the work failed (invalid sources, drift, a failed run or query), 2 usage errors.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from framework.cli_engine import engine, process_seconds
from framework.project import Project
from framework.spec import SpecErrors, load_project

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _sources(project: Project, paths: tuple[str, ...] = ()):
    try:
        return load_project(project, [Path(p) for p in paths] or None)
    except SpecErrors as exc:
        for error in exc.errors:
            err.print(str(error), markup=False)
        err.print(f"{len(exc.errors)} error(s)", style="red")
        raise SystemExit(1) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "project_dir", type=click.Path(file_okay=False), default=None,
              help="Project folder holding sources/ (default: the current folder).")
@click.pass_context
def main(ctx: click.Context, project_dir: str | None) -> None:
    """Onboard: one YAML file per data source becomes everything needed to land it in Redshift."""
    ctx.obj = Project.at(project_dir)


main.add_command(engine)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def validate(project: Project, paths: tuple[str, ...]) -> None:
    """Check source and dataset definitions; print every error as file:line:col: path: message."""
    from framework.cli_datasets import datasets_or_exit, split_paths

    source_paths, dataset_paths = split_paths(project, paths)
    sources = _sources(project, source_paths) if source_paths or not paths else []
    datasets = datasets_or_exit(project, _sources(project) if paths else sources, dataset_paths) \
        if dataset_paths or not paths else []
    for source in sources:
        out.print(f"ok  {source.file}  ({source.name}, {source.kind})", markup=False)
    for dataset in datasets:
        out.print(f"ok  {dataset.file}  ({dataset.table}, reads {', '.join(dataset.reads)})", markup=False)
    if not sources and not datasets:
        err.print(f"no source definitions found in {project.display(project.sources_dir)}/")
        raise SystemExit(1)


@main.command()
@click.option("--check", is_flag=True, help="Do not write; exit 1 and name the files that would change.")
@click.pass_obj
def generate(project: Project, check: bool) -> None:
    """Render generated/<source>/ for every source (deterministic; atomic)."""
    from framework.cli_datasets import datasets_or_exit
    from framework.render import drift, write_generated
    from framework.render.datasets import dataset_files
    from framework.render.platform import platform_files

    sources = _sources(project)
    datasets = datasets_or_exit(project, sources)
    files = _render_or_refuse(project, sources)
    files.update(_platform_files_or_exit(
        project, sources, lambda root, srcs: platform_files(root, srcs, [d.schema for d in datasets])))
    files.update(dataset_files(datasets))
    if check:
        lines = drift(project, files)
        for line in lines:
            err.print(line, markup=False)
        if lines:
            err.print(f"{len(lines)} generated file(s) out of date: run `onboard generate`", style="red")
            raise SystemExit(1)
        out.print(f"generated/ is up to date ({len(files)} files)")
        return
    write_generated(project, files)
    out.print(f"wrote {len(files)} files to {project.display(project.generated_dir)}/")


def _platform_files_or_exit(project: Project, sources: list, render) -> dict[str, str]:
    """generated/_platform/ (the warehouse bootstrap SQL), or exit 1 naming deploy.yaml's problems."""
    from onboard_cdk.settings import SettingsError

    try:
        return render(project.root, sources)
    except SettingsError as exc:
        err.print(str(exc), markup=False)
        raise SystemExit(1) from None


def _render_or_refuse(project: Project, sources: list) -> dict[str, str]:
    """Every generated file, or exit 1 naming each refused schema change (nothing is written)."""
    from framework.render import render_project
    from framework.render.evolution import EvolutionRefused

    refused: list[str] = []
    files: dict[str, str] = {}
    for source in sources:
        try:
            files.update(render_project([source], project.generated_dir))
        except EvolutionRefused as exc:
            refused += exc.messages
    if refused:
        for message in refused:
            err.print(message, markup=False)
        err.print(f"{len(refused)} schema change(s) refused; nothing was written", style="red")
        raise SystemExit(1)
    return dict(sorted(files.items()))


PLAN_CHANGES_EXIT = 3


@main.command()
@click.option("--port", default=8080, show_default=True, help="Local port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def api(project: Project, port: int, host: str) -> None:
    """Serve the pipeline API locally: POST /pipelines, GET /pipelines[/{id}], GET /openapi.json."""
    from framework.local.pipeline_api import LocalBackend, api_server

    backend = LocalBackend(project, _sources(project))
    server = api_server(backend, port, host)
    out.print(f"pipeline API at http://{host}:{server.server_address[1]}/pipelines (Ctrl-C stops)", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        backend.close()

@main.command()
@click.argument("source", required=False)
@click.pass_obj
def plan(project: Project, source: str | None) -> None:
    """Show what `onboard generate` would change in each table, and why, without writing anything.

    Exit codes: 0 no schema change, 3 migrations would be written, 1 a change is refused, the local warehouse
    is at a schema version the lock does not have, or invalid sources.
    """
    from framework.render.evolution import Previous, plan_source

    sources = _sources(project)
    if source is not None:
        sources = [s for s in sources if s.name == source]
        if not sources:
            raise click.UsageError(f"unknown source '{source}'")
    refused = changed = ahead = 0
    for resolved in sources:
        previous = Previous.read(project.generated_dir / resolved.name)
        result = plan_source(resolved, previous)
        table = result.table.qualified_name
        from framework.cli_changes import warehouse_version_problem

        if (problem := warehouse_version_problem(project, resolved)) is not None:
            ahead += 1
            err.print(problem, markup=False)
        if result.refusals:
            refused += len(result.refusals)
            for refusal in result.refusals:
                err.print(refusal.message(resolved.name), markup=False)
        elif result.old_version is None:
            changed += 1
            out.print(f"{resolved.name}: new table {table} at schema version 1 (no migration needed)", markup=False)
        elif not result.migrations:
            out.print(f"{resolved.name}: no change ({table} at schema version {result.version})", markup=False)
        else:
            changed += 1
            out.print(f"{resolved.name}: {table} schema version {result.old_version} -> {result.version}",
                      markup=False)
            for migration in result.migrations:
                how = "one transaction" if migration.transactional else "outside a transaction block"
                out.print(f"  redshift/migrations/{migration.filename} ({how})", markup=False)
                for change in migration.changes:
                    out.print(f"    {change.line()}", markup=False)
    from framework.cli_datasets import dataset_problems

    broken = dataset_problems(project, _sources(project))[1]  # a source change that breaks a dataset
    for problem in broken:
        err.print(f"{problem} (a dataset this change would break)", markup=False)
    if refused:
        err.print(f"{refused} schema change(s) refused", style="red")
    if broken:
        err.print(f"{len(broken)} dataset error(s)", style="red")
    if refused or ahead or broken:
        raise SystemExit(1)
    if changed:
        raise SystemExit(PLAN_CHANGES_EXIT)


@main.command()
@click.argument("source", required=False)
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Land this file as if it had arrived through the source's trigger.")
@click.option("--all", "run_all", is_flag=True, help="Run every source with its example_input.")
@click.option("--live", is_flag=True, help="rest_api: call the real endpoint, not the example fixture.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary per batch.")
@click.option("--resume", "resume_batch", is_flag=False, flag_value="latest", default=None, metavar="[BATCH_ID]",
              help="Continue a failed batch of SOURCE from the stage where it stopped (default: the latest).")
@click.option("--deployed", is_flag=True,
              help="With --resume or --reprocess: in the deployed pipeline (new Step Functions executions).")
@click.option("--reprocess", is_flag=True,
              help="Run SOURCE's raw objects again through the current job, as new batches (after a migration).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --reprocess: only batches ingested on or after this date (YYYY-MM-DD).")
@click.option("--batch", "batch_id", default=None, help="With --reprocess: only this batch.")
@click.option("--yes", is_flag=True, help="With --reprocess: go ahead although an append source duplicates rows.")
@click.option("--no-engine", is_flag=True, help="Run the Glue job in this process, not in the warm local engine.")
@click.pass_obj
def run(project: Project, source: str | None, input_path: str | None, run_all: bool, live: bool,
        as_json: bool, resume_batch: str | None, deployed: bool, reprocess: bool, since: Any, batch_id: str | None,
        yes: bool, no_engine: bool) -> None:
    """Run sources end to end locally: connector, Glue job on Spark, Redshift SQL on DuckDB.

    For a rest_api source the input is a recorded API fixture served on 127.0.0.1; with --live (or when the
    source has no example_input) the connector calls the source's real endpoint. An input whose content was
    processed before (same key and ETag) is skipped: its summary says `skipped`.
    """
    from framework.local.runner import LocalRunner, RunError
    from framework.local.triggers import INPUT_OPTIONAL

    if run_all == bool(source):
        raise click.UsageError("give a SOURCE (with --input) or --all")
    if (since or batch_id or yes) and not reprocess:
        raise click.UsageError("--since, --batch and --yes apply to --reprocess")
    if reprocess:
        if run_all or input_path or live or resume_batch is not None:
            raise click.UsageError("--reprocess takes one SOURCE and no --input, --all, --live or --resume")
        from framework.cli_changes import reprocess as run_reprocess

        run_reprocess(project, source, since=since.date() if since else None, batch=batch_id, yes=yes,
                      deployed=deployed, as_json=as_json)
        return
    sources = {s.name: s for s in _sources(project)}
    if deployed and resume_batch is None:
        raise click.UsageError("--deployed applies to --resume and --reprocess")
    if resume_batch is not None:
        if source not in sources or input_path or run_all:
            raise click.UsageError("--resume takes one known SOURCE and no --input or --all")
        if deployed:
            _resume_deployed(project, source, None if resume_batch == "latest" else resume_batch, as_json)
            return
        try:
            runner = LocalRunner(project, engine=False if no_engine else None)
            summaries = [runner.resume(sources[source], None if resume_batch == "latest" else resume_batch)]
        except RunError as exc:
            err.print(f"{source}: {exc}", style="red", markup=False)
            raise SystemExit(1) from None
        _report(summaries, as_json)
        return
    plan: list[tuple[Any, Path | None]]
    if run_all:
        if live:
            raise click.UsageError("--live runs one source: give its name")
        plan = [(s, project.root / s.definition.example_input) for s in sources.values() if s.definition.example_input]
    else:
        if source not in sources:
            raise click.UsageError(f"unknown source '{source}'; choose from: {', '.join(sorted(sources))}")
        chosen = sources[source]
        example = chosen.definition.example_input
        if live and chosen.kind not in INPUT_OPTIONAL:
            raise click.UsageError(f"--live applies to sources that fetch by themselves ({', '.join(INPUT_OPTIONAL)})")
        if live and input_path:
            raise click.UsageError("give --input or --live, not both")
        if input_path is None and example is None and chosen.kind not in INPUT_OPTIONAL:
            raise click.UsageError(f"source '{source}' has no example_input; give --input PATH")
        if input_path:
            plan = [(chosen, Path(input_path))]
        elif live or example is None:
            plan = [(chosen, None)]
        else:
            plan = [(chosen, project.root / example)]
    startup = process_seconds()
    runner = LocalRunner(project, engine=False if no_engine else None,
                         seconds={"startup": startup} if startup is not None else None)
    summaries = []
    with err.status("") as status:
        for resolved, path in plan:
            status.update(f"running {resolved.name} ({project.display(path) if path else 'live'})")
            try:
                summaries += runner.run(resolved, path)
            except RunError as exc:
                err.print(f"{resolved.name}: {exc}", style="red", markup=False)
                raise SystemExit(1) from None
    _report(summaries, as_json)


def _resume_deployed(project: Project, source: str, batch_id: str | None, as_json: bool) -> None:
    from framework.deployed import AWS_ERRORS, DeployedError, resume_deployed

    try:
        resumed = resume_deployed(project, source, batch_id)
    except (DeployedError, *AWS_ERRORS) as exc:
        err.print(f"{source}: {exc}", style="red", markup=False)
        raise SystemExit(1) from None
    if as_json:
        out.print(json.dumps({"source": source, "batch_id": resumed.batch_id, "resume_from": resumed.stage,
                              "execution": resumed.execution_arn}, sort_keys=True), markup=False)
    else:
        out.print(f"resumed {source} batch {resumed.batch_id} from {resumed.stage}: {resumed.execution_arn}",
                  markup=False)


def _report(summaries: list, as_json: bool) -> None:
    for summary in summaries:
        if as_json:
            out.print(json.dumps(summary.to_json(), sort_keys=True), markup=False)
        else:
            _print_summary(summary)
    if any(s.status not in ("succeeded", "no_data", "duplicate", "skipped") or getattr(s, "dataset_errors", None)
           for s in summaries):
        raise SystemExit(1)


def _print_summary(s) -> None:
    if s.status == "skipped":
        out.print(f"[yellow]skipped[/yellow] {s.source}: this input was already processed as batch {s.batch_id}")
        return
    if s.status == "no_data":
        out.print(f"[green]ok[/green] {s.source}: no new records, nothing landed")
        return
    if s.batch_id is None:
        out.print(Text.assemble(("FAILED", "red"), f" {s.source}: {s.error}"))
        return
    mark = {"succeeded": "[green]ok[/green]", "duplicate": "[yellow]duplicate[/yellow]",
            "quarantined": "[red]QUARANTINED[/red]"}.get(s.status, "[red]FAILED[/red]")
    out.print(f"{mark} {s.source} batch {s.batch_id}: {s.rows_in} in, {s.rows_loaded} loaded, "
              f"{s.rows_quarantined} quarantined, {s.rows_duplicate} duplicate")
    examples = s.quarantine_examples or {}
    for reason, count in sorted(s.quarantine_reasons.items()):
        example = f", e.g. {examples[reason]}" if reason in examples else ""
        out.print(f"    quarantined {count}: {reason}{example}", markup=False)
    if s.quarantine_path:
        out.print(f"    quarantined rows: {s.quarantine_path} (query them: SELECT * FROM quarantine.{s.source})",  # noqa: S608
                  markup=False)
    for rule, count in sorted((s.warnings or {}).items()):
        out.print(f"    warned {count}: {rule} (loaded all the same)", markup=False)
    if s.unmapped_fields:
        fields = ", ".join(s.unmapped_fields)
        out.print(f"    {len(s.unmapped_fields)} unmapped field(s) ignored: {fields}", markup=False)
    if s.error:
        out.print(f"    {s.error}", style="red", markup=False)
    from framework.cli_datasets import print_refreshed

    print_refreshed(s)


@main.command()
@click.argument("source")
@click.option("--port", default=8080, show_default=True, help="Local port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--load/--no-load", default=False, show_default=True,
              help="Transform and load each accepted batch into the local warehouse after answering.")
@click.pass_obj
def serve(project: Project, source: str, port: int, host: str, load: bool) -> None:
    """Serve an http_push source's endpoint locally: POST records to http://HOST:PORT/<config.path>."""
    import os

    from framework.local.runner import LocalRunner, RunError
    from framework.local.serve import generated_handler, push_server

    sources = {s.name: s for s in _sources(project)}
    if source not in sources or sources[source].kind != "http_push":
        pushable = sorted(n for n, s in sources.items() if s.kind == "http_push")
        raise click.UsageError(f"'{source}' is not an http_push source; choose from: {', '.join(pushable)}")
    resolved = sources[source]
    runner = LocalRunner(project)
    try:
        folder = runner.generated(resolved)
    except RunError as exc:
        err.print(str(exc), style="red", markup=False)
        raise SystemExit(1) from None
    os.environ["ONBOARD_LAKE_ROOT"] = str(project.lake_dir)
    os.environ["ONBOARD_LEDGER_PATH"] = str(project.ledger_path)  # accepted micro-batches wait there

    def process(answer: dict) -> None:  # --load: flush after every accepted request
        for batch in runner.flush(resolved.name):
            summary = runner.process(resolved, folder, batch)
            out.print(json.dumps(summary.to_json(), sort_keys=True), markup=False)

    path = resolved.definition.config.path  # type: ignore[attr-defined]
    server = push_server(generated_handler(folder), path, port, host, process if load else None)
    out.print(f"serving {source} at http://{host}:{server.server_address[1]}{path} (Ctrl-C stops)", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.argument("source", required=False)
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.option("--deployed", is_flag=True, help="Read the deployed run ledger (DynamoDB table <prefix>-runs).")
@click.option("--freshness", is_flag=True, help="Per source: last successful load, its age, ok|warn|error|never; "
              "exit 1 when a source is late past error_after.")
@click.pass_obj
def status(project: Project, source: str | None, limit: int, as_json: bool, deployed: bool, freshness: bool) -> None:
    """Recent runs from the local (or deployed) run ledger, newest first: status, stage, rows, error."""
    from framework.runtime.ledger import SqliteRunLedger

    if freshness:
        return _freshness(project, source, as_json, deployed)
    if deployed:
        from framework.deployed import AWS_ERRORS, deployed_ledger

        try:
            records = deployed_ledger(project).recent(source, limit)
        except AWS_ERRORS as exc:
            err.print(f"deployed run ledger: {exc}", style="red", markup=False)
            raise SystemExit(1) from None
    else:
        path = project.state_dir / "ledger.sqlite"
        records = SqliteRunLedger(path).recent(source, limit) if path.is_file() else []
    for record in records:
        if as_json:
            out.print(json.dumps(record.to_json(), sort_keys=True), markup=False)
            continue
        rows = record.rows
        counts = (f"{rows.get('rows_in', 0)} in, {rows.get('rows_loaded', 0)} loaded, "
                  f"{rows.get('rows_quarantined', 0)} quarantined, {rows.get('rows_duplicate', 0)} duplicate")
        stage = "" if record.status == "succeeded" else f" at {record.stage}"
        again = f"  (reprocess of {record.reprocess_of})" if record.reprocess_of else ""
        out.print(f"{record.batch_id}  {record.source}  {record.status}{stage}  {counts}{again}", markup=False)
        if record.warnings:
            warned = ", ".join(f"{rule} {count}" for rule, count in sorted(record.warnings.items()))
            out.print(f"    warned: {warned}", markup=False)
        if record.error:
            out.print(f"    {record.error}", style="red", markup=False)
    if not records and not as_json:
        out.print("no runs recorded" + (f" for {source}" if source else ""))


def _freshness(project: Project, source: str | None, as_json: bool, deployed: bool) -> None:
    from framework.deployed import AWS_ERRORS
    from framework.freshness_status import freshness_line, project_freshness

    sources = [s for s in _sources(project) if source is None or s.name == source]
    if source is not None and not sources:
        err.print(f"unknown source {source}", style="red", markup=False)
        raise SystemExit(2)
    try:
        reports = project_freshness(project, sources, deployed)
    except AWS_ERRORS as exc:
        err.print(f"deployed run ledger: {exc}", style="red", markup=False)
        raise SystemExit(1) from None
    for r in reports:
        line = json.dumps(r.to_json(), sort_keys=True) if as_json else freshness_line(r)
        out.print(line, markup=False, style=None if as_json else {"ok": "green", "warn": "yellow"}.get(
            r.state, "red" if r.failing else None))
    if any(r.failing for r in reports):
        raise SystemExit(1)


@main.command()
@click.argument("source", required=False)
@click.option("--rows-per-day", type=click.IntRange(min=0), required=True, help="Rows the source lands a day.")
@click.option("--bytes-per-row", type=click.IntRange(min=1), default=200, show_default=True,
              help="Average input bytes of one row.")
@click.option("--batches-per-day", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Default: from the trigger (a schedule's rate, a buffer's interval, else one).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@click.pass_obj
def cost(project: Project, source: str | None, rows_per_day: int, bytes_per_row: int,
         batches_per_day: float | None, as_json: bool) -> None:
    """Estimated monthly AWS cost of each source (or one) at a volume, and the platform's idle cost."""
    from framework.cost.model import Assumptions
    from framework.cost.report import CostError, cost_report

    try:
        report = cost_report(project, source, rows_per_day, bytes_per_row,
                             Assumptions(batches_per_day=batches_per_day))
    except CostError as exc:
        err.print(str(exc), style="red", markup=False)
        raise SystemExit(1) from None
    for line in report.json_lines() if as_json else report.text():
        out.print(line, markup=False)


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def query(project: Project, sql: str, fmt: str) -> None:
    """Run analyst SQL (Redshift dialect) against the local warehouse."""
    from framework.warehouse import DuckDBWarehouse

    if not project.warehouse_path.exists():
        err.print("no local warehouse yet: run `onboard run --all` first", style="red")
        raise SystemExit(1)
    warehouse = DuckDBWarehouse(project.warehouse_path, read_only=True)
    try:
        columns, rows = warehouse.query(sql)
    except Exception as exc:  # parse errors, unknown tables, ...: a message, never a traceback
        err.print(f"query failed: {exc}", style="red", markup=False)
        raise SystemExit(1) from None
    finally:
        warehouse.close()
    print_rows(columns, rows, fmt)


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        out.print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, indent=2),
                  markup=False)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(show_lines=False)
        texts = [["" if v is None else str(v) for v in row] for row in rows]
        for i, name in enumerate(columns):
            numbers = [t for row, t in zip(rows, (r[i] for r in texts), strict=True)
                       if isinstance(row[i], int | float | Decimal)]
            # a narrow terminal folds text onto more lines; a number keeps every digit on one line
            table.add_column(name, overflow="fold", justify="right" if numbers else "left",
                             min_width=max((len(t) for t in numbers), default=None))
        for row in texts:
            table.add_row(*row)
        out.print(table)
        out.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


@main.command("export-schema")
@click.option("--check", is_flag=True, help="Exit 1 when schemas/source.schema.json is not current.")
@click.pass_obj
def export_schema(project: Project, check: bool) -> None:
    """Write schemas/source.schema.json (JSON Schema of a source file, for editor completion)."""
    from framework.spec.schema_export import source_file_schema_text

    path = project.schemas_dir / "source.schema.json"
    text = source_file_schema_text()
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            err.print(f"{project.display(path)} is out of date: run `onboard export-schema`", style="red")
            raise SystemExit(1)
        out.print(f"{project.display(path)} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"wrote {project.display(path)}")


def _synthesize(project: Project, outdir: str):
    """Synthesize with cdk-nag and cfn-lint; print each problem and exit 1 on any."""
    try:
        from onboard_cdk.manifests import ManifestError
        from onboard_cdk.settings import SettingsError
        from onboard_cdk.synth import SynthFailed, synthesize
    except ImportError as exc:
        err.print(f"synth needs the CDK extras: pip install 'onboard[cdk]' ({exc.name} is missing)", style="red")
        raise SystemExit(1) from None
    target = Path(outdir) if Path(outdir).is_absolute() else project.root / outdir
    with err.status("synthesizing (cdk-nag AwsSolutions, then cfn-lint)"):
        try:
            return synthesize(project.root, target)
        except (SynthFailed, ManifestError, SettingsError) as exc:
            for line in getattr(exc, "problems", []):
                err.print(line, markup=False)
            err.print(str(exc), style="red", markup=False)
            raise SystemExit(1) from None


@main.command()
@click.option("--out", "outdir", default="cdk.out", show_default=True, help="Cloud assembly folder.")
@click.pass_obj
def synth(project: Project, outdir: str) -> None:
    """Synthesize the CDK app from generated/ with cdk-nag (AwsSolutions) on; cfn-lint every template."""
    result = _synthesize(project, outdir)
    seconds = result.seconds
    out.print(f"synthesized {len(result.stacks)} stack(s) to {project.display(result.outdir)}/ in "
              f"{seconds['total']:.1f} s: cdk-nag AwsSolutions and cfn-lint clean", markup=False)
    out.print(f"  (build {seconds['build']:.1f} s, synth with cdk-nag {seconds['synth']:.1f} s, "
              f"cfn-lint {seconds['lint']:.1f} s)", markup=False)
    for construct_id, stack_name in sorted(result.stacks.items()):
        out.print(f"  {construct_id}  ({stack_name})", markup=False)


@main.command()
@click.argument("source", required=False)
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Deliver this file through the source's deployed trigger.")
@click.option("--all", "run_all", is_flag=True, help="Rehearse every source with its example_input.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary per execution.")
@click.option("--fail-at", "fail_at", metavar="STATE", help="Make this task of the state machine fail.")
@click.option("--out", "outdir", default="cdk.out", show_default=True, help="Cloud assembly folder (reused "
              "when current).")
@click.pass_obj
def rehearse(project: Project, source: str | None, input_path: str | None, run_all: bool, as_json: bool,
             fail_at: str | None, outdir: str) -> None:
    """Execute the deployed pipeline offline: the synthesized state machine on moto's Step Functions
    interpreter, the Lambdas from their assets, the Glue job on local Spark, the Data API on DuckDB.

    Proves the payloads, ledger records, retries and catches of the deployed path; not IAM, networking,
    or real Glue and Redshift. Exit 1 when an execution fails.
    """
    try:
        from framework.rehearse.command import as_json as json_line
        from framework.rehearse.command import assembly_for, summary_line
        from framework.rehearse.command import rehearse as rehearse_plan
        from framework.rehearse.execution import AssemblyError, RehearsalError
    except ImportError as exc:
        err.print(f"rehearse needs: pip install 'onboard[cdk,rehearse]' ({exc.name} is missing)", style="red")
        raise SystemExit(1) from None
    if run_all == bool(source):
        raise click.UsageError("give a SOURCE (with --input) or --all")
    sources = {s.name: s for s in _sources(project)}
    if run_all:
        plan = [(s.name, project.root / s.definition.example_input) for s in sources.values()
                if s.definition.example_input]
    else:
        if source not in sources:
            raise click.UsageError(f"unknown source '{source}'; choose from: {', '.join(sorted(sources))}")
        example = sources[source].definition.example_input
        if input_path is None and example is None and sources[source].kind != "rest_api":
            raise click.UsageError(f"source '{source}' has no example_input; give --input PATH")
        chosen = Path(input_path) if input_path else (project.root / example if example else None)
        plan = [(source, chosen)]
    target = Path(outdir) if Path(outdir).is_absolute() else project.root / outdir
    try:
        assembly, _ = assembly_for(project, target, lambda: _synthesize(project, outdir))
        with err.status("rehearsing"):
            summaries = rehearse_plan(project, assembly, plan, fail_at)
    except (AssemblyError, RehearsalError) as exc:
        err.print(str(exc), style="red", markup=False)
        raise SystemExit(1) from None
    for summary in summaries:
        out.print(json_line(summary) if as_json else summary_line(summary), markup=False)
    if any(s.status != "succeeded" for s in summaries):
        raise SystemExit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per check: check, status, detail, fix.")
@click.pass_obj
def doctor(project: Project, as_json: bool) -> None:
    """Check the AWS account and region of your environment before a deploy (read-only).

    One line per check, ok / warn / fail, with what to do: credentials, the CDK bootstrap stack, SES receiving
    (email sources), unreserved Lambda concurrency, three usable AZs for Redshift Serverless, the Kinesis streams
    and MSK clusters the sources read, and the loader's database user and grants (when the warehouse answers).
    Exit 1 when any check fails.
    """
    from framework.doctor import aws_session, run_checks, target_of
    from onboard_cdk.settings import SettingsError, load_settings

    sources = _sources(project)
    try:
        settings = load_settings(project.root)
    except SettingsError as exc:
        err.print(str(exc), markup=False)
        raise SystemExit(1) from None
    failed = False
    for check in run_checks(aws_session(), target_of(sources, settings)):
        failed = failed or check.status == "fail"
        if as_json:
            out.print(json.dumps(check.to_json()), markup=False)
        else:
            style = {"ok": "green", "warn": "yellow"}.get(check.status, "red")
            out.print(Text.assemble((f"{check.status:<4}", style), check.line()[4:]))
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--out", "outdir", default="cdk.out", show_default=True, help="Cloud assembly folder.")
@click.option("--require-approval", type=click.Choice(["never", "any-change", "broadening"]), default="broadening",
              show_default=True, help="Passed to `cdk deploy`.")
@click.option("--bootstrap", is_flag=True,
              help="When the account and region have no CDK bootstrap stack (CDKToolkit), run `cdk bootstrap "
                   "aws://ACCOUNT/REGION` first.")
@click.pass_obj
def deploy(project: Project, sources: tuple[str, ...], outdir: str, require_approval: str, bootstrap: bool) -> None:
    """Synthesize, then `cdk deploy` the platform stack and SOURCES (default: every source).

    Uses the AWS credentials of the environment and the CDK CLI installed by `npm ci` (package.json).
    Every stack publishes its assets through the CDK bootstrap stack (CDKToolkit) of the account and region:
    without it the deploy stops and says so; `--bootstrap` creates it first (once per account and region).

    A first deploy: `onboard doctor`, `onboard deploy --bootstrap`, then run generated/_platform/bootstrap.sql
    as the Redshift admin (see docs/deploy.md).
    """
    import subprocess

    from framework.doctor import PreflightError, aws_session, bootstrap_hint, deploy_environment
    from onboard_cdk.manifests import ManifestError, load_manifests
    from onboard_cdk.synth import bootstrap_command, deploy_command, find_cdk_cli

    try:
        load_manifests(project.generated_dir, list(sources))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        cli = find_cdk_cli(project.root, Path(__file__).resolve().parent.parent)
    except FileNotFoundError as exc:
        err.print(str(exc), style="red", markup=False)
        raise SystemExit(1) from None
    try:
        environment = deploy_environment(aws_session())
    except PreflightError as exc:
        err.print(str(exc), markup=False)
        raise SystemExit(1) from None
    account, region = environment.account, environment.region
    if not environment.bootstrapped and not bootstrap:
        err.print(f"no CDK bootstrap stack (CDKToolkit) in account {account}, region {region}: run "
                  f"`onboard deploy --bootstrap` (or `{bootstrap_hint(account, region)}`)", style="red", markup=False)
        raise SystemExit(1)
    result = _synthesize(project, outdir)
    if not environment.bootstrapped:
        command = bootstrap_command(cli, result.outdir, account, region)
        out.print("$ " + " ".join(command), markup=False)
        code = subprocess.call(command, cwd=project.root)
        if code:
            raise SystemExit(code)
    command = deploy_command(cli, result, list(sources), require_approval)
    out.print("$ " + " ".join(command), markup=False)
    raise SystemExit(subprocess.call(command, cwd=project.root))


import framework.cli_changes  # noqa: E402,F401  (registers migrate and reset on main)
import framework.cli_docs  # noqa: E402,F401  (registers docs on main)
import framework.cli_new  # noqa: E402,F401  (registers new on main)
import framework.cli_teardown  # noqa: E402,F401  (registers destroy and clean on main)

if __name__ == "__main__":
    main()
