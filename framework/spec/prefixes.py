"""A trigger prefix must stay clear of every folder Onboard writes to.

A connector copies what triggered it into the raw zone under `<source>/`, and the Glue job writes the
processed, manifest and quarantine folders. A trigger watching any of them (e.g. `config.prefix: stocks/`
for source `stocks`) would be triggered again by Onboard's own writes, in a loop. `onboard validate`
refuses it (with the prefix's position) and the CDK app refuses manifests that express it; both use
`trigger_conflicts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

AREA_LABELS = {"raw": "raw landing prefix", "processed": "processed prefix", "manifests": "COPY manifest prefix",
               "quarantine": "quarantine prefix"}


@dataclass(frozen=True)
class Written:
    """One folder Onboard writes: a lake area of a source."""

    source: str
    area: str
    bucket: str
    prefix: str


@dataclass(frozen=True)
class Trigger:
    """The bucket and prefix whose new objects start a source's connector."""

    source: str
    bucket: str
    prefix: str


def written_areas(source: str, lake: Mapping[str, Mapping[str, str]]) -> list[Written]:
    """The folders of a manifest's `lake` block (see `framework.runtime.lake.lake_areas`)."""
    return [Written(source, area, spot["bucket"], spot["prefix"]) for area, spot in lake.items()]


def overlaps(a: str, b: str) -> bool:
    """Two key prefixes overlap when one contains the other: some key starts with both."""
    return a.startswith(b) or b.startswith(a)


def trigger_conflicts(triggers: Iterable[Trigger], written: Iterable[Written]) -> list[tuple[Trigger, Written]]:
    """Each (trigger, folder) pair where Onboard's own writes would start the trigger's connector."""
    written = list(written)
    return [(trigger, area) for trigger in triggers for area in written
            if trigger.bucket == area.bucket and overlaps(trigger.prefix, area.prefix)]


def conflict_message(trigger: Trigger, area: Written) -> str:
    return (f"trigger prefix '{trigger.prefix}' overlaps the {AREA_LABELS.get(area.area, area.area)} "
            f"'{area.prefix}' of source {area.source}: objects Onboard writes there would trigger this connector "
            f"again, in a loop; watch a prefix outside every source's folders, e.g. 'incoming/{trigger.source}/'")
