"""What `onboard rehearse` does, for the CLI: find (or make) a current cloud assembly, then rehearse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from framework.project import Project
from framework.rehearse.assembly import STAMP_FILE, Assembly, inputs_digest
from framework.rehearse.execution import ExecutionSummary, Rehearsal
from framework.rehearse.triggers import TriggerError


def synthesis_inputs(project: Project) -> list[Path]:
    """Every file a synthesis of the project reads: generated/, deploy.yaml and the code that goes into the
    templates and assets (the runtime, the Glue library, the CDK app)."""
    import framework
    import onboard_cdk
    import onboard_glue

    roots = [project.generated_dir, Path(framework.__file__).parent / "runtime",
             Path(onboard_glue.__file__).parent, Path(onboard_cdk.__file__).parent]
    files = [p for root in roots for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    deploy = project.root / "deploy.yaml"
    return files + ([deploy] if deploy.is_file() else [])


def _digest(project: Project) -> str:
    files = synthesis_inputs(project)
    return inputs_digest(files, Path("/"))


def current_assembly(project: Project, outdir: Path) -> Assembly | None:
    """The assembly in `outdir` when it was synthesized from exactly the current inputs."""
    stamp = outdir / STAMP_FILE
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != _digest(project):
        return None
    return Assembly(outdir)


def assembly_for(project: Project, outdir: Path, synthesize: Callable[[], Any]) -> tuple[Assembly, bool]:
    """A current assembly: reused when its inputs did not change, else synthesized (`synthesize()`, which
    writes `outdir`). Returns the assembly and whether it was reused."""
    found = current_assembly(project, outdir)
    if found is not None:
        return found, True
    digest = _digest(project)
    synthesize()
    (outdir / STAMP_FILE).write_text(digest + "\n", encoding="utf-8")
    return Assembly(outdir), False


def rehearse(project: Project, assembly: Assembly, plan: list[tuple[str, Path | None]],
             fail_at: str | None = None) -> list[ExecutionSummary]:
    """Deliver each (source, input) of `plan` in turn; one summary per execution (or per failed delivery)."""
    summaries: list[ExecutionSummary] = []
    with Rehearsal(project, assembly, sorted({name for name, _ in plan}), fail_at) as rehearsal:
        for name, path in plan:
            try:
                summaries += rehearsal.deliver(name, path)
            except TriggerError as error:
                summaries.append(ExecutionSummary(name, None, "failed", error=str(error), failed_state="trigger"))
            except Exception as error:  # the connector's own failure: deployed, its retries and then the DLQ
                text = str(error).strip().splitlines()
                summaries.append(ExecutionSummary(name, None, "failed", failed_state="connector",
                                                  error=f"{type(error).__name__}: {text[0] if text else ''}"))
    return summaries


def summary_line(summary: ExecutionSummary) -> str:
    if summary.batch_id is None:
        return f"FAILED {summary.source}: {summary.error}"
    mark = "ok" if summary.status == "succeeded" else summary.status.upper()
    runs = ", ".join(f"{r['id'][:10]} {r['state']}" for r in summary.glue_job_runs) or "none"
    text = (f"{mark} {summary.source} batch {summary.batch_id}: {summary.rows_in} in, {summary.rows_loaded} loaded, "
            f"{summary.rows_quarantined} quarantined, {summary.rows_duplicate} duplicate\n"
            f"    states: {' > '.join(summary.states)}\n    glue job runs: {runs}")
    if summary.status != "succeeded":
        text += f"\n    failed at {summary.failed_state}: {summary.error}"
    return text


def as_json(summary: ExecutionSummary) -> str:
    return json.dumps(summary.to_json(), sort_keys=True, default=str)
