"""The commands for changing your mind: `onboard migrate`, `onboard reset` and `onboard run --reprocess`.

Thin click wrappers; the work is in framework.runtime.migrations (through LocalRunner or the deployed
Data API), framework.local.reset and framework.reprocess.
"""

from __future__ import annotations

import json
from datetime import date

import click

from framework.cli import _print_summary, _sources, err, main, out
from framework.project import Project


def _one_source(project: Project, name: str | None) -> list:
    sources = _sources(project)
    if name is None:
        return sources
    chosen = [s for s in sources if s.name == name]
    if not chosen:
        raise click.UsageError(f"unknown source '{name}'; choose from: {', '.join(sorted(s.name for s in sources))}")
    return chosen


@main.command("migrate")
@click.argument("source", required=False)
@click.option("--deployed", is_flag=True, help="Apply them to the deployed warehouse through the Redshift Data API.")
@click.pass_obj
def migrate_command(project: Project, source: str | None, deployed: bool) -> None:
    """Apply pending schema migrations now (every source, or SOURCE), without waiting for new data.

    A column added this way exists at once and is NULL in the rows already loaded; fill it from the data
    already received with `onboard run SOURCE --reprocess`.
    """
    from framework.deployed import AWS_ERRORS, DeployedError, migrate_deployed
    from framework.local.runner import LocalRunner, RunError
    from framework.runtime.migrations import MigrationError
    from framework.warehouse import WarehouseError
    from onboard_cdk.settings import SettingsError

    runner = None if deployed else LocalRunner(project)
    failed = False
    for resolved in _one_source(project, source):
        try:
            if runner is None:
                ran = migrate_deployed(project, resolved.name)
            else:
                ran = runner.migrate(resolved, runner.generated(resolved))
        except (RunError, MigrationError, WarehouseError, DeployedError, SettingsError, *AWS_ERRORS) as exc:
            err.print(f"{resolved.name}: {str(exc).removeprefix(f'{resolved.name}: ')}", style="red", markup=False)
            failed = True
            continue
        where = "deployed warehouse" if deployed else "local warehouse"
        if ran:
            out.print(f"{resolved.name}: applied {', '.join(f'V{v}' for v in ran)} to the {where}", markup=False)
        else:
            out.print(f"{resolved.name}: nothing to apply (the {where} is at the lock's version)", markup=False)
    if failed:
        raise SystemExit(1)


@main.command("reset")
@click.argument("source")
@click.option("--drop-table", is_flag=True, help="Also drop the source's table from the local warehouse.")
@click.pass_obj
def reset_command(project: Project, source: str, drop_table: bool) -> None:
    """Start SOURCE over locally: forget its runs, object claims, lake folders and migration records."""
    from framework.local.reset import reset_source

    [resolved] = _one_source(project, source)
    report = reset_source(project, resolved, drop_table=drop_table)
    out.print(f"{source}: forgot {report.runs} run(s), {report.claims} object claim(s) and {report.migrations} "
              "migration record(s)", markup=False)
    for folder in report.folders:
        out.print(f"  removed {folder}/", markup=False)
    if report.dropped:
        out.print(f"  dropped table {report.dropped}", markup=False)
    elif not drop_table:
        out.print("  the table and its rows stay; the next run takes them for version 1 of the current schema "
                  "lock (--drop-table starts the table over too)", markup=False)


def reprocess(project: Project, source: str, *, since: date | None, batch: str | None, yes: bool,
              deployed: bool, as_json: bool) -> None:
    """`onboard run SOURCE --reprocess`: see framework.reprocess."""
    from framework.reprocess import ReprocessRefused, reprocess_deployed, reprocess_local, select

    [resolved] = _one_source(project, source)
    if deployed:
        from framework.deployed import AWS_ERRORS, DeployedError
        from onboard_cdk.settings import SettingsError

        try:
            started = reprocess_deployed(project, resolved, since=since, batch=batch, yes=yes)
        except (ReprocessRefused, DeployedError, SettingsError, *AWS_ERRORS) as exc:
            err.print(f"{source}: {exc}", style="red", markup=False)
            raise SystemExit(1) from None
        for item, execution in started:
            if as_json:
                out.print(json.dumps({"source": source, "batch_id": item.batch_id,
                                      "reprocess_of": item.original.batch_id, "execution": execution},
                                     sort_keys=True), markup=False)
            else:
                out.print(f"reprocessing {source} batch {item.original.batch_id} as {item.batch_id}: {execution}",
                          markup=False)
        return
    from framework.local.runner import LocalRunner, RunError

    try:
        items = select(LocalRunner(project).ledger, resolved, since=since, batch=batch, yes=yes)
        summaries = reprocess_local(project, resolved, items)
    except (ReprocessRefused, RunError) as exc:
        err.print(f"{source}: {exc}", style="red", markup=False)
        raise SystemExit(1) from None
    for item, summary in zip(items, summaries, strict=True):
        if as_json:
            out.print(json.dumps({**summary.to_json(), "reprocess_of": item.original.batch_id}, sort_keys=True),
                      markup=False)
        else:
            out.print(f"reprocess of batch {item.original.batch_id}:", markup=False)
            _print_summary(summary)
    if any(s.status != "succeeded" for s in summaries):
        raise SystemExit(1)


def warehouse_version_problem(project: Project, resolved) -> str | None:
    """For `onboard plan`: why the local warehouse's applied schema versions disagree with the lock, if they do."""
    from framework.local.runner import DuckDBExecutor
    from framework.render.evolution import LOCK_FILE, MIGRATIONS_DIR
    from framework.runtime.migrations import META_TABLE, applied, locked_table, read_migrations, version_disagreement
    from framework.warehouse import DuckDBWarehouse, WarehouseError

    folder = project.generated_dir / resolved.name
    if not project.warehouse_path.exists() or not (folder / LOCK_FILE).is_file():
        return None
    with DuckDBWarehouse(project.warehouse_path) as warehouse:  # read only in effect; one mode per process
        schema, table = META_TABLE.split(".")
        if not warehouse.query(f"SELECT 1 FROM information_schema.tables WHERE table_schema = '{schema}' "  # noqa: S608
                               f"AND table_name = '{table}'")[1]:
            return None
        try:
            done = applied(DuckDBExecutor(warehouse), resolved.name)
        except WarehouseError:
            return None
    locked_schema, locked_name, _ = locked_table(folder / LOCK_FILE)
    return version_disagreement(resolved.name, locked_schema, locked_name, done,
                                read_migrations(folder / MIGRATIONS_DIR))
