"""`${SECRET:name}`, `${BUCKET:zone}` and `${ENV:NAME}` references inside a source definition.

They stay as references in every generated file and are resolved only at run time, so a secret's
value never appears in generated code, logs or errors.
"""

from __future__ import annotations

import re
from typing import Any

from framework.spec.models import ZONES

REFERENCE = re.compile(r"\$\{([^}:]*):([^}]*)\}")
KINDS = ("SECRET", "BUCKET", "ENV")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def reference_problems(value: str) -> list[str]:
    """What is wrong with the references inside one string value (empty when all are valid)."""
    problems = []
    for match in REFERENCE.finditer(value):
        kind, name = match.group(1), match.group(2)
        if kind not in KINDS:
            problems.append(f"unknown reference kind '{kind}' in {match.group(0)}; choose from: "
                            + ", ".join(KINDS))
        elif kind == "BUCKET" and name not in ZONES:
            problems.append(f"unknown bucket zone '{name}'; choose from: " + ", ".join(ZONES))
        elif kind == "SECRET" and not _SECRET_NAME.match(name):
            problems.append("a secret name may use letters, digits and /_+=.@- only")
        elif kind == "ENV" and not _ENV_NAME.match(name):
            problems.append(f"'{name}' is not a valid environment variable name")
    leftover = REFERENCE.sub("", value)
    if "${" in leftover:
        problems.append("unterminated or malformed reference; write ${KIND:name} with KIND one of "
                        + ", ".join(KINDS))
    return problems


def bucket_zone(value: str) -> str | None:
    """The zone named by a value that is exactly `${BUCKET:zone}`, else None."""
    match = REFERENCE.fullmatch(value.strip())
    return match.group(2) if match and match.group(1) == "BUCKET" else None


def secret_names(value: Any) -> list[str]:
    """Every secret referenced anywhere inside a (nested) configuration value."""
    found: list[str] = []
    if isinstance(value, str):
        found += [m.group(2) for m in REFERENCE.finditer(value) if m.group(1) == "SECRET"]
    elif isinstance(value, dict):
        for item in value.values():
            found += secret_names(item)
    elif isinstance(value, list):
        for item in value:
            found += secret_names(item)
    return found
