"""`onboard engine start|stop|status`: manage the project's warm local Spark engine by hand."""

from __future__ import annotations

import json
from pathlib import Path

import click

from framework.project import Project


def process_seconds() -> float | None:
    """Seconds since this process started (Linux), i.e. what the command spent before running anything."""
    import os

    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(max(uptime - ticks / os.sysconf("SC_CLK_TCK"), 0.0), 3)


@click.group()
def engine() -> None:
    """The warm local Spark engine `onboard run` hands its Glue jobs to (one per project folder)."""


@engine.command()
@click.pass_obj
def start(project: Project) -> None:
    """Start the engine now (the first `onboard run` would), and wait until it is ready."""
    from framework.local.engine import Engine, EngineError

    try:
        status = Engine(project.state_dir).start()
    except EngineError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"engine running (pid {status.get('pid')}); it exits after {status.get('idle_exit'):.0f} s idle")


@engine.command()
@click.pass_obj
def stop(project: Project) -> None:
    """Stop the engine (after the job it is running, if any)."""
    from framework.local.engine import Engine

    pid = Engine(project.state_dir).stop()
    click.echo(f"engine stopped (pid {pid})" if pid else "no engine running")


@engine.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (null when no engine runs).")
@click.pass_obj
def status(project: Project, as_json: bool) -> None:
    """Whether an engine runs for this project: its pid, jobs run and uptime."""
    from framework.local.engine import Engine

    info = Engine(project.state_dir).status()
    if as_json:
        click.echo(json.dumps(info, sort_keys=True))
    elif info is None:
        click.echo("no engine running")
    elif info.get("busy"):
        click.echo(f"engine running (pid {info['pid']}), busy with a job")
    else:
        click.echo(f"engine running (pid {info['pid']}): {info['jobs']} job(s), up {info['uptime']:.0f} s, "
                   f"exits after {info['idle_exit']:.0f} s idle")
