"""The CDK app: a PlatformStack and one SourceStack per generated manifest.

`onboard synth` builds it in-process; the CDK CLI can also run it (`cdk.json`:
`python -m onboard_cdk.app`), reading the project in the current folder or in ONBOARD_PROJECT.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from onboard_cdk.dashboards import OverviewDashboard
from onboard_cdk.glue_resources import build_library_zip
from onboard_cdk.lake_catalog import catalog_conflicts
from onboard_cdk.manifests import ManifestError, load_manifests
from onboard_cdk.naming import platform_stack_name, source_stack_name
from onboard_cdk.pipeline_api import PipelineApi
from onboard_cdk.platform_stack import PlatformStack
from onboard_cdk.settings import DeploySettings, load_settings
from onboard_cdk.source_stack import SourceStack, exported_dataset_names

# Behaviours newer than the CDK defaults for an app without cdk.json: access logs are granted by bucket
# policy (not ACLs, which BucketOwnerEnforced buckets refuse).
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


@dataclass
class OnboardApp:
    app: cdk.App
    platform: PlatformStack
    sources: dict[str, SourceStack]
    staging: tempfile.TemporaryDirectory[str] = field(repr=False)

    def synth(self) -> cdk.cx_api.CloudAssembly:
        """Synthesize (running the cdk-nag validation plugin when enabled); raises when findings remain."""
        return self.app.synth()

    def cleanup(self) -> None:
        self.staging.cleanup()


def build_app(project_root: Path, outdir: Path, *, nag: bool = True, settings: DeploySettings | None = None,
              environment: cdk.Environment | None = None) -> OnboardApp:
    """Every stack of the project in `project_root` (its generated/ and optional deploy.yaml)."""
    settings = settings or load_settings(project_root)
    manifests = load_manifests(project_root / "generated")
    exported = exported_dataset_names(project_root / "generated")
    conflicts = catalog_conflicts([m.name for m in manifests], exported)
    if conflicts:
        raise ManifestError("\n".join(conflicts))
    staging = tempfile.TemporaryDirectory(prefix="onboard-cdk-")
    staging_dir = Path(staging.name)
    library_zip = build_library_zip(staging_dir / "onboard_glue.zip")
    app = cdk.App(outdir=str(outdir), analytics_reporting=False, context=FEATURE_FLAGS)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    prefix = settings.prefix
    platform = PlatformStack(app, "Platform", stack_name=platform_stack_name(prefix), settings=settings,
                             sources=[m.name for m in manifests], env=environment,
                             trigger_kinds={m.trigger["kind"] for m in manifests},
                             python_modules={r for m in manifests for r in m.glue.get("python_modules", [])},
                             processed_prefixes={m.lake["processed"]["prefix"] for m in manifests},
                             exported_datasets=exported,
                             description="Onboard platform: lake, catalog, alerts, warehouse, run ledger")
    if manifests:
        PipelineApi(platform, "PipelineApi", platform=platform, manifests=manifests, staging_dir=staging_dir)
        OverviewDashboard(platform, "Overview", prefix=prefix, sources=[m.name for m in manifests])
    sources = {
        m.name: SourceStack(app, f"Source-{m.name}", stack_name=source_stack_name(prefix, m.name), manifest=m,
                            platform=platform, staging_dir=staging_dir, library_zip=library_zip, env=environment,
                            description=f"Onboard source {m.name} ({m.kind}) from {m.data['source_file']}")
        for m in manifests
    }
    for stack in (platform, *sources.values()):
        cdk.Tags.of(stack).add("onboard:project", prefix)
    for name, stack in sources.items():
        cdk.Tags.of(stack).add("onboard:source", name)
    return OnboardApp(app=app, platform=platform, sources=sources, staging=staging)


def main() -> None:
    project_root = Path(os.environ.get("ONBOARD_PROJECT", os.getcwd()))
    onboard = build_app(project_root, Path(os.environ.get("CDK_OUTDIR", "cdk.out")))
    try:
        onboard.synth()
    finally:
        onboard.cleanup()


if __name__ == "__main__":
    main()
