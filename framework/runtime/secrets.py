"""Where `${SECRET:name}` values come from, and the masker that keeps them out of every message.

Deployed, secrets come from AWS Secrets Manager. Locally (a run with `ONBOARD_LAKE_ROOT` set), from the
environment variable `ONBOARD_SECRET_<NAME>` or else the git-ignored JSON file named by
`ONBOARD_SECRETS_FILE` (`.secrets.json` in the project: `{"customer_api_key": "..."}`).
Errors name the secret, never its value.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

SecretSource = Callable[[str], str]
MASK = "***"


class SecretUnavailable(LookupError):
    """A secret that cannot be read; the message names the secret and where it was looked for."""


def env_var_for(name: str) -> str:
    return "ONBOARD_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class LocalSecrets:
    """`ONBOARD_SECRET_<NAME>` first, then the JSON secrets file (when given)."""

    def __init__(self, file: str | os.PathLike[str] | None = None):
        self.file = Path(file) if file else None

    def __call__(self, name: str) -> str:
        var = env_var_for(name)
        if var in os.environ:
            return os.environ[var]
        stored = self._file_values()
        if name in stored:
            return str(stored[name])
        where = f" or add \"{name}\" to {self.file}" if self.file else ""
        raise SecretUnavailable(f"secret '{name}' is not available: set {var}{where}")

    def _file_values(self) -> dict[str, Any]:
        if self.file is None or not self.file.is_file():
            return {}
        try:
            values = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # never echo the file: it holds secrets
            raise SecretUnavailable(f"{self.file} is not a JSON object of secret names to values") from None
        if not isinstance(values, dict):
            raise SecretUnavailable(f"{self.file} is not a JSON object of secret names to values")
        return values


class SecretsManagerSecrets:
    """Secrets Manager through boto3; each secret is read once per connector run."""

    def __init__(self, client: Any = None):
        self._client = client
        self._cache: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._cache:
            if self._client is None:
                import boto3

                self._client = boto3.client("secretsmanager")
            try:
                response = self._client.get_secret_value(SecretId=name)
            except Exception as exc:  # botocore's ClientError carries no secret value, only the code
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
                raise SecretUnavailable(f"secret '{name}' cannot be read from Secrets Manager: {code}") from None
            value = response.get("SecretString")
            if value is None:
                value = base64.b64decode(response["SecretBinary"]).decode("utf-8") \
                    if isinstance(response["SecretBinary"], str) else response["SecretBinary"].decode("utf-8")
            self._cache[name] = value
        return self._cache[name]


def secrets_from_env() -> SecretSource:
    """Local secrets on a local run (`ONBOARD_LAKE_ROOT` set), else Secrets Manager."""
    if os.environ.get("ONBOARD_LAKE_ROOT"):
        return LocalSecrets(os.environ.get("ONBOARD_SECRETS_FILE"))
    return SecretsManagerSecrets()


class Masker:
    """Replaces every registered secret, and the forms it travels in (URL-encoded, basic-auth base64),
    with `***` in any text before it is logged or raised."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        if value:
            self._values.update({value, quote(value, safe=""), quote_plus(value)})

    def watch(self, source: SecretSource) -> SecretSource:
        """`source`, registering every value it returns."""

        def read(name: str) -> str:
            value = source(name)
            self.add(value)
            return value

        return read

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text
