"""Job arguments: Glue ``--name value`` pairs, resolved by awsglue on Glue and parsed here elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

REQUIRED = ("batch_id", "input", "output", "quarantine", "manifest", "summary")
OPTIONAL = ("JOB_NAME", "ingest_time", "slices")
BATCH_ID_MAX_BYTES = 64  # _batch_id is VARCHAR(64) in the warehouse


@dataclass(frozen=True)
class JobArgs:
    job_name: str
    batch_id: str
    inputs: tuple[str, ...]
    output: str
    quarantine: str
    manifest: str
    summary: str
    ingest_time: datetime  # timezone-aware, UTC
    raw: dict[str, str]  # every resolved argument, as Glue's Job.init expects
    slices: int | None = None  # the warehouse's slice count (output files are a multiple of it); None: the config's


def parse_argv(argv: Sequence[str]) -> dict[str, str]:
    """Collect ``--name value`` and ``--name=value`` pairs; anything else is ignored."""
    found: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and len(token) > 2:
            name, eq, value = token[2:].partition("=")
            if eq:
                found[name] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                found[name] = argv[i + 1]
                i += 1
            else:
                found[name] = ""
        i += 1
    return found


def resolve_args(argv: Sequence[str], default_job_name: str) -> JobArgs:
    """Resolve the job arguments (with awsglue's getResolvedOptions when running on Glue)."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        values = parse_argv(argv)
    else:
        present = parse_argv(argv)
        wanted = [*REQUIRED, *(name for name in OPTIONAL if name in present)]
        values = dict(getResolvedOptions(list(argv), wanted))
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ValueError("missing job arguments: " + ", ".join(f"--{name}" for name in missing))
    batch_id = values["batch_id"]
    if len(batch_id.encode("utf-8")) > BATCH_ID_MAX_BYTES or "/" in batch_id:
        raise ValueError(f"--batch_id {batch_id!r} must be at most 64 bytes and contain no '/'")
    values.setdefault("JOB_NAME", default_job_name)
    return JobArgs(
        job_name=values["JOB_NAME"] or default_job_name,
        batch_id=batch_id,
        inputs=tuple(part.strip() for part in values["input"].split(",") if part.strip()),
        output=values["output"],
        quarantine=values["quarantine"],
        manifest=values["manifest"],
        summary=values["summary"],
        ingest_time=parse_ingest_time(values.get("ingest_time") or None),
        raw=values,
        slices=parse_slices(values.get("slices") or None),
    )


def parse_slices(text: str | None) -> int | None:
    """``--slices``: a positive whole number (1..1024, as in the source config), or None when absent."""
    if text is None:
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= 1024:
        raise ValueError(f"--slices {text!r} must be a whole number from 1 to 1024")
    return int(text)


def parse_ingest_time(text: str | None) -> datetime:
    """ISO-8601 (``2024-11-16T10:00:00Z``) to an aware UTC datetime; now when absent."""
    if not text:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
