"""Personal data leaves the job protected: ``pii: hash | mask | drop`` columns.

- ``hash``: HMAC-SHA-256 of the UTF-8 value, in lower-case hex, keyed with the value of the secret the job config
  names (``pii_secret``): equal values give equal hashes across batches and sources that share the secret, and a
  dictionary attack needs the secret. Spark has no HMAC function, so a Python UDF computes it; the key travels in
  the UDF's closure, never in a query plan, a log or a written file.
- ``mask``: every character but the last 4 becomes ``*`` (a value of 4 characters or fewer is kept as it is).
- ``drop``: the column is checked like any other, then written nowhere (processed, quarantine, table).

The secret is read at run time: on a local run (``ONBOARD_LAKE_ROOT`` set) from ``ONBOARD_SECRET_<NAME>`` or the
project's secrets file (framework/runtime/secrets.py, the connectors' resolver); on Glue from Secrets Manager.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

MASK_KEEP = 4


def hmac_hex(key: bytes, value: str) -> str:
    """The ``pii: hash`` of one value (also what a consumer computes to look a value up)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def read_secret(name: str) -> str:
    """The value of the secret ``name``; errors name the secret, never a value."""
    if os.environ.get("ONBOARD_LAKE_ROOT"):
        return _local_secret(name)
    import boto3

    try:
        response = boto3.client("secretsmanager").get_secret_value(SecretId=name)
    except Exception as exc:  # botocore's ClientError carries the code, no secret value
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise RuntimeError(f"PII secret '{name}' cannot be read from Secrets Manager: {code}") from None
    value = response.get("SecretString")
    return value if value is not None else bytes(response["SecretBinary"]).decode("utf-8")


def _local_secret(name: str) -> str:
    """As framework.runtime.secrets.LocalSecrets: ``ONBOARD_SECRET_<NAME>``, then ``ONBOARD_SECRETS_FILE``."""
    var = "ONBOARD_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    if var in os.environ:
        return os.environ[var]
    file = os.environ.get("ONBOARD_SECRETS_FILE")
    if file and Path(file).is_file():
        try:
            stored = json.loads(Path(file).read_text(encoding="utf-8"))
        except ValueError:
            stored = None
        if isinstance(stored, dict) and name in stored:
            return str(stored[name])
    where = f" or add \"{name}\" to {file}" if file else ""
    raise RuntimeError(f"PII secret '{name}' is not available: set {var}{where}")


@dataclass(frozen=True)
class Protection:
    """How each column's value leaves the job; built once per batch (reading the secret only when hashing)."""

    key: bytes | None = None

    @classmethod
    def for_columns(cls, policies: list[str | None], secret: str | None,
                    read: Callable[[str], str] = read_secret) -> Protection:
        if "hash" not in policies:
            return cls()
        if not secret:
            raise ValueError("pii: hash needs pii_secret in the job config")
        return cls(read(secret).encode("utf-8"))

    def protected(self, pii: str | None, value: Column) -> Column | None:
        """``value`` as it may be written: hashed, masked, as is (no policy), or None (dropped)."""
        if pii is None:
            return value
        if pii == "drop":
            return None
        if pii == "mask":
            return F.regexp_replace(value, f"(?s).(?=.{{{MASK_KEEP}}})", "*")
        if pii == "hash":
            if self.key is None:
                raise ValueError("pii: hash without a key")
            key = self.key
            return F.udf(lambda text: None if text is None else hmac_hex(key, text), StringType())(value)
        raise ValueError(f"unknown pii policy {pii!r}")
