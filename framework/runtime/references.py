"""Resolve `${BUCKET:zone}`, `${ENV:NAME}` and `${SECRET:name}` at run time.

Buckets come from `ONBOARD_BUCKET_<ZONE>` (locally the zone name itself is the bucket folder).
Secrets come from `framework.runtime.secrets` (Secrets Manager when deployed, the environment or a
git-ignored file locally); their values are never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from framework.runtime.secrets import SecretSource, SecretUnavailable, secrets_from_env

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


def resolve(value: str, secret: SecretSource | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Replace every reference inside `value`: buckets and variables from `environ` (default os.environ),
    secrets from `secret` (default: `secrets_from_env()`, created only when a secret is referenced)."""
    source = secret

    def one(match: re.Match[str]) -> str:
        nonlocal source
        kind, name = match.group(1), match.group(2)
        if kind == "BUCKET":
            return bucket_name(name, environ)
        if kind == "ENV":
            return env_value(name, environ)
        source = source or secrets_from_env()
        try:
            return source(name)
        except SecretUnavailable as exc:
            raise ReferenceError_(str(exc)) from None

    return REFERENCE.sub(one, value)
