"""`onboard synth` and `onboard deploy`: synthesize with cdk-nag, lint with cfn-lint, hand over to the CDK CLI."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# W3005 (a DependsOn already implied by a GetAtt): aws-cdk-lib adds DependsOn on a Lambda's or state
# machine's role beside the GetAtt of its ARN. Redundant and harmless; everything else must be clean.
CFN_LINT_IGNORED = ("W3005",)
CDK_CLI = Path("node_modules") / ".bin" / "cdk"


class SynthFailed(Exception):
    """Synthesis or a check failed; `problems` holds one readable line per finding."""

    def __init__(self, summary: str, problems: list[str]):
        super().__init__(summary)
        self.problems = problems


@dataclass
class SynthResult:
    outdir: Path
    stacks: dict[str, str]  # construct id (what the CDK CLI selects by) -> CloudFormation stack name
    templates: list[Path]
    seconds: dict[str, float]  # "build", "synth" (with cdk-nag), "lint" (cfn-lint), "total"
    lint_ignored: tuple[str, ...] = field(default=CFN_LINT_IGNORED)


def clear_outdir(outdir: Path) -> None:
    """Start from an empty cloud assembly folder, so no template of a removed source lingers."""
    if outdir.exists():
        if any(outdir.iterdir()) and not (outdir / "manifest.json").is_file():
            raise SynthFailed(f"{outdir} is not empty and is not a CDK cloud assembly; refusing to clear it", [])
        shutil.rmtree(outdir)


def nag_findings(outdir: Path) -> list[str]:
    """Readable lines from the validation report a failing synth writes."""
    report_path = outdir / "validation-report.json"
    if not report_path.is_file():
        return []
    report = json.loads(report_path.read_text(encoding="utf-8"))
    lines = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} ({violation['severity']}) at {construct['constructPath']}: "
                             f"{violation['description']}")
    return lines


def lint_template(template: Path) -> list[str]:
    """cfn-lint findings (errors and warnings) on one template, one line each; empty when clean."""
    from cfnlint.api import ManualArgs, lint_file

    return [f"{template.name}:{match.linenumber}: {match.rule.id} {match.message}"
            for match in lint_file(template, config=ManualArgs(ignore_checks=list(CFN_LINT_IGNORED)))]


def lint_templates(templates: list[Path]) -> list[str]:
    """cfn-lint on every template, in parallel processes when there are several (it is CPU-bound)."""
    workers = min(len(templates), os.cpu_count() or 1)
    if workers <= 1:
        return [line for template in templates for line in lint_template(template)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [line for lines in pool.map(lint_template, templates) for line in lines]


def synthesize(project_root: Path, outdir: Path) -> SynthResult:
    """Synthesize every stack to `outdir` with cdk-nag's AwsSolutions pack, then cfn-lint each template."""
    from onboard_cdk.app import build_app

    started = time.perf_counter()
    clear_outdir(outdir)
    onboard = build_app(project_root, outdir, nag=True)
    built = time.perf_counter()
    stacks = {stack.node.id: stack.stack_name for stack in (onboard.platform, *onboard.sources.values())}
    try:
        onboard.synth()
    except Exception:  # jsii raises RuntimeError for a failed validation
        findings = nag_findings(outdir)
        if findings:
            raise SynthFailed(f"cdk-nag: {len(findings)} unacknowledged finding(s)", findings) from None
        raise
    finally:
        onboard.cleanup()
    synthesized = time.perf_counter()
    templates = sorted(outdir.glob("*.template.json"))
    problems = lint_templates(templates)
    if problems:
        raise SynthFailed(f"cfn-lint: {len(problems)} problem(s)", problems)
    done = time.perf_counter()
    seconds = {"build": built - started, "synth": synthesized - built, "lint": done - synthesized,
               "total": done - started}
    return SynthResult(outdir, stacks, templates, seconds)


def find_cdk_cli(*roots: Path) -> Path:
    """The CDK CLI the project's package.json installs (`npm ci`), looked up in each root in turn."""
    for root in roots:
        candidate = root / CDK_CLI
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(root / CDK_CLI) for root in roots)
    raise FileNotFoundError(f"no CDK CLI at {looked}: run `npm ci` where package.json is (make deploy-tools)")


def deploy_command(cli: Path, result: SynthResult, sources: list[str], require_approval: str) -> list[str]:
    """`cdk deploy` of the synthesized assembly: the platform plus the chosen sources (all when none)."""
    chosen = [f"Source-{name}" for name in sources] if sources else sorted(k for k in result.stacks if k != "Platform")
    unknown = [c for c in chosen if c not in result.stacks]
    if unknown:
        raise ValueError(f"unknown source {unknown[0].removeprefix('Source-')}")
    return [str(cli), "deploy", "--app", str(result.outdir), "--require-approval", require_approval,
            "--no-notices", "Platform", *chosen]


def bootstrap_command(cli: Path, outdir: Path, account: str, region: str) -> list[str]:
    """`cdk bootstrap` of one environment: the CDKToolkit stack (assets bucket, deploy roles) every deploy needs.

    `--app` names the synthesized assembly so the CDK CLI does not run the app again.
    """
    return [str(cli), "bootstrap", f"aws://{account}/{region}", "--app", str(outdir), "--no-notices"]
