"""Resolve `${BUCKET:zone}`, `${ENV:NAME}` and `${SECRET:name}` at run time.

Buckets come from `ONBOARD_BUCKET_<ZONE>` (locally the zone name itself is the bucket folder).
Secrets come from Secrets Manager when deployed, or locally from `ONBOARD_SECRET_<NAME>`;
their values are never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

REFERENCE = re.compile(r"\$\{(SECRET|BUCKET|ENV):([^}]*)\}")


class ReferenceError_(LookupError):
    """A reference that cannot be resolved; the message names the reference, never a value."""


def bucket_name(zone: str, environ: Mapping[str, str] | None = None) -> str:
    return (os.environ if environ is None else environ).get(f"ONBOARD_BUCKET_{zone.upper()}", zone)


def env_value(name: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if name not in environ:
        raise ReferenceError_(f"environment variable {name} is not set (referenced as ${{ENV:{name}}})")
    return environ[name]


def local_secret(name: str) -> str:
    var = "ONBOARD_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    if var not in os.environ:
        raise ReferenceError_(f"secret '{name}' is not available: set {var} for local runs")
    return os.environ[var]


def resolve(value: str, secret: Callable[[str], str] = local_secret,
            environ: Mapping[str, str] | None = None) -> str:
    """Replace every reference inside `value` (buckets and variables from `environ`, default os.environ)."""

    def one(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "BUCKET":
            return bucket_name(name, environ)
        if kind == "ENV":
            return env_value(name, environ)
        return secret(name)

    return REFERENCE.sub(one, value)
