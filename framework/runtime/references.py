"""Resolve `${BUCKET:zone}`, `${ENV:NAME}` and `${SECRET:name}` at run time.

Buckets come from `ONBOARD_BUCKET_<ZONE>` (locally the zone name itself is the bucket folder).
Secrets come from Secrets Manager when deployed, or locally from `ONBOARD_SECRET_<NAME>`;
their values are never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

REFERENCE = re.compile(r"\$\{(SECRET|BUCKET|ENV):([^}]*)\}")


class ReferenceError_(LookupError):
    """A reference that cannot be resolved; the message names the reference, never a value."""


def bucket_name(zone: str) -> str:
    return os.environ.get(f"ONBOARD_BUCKET_{zone.upper()}", zone)


def env_value(name: str) -> str:
    if name not in os.environ:
        raise ReferenceError_(f"environment variable {name} is not set (referenced as ${{ENV:{name}}})")
    return os.environ[name]


def local_secret(name: str) -> str:
    var = "ONBOARD_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    if var not in os.environ:
        raise ReferenceError_(f"secret '{name}' is not available: set {var} for local runs")
    return os.environ[var]


def resolve(value: str, secret: Callable[[str], str] = local_secret) -> str:
    """Replace every reference inside `value`."""

    def one(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "BUCKET":
            return bucket_name(name)
        if kind == "ENV":
            return env_value(name)
        return secret(name)

    return REFERENCE.sub(one, value)
