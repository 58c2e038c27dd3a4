"""`onboard destroy` and `onboard clean`: thin click wrappers over framework.teardown."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from framework import teardown
from framework.cli import _synthesize, err, main, out
from framework.project import Project


@main.command("destroy")
@click.argument("sources", nargs=-1)
@click.option("--out", "outdir", default="cdk.out", show_default=True, help="Cloud assembly folder.")
@click.option("--yes", is_flag=True, help="Pass --force to `cdk destroy` (no question per stack).")
@click.option("--delete-data", is_flag=True,
              help="Then delete what the stacks retain (lake buckets, run ledger, Serverless warehouse) after the "
                   "deploy prefix is typed back. Only when destroying everything.")
@click.pass_obj
def destroy(project: Project, sources: tuple[str, ...], outdir: str, yes: bool, delete_data: bool) -> None:
    """`cdk destroy` SOURCES' stacks, or every source stack and the platform (default).

    The lake buckets, the run ledger and the Redshift Serverless namespace and workgroup are retained: they hold
    data and stay until `--delete-data`, which lists them and deletes them once the deploy prefix is typed back.
    """
    from framework.doctor import PreflightError, aws_session, deploy_environment
    from onboard_cdk.settings import SettingsError, load_settings
    from onboard_cdk.synth import find_cdk_cli

    if delete_data and sources:
        raise click.UsageError("--delete-data deletes the shared lake and warehouse: use it without SOURCES")
    try:
        settings = load_settings(project.root)
        cli = find_cdk_cli(project.root, Path(__file__).resolve().parent.parent)
        environment = deploy_environment(aws_session())
    except (SettingsError, FileNotFoundError, PreflightError) as exc:
        err.print(str(exc), style="red", markup=False)
        raise SystemExit(1) from None
    result = _synthesize(project, outdir)
    try:
        stacks = teardown.destroy_stacks(result.stacks, list(sources))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    command = teardown.destroy_command(cli, result.outdir, stacks, force=yes)
    out.print("$ " + " ".join(command), markup=False)
    code = subprocess.call(command, cwd=project.root)
    if code or not delete_data:
        if not code and not sources:
            out.print("retained (they hold data): the lake buckets, the run ledger and the warehouse; "
                      "`onboard destroy --delete-data` removes them", markup=False)
        raise SystemExit(code)
    session = aws_session()
    names = teardown.retained_names(settings.prefix, environment.account, environment.region,
                                    serverless=settings.warehouse.kind == "serverless")
    present = teardown.existing(session, names)
    if not present:
        out.print("nothing retained is left", markup=False)
        return
    out.print("retained resources, with their data:", markup=False)
    for resource in present:
        out.print("  " + resource.line(), markup=False)
    typed = click.prompt(f"type the deploy prefix '{settings.prefix}' to delete them", default="", show_default=False)
    if typed != settings.prefix:
        err.print("not deleted: the prefix did not match", style="red", markup=False)
        raise SystemExit(1)
    for resource in present:
        teardown.delete(session, resource)
        out.print("deleted " + resource.line(), markup=False)


@main.command("clean")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def clean(project: Project, yes: bool) -> None:
    """Remove the local state (`.onboard/`, or ONBOARD_HOME): the local lake, warehouse and run ledger."""
    state = project.state_dir
    if not state.exists():
        out.print(f"nothing to clean: {project.display(state)} does not exist", markup=False)
        return
    if not yes and not click.confirm(f"remove {project.display(state)} (local lake, warehouse, run ledger)?"):
        raise SystemExit(1)
    teardown.clean_local(state)
    out.print(f"removed {project.display(state)}", markup=False)
