"""The generated manifests the app deploys from: `generated/<source>/manifest.json` and its folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.spec.prefixes import Trigger, conflict_message, trigger_conflicts, written_areas

SUPPORTED_VERSION = 1


@dataclass(frozen=True)
class SourceManifest:
    """One source's manifest.json, with the folder its relative paths point into."""

    folder: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.data["source"]

    @property
    def kind(self) -> str:
        return self.data["type"]

    @property
    def connector(self) -> dict[str, Any]:
        return self.data["connector"]

    @property
    def trigger(self) -> dict[str, Any]:
        return self.data["connector"]["trigger"]

    @property
    def glue(self) -> dict[str, Any]:
        return self.data["glue"]

    @property
    def lake(self) -> dict[str, dict[str, str]]:
        return self.data["lake"]

    @property
    def iam(self) -> dict[str, dict[str, list[dict[str, str]]]]:
        return self.data["iam"]

    @property
    def secrets(self) -> list[str]:
        return self.data["secrets"]

    def path(self, relative: str) -> Path:
        return self.folder / relative

    def crawler(self) -> dict[str, Any]:
        return json.loads(self.path(self.glue["crawler"]).read_text(encoding="utf-8"))


def trigger_loops(manifests: list[SourceManifest]) -> list[str]:
    """One line per trigger whose prefix overlaps a folder Onboard writes: such a stack would re-trigger itself."""
    triggers = [Trigger(m.name, m.trigger["bucket"], m.trigger["prefix"]) for m in manifests
                if isinstance(m.trigger.get("prefix"), str) and isinstance(m.trigger.get("bucket"), str)]
    written = [area for m in manifests for area in written_areas(m.name, m.lake)]
    by_name = {m.name: m for m in manifests}
    return [f"{trigger.source}/manifest.json: {conflict_message(trigger, area)} (fix config.prefix in "
            f"{by_name[trigger.source].data.get('source_file', 'the source file')}, then `onboard generate`)"
            for trigger, area in trigger_conflicts(triggers, written)]


class ManifestError(ValueError):
    """generated/ holds no usable manifest; the message says what to run."""


def load_manifests(generated_dir: Path, names: list[str] | None = None) -> list[SourceManifest]:
    """Every source's manifest (or only `names`), sorted by source name."""
    files = sorted(generated_dir.glob("*/manifest.json")) if generated_dir.is_dir() else []
    manifests = [SourceManifest(f.parent, json.loads(f.read_text(encoding="utf-8"))) for f in files]
    if not manifests:
        raise ManifestError(f"no manifests under {generated_dir}: run `onboard generate` first")
    for manifest in manifests:
        if manifest.data.get("version") != SUPPORTED_VERSION:
            raise ManifestError(f"{manifest.folder.name}/manifest.json has version {manifest.data.get('version')}; "
                                f"this app reads version {SUPPORTED_VERSION}: run `onboard generate`")
    loops = trigger_loops(manifests)
    if loops:
        raise ManifestError("\n".join(loops))
    if names:
        known = {m.name: m for m in manifests}
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ManifestError(f"unknown source {unknown[0]}; choose from: {', '.join(sorted(known))}")
        manifests = [known[n] for n in sorted(set(names))]
    return manifests
