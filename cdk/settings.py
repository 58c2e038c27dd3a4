"""deploy.yaml: how a project is deployed (every key optional; defaults below).

```yaml
prefix: onboard                 # stack and resource name prefix
retention: {log_days: 30, raw_infrequent_access_days: 30, raw_glacier_days: 90, quarantine_days: 30}
analytics: {scan_limit_mb: 10240, results_days: 30}   # the Athena workgroup <prefix>-analytics
reserved_concurrency: {}        # opt-in, per source: {customers: 5} reserves 5 executions for its connector
warehouse:                      # default: a new Redshift Serverless namespace and workgroup
  kind: serverless
  database: analytics
  base_capacity: 8
  vpc_cidr: 10.40.0.0/16
  availability_zones: [us-east-1a, us-east-1b, us-east-1c]   # three distinct AZs of the deploy region
  loader_user: onboard_loader   # the one database user every loader connects as (password in Secrets Manager)
# or an existing provisioned cluster, by reference:
#  kind: cluster
#  cluster_identifier: analytics
#  database: analytics
#  db_user: onboard_loader
#  attached_role_arn: arn:aws:iam::123456789012:role/redshift-s3   # the role attached to the cluster
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

FILE_NAME = "deploy.yaml"
# The default AZs fit the default region of the docs (us-east-1); another region names its own in deploy.yaml.
DEFAULT_REGION = "us-east-1"
DEFAULT_AVAILABILITY_ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
MIN_WAREHOUSE_AZS = 3  # a Redshift Serverless workgroup needs subnets in three AZs
DB_USER_PATTERN = r"^[a-z_][a-z0-9_$]{0,126}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retention(_Strict):
    log_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653] = 30
    raw_infrequent_access_days: int = Field(30, ge=30, description="Raw objects move to S3 Standard-IA after this.")
    raw_glacier_days: int = Field(90, ge=60, description="... and to Glacier Flexible Retrieval after this.")
    quarantine_days: int = Field(30, ge=1, description="Quarantined rows expire after this.")


ATHENA_MIN_SCAN_LIMIT_MB = 10  # Athena refuses a per-query cutoff below 10 MB (10485760 bytes)


class Analytics(_Strict):
    """The Athena workgroup analysts query the lake in (`<prefix>-analytics`)."""

    scan_limit_mb: int = Field(
        10240, ge=ATHENA_MIN_SCAN_LIMIT_MB,
        description="Per-query scan limit (MiB; Athena's BytesScannedCutoffPerQuery): a query that would read more "
                    f"is cancelled. At least {ATHENA_MIN_SCAN_LIMIT_MB} (Athena's minimum); default 10 GiB.")
    results_days: int = Field(30, ge=1, description="Query results (artifact bucket, athena-results/) expire after "
                                                    "this many days.")

    @property
    def bytes_scanned_cutoff(self) -> int:
        return self.scan_limit_mb * 2**20


class ServerlessWarehouse(_Strict):
    """A Redshift Serverless namespace and workgroup in the private subnets of a new VPC."""

    kind: Literal["serverless"] = "serverless"
    database: str = Field("analytics", pattern=r"^[a-z][a-z0-9_]{0,63}$")
    base_capacity: int = Field(8, ge=8, le=1024, description="RPUs, in steps of 8.")
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: tuple[str, ...] = Field(
        DEFAULT_AVAILABILITY_ZONES, description="The AZs of the workgroup's subnets (at least three, distinct, in "
        f"the deploy region; the default fits {DEFAULT_REGION}).")
    loader_user: str = Field("onboard_loader", pattern=DB_USER_PATTERN,
                             description="The database user every loader connects as; its password is generated "
                                         "into a Secrets Manager secret of the platform stack.")

    @field_validator("availability_zones")
    @classmethod
    def _three_distinct_zones(cls, zones: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(zones)) != len(zones):
            raise ValueError(f"availability zones must be distinct: {', '.join(zones)}")
        if len(zones) < MIN_WAREHOUSE_AZS:
            raise ValueError(f"a Redshift Serverless workgroup needs subnets in at least {MIN_WAREHOUSE_AZS} "
                             f"availability zones; {len(zones)} given")
        for zone in zones:
            if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9][a-z]", zone):
                raise ValueError(f"{zone!r} is not an availability zone name such as {DEFAULT_AVAILABILITY_ZONES[0]}")
        return zones


class ExistingCluster(_Strict):
    """A provisioned cluster that exists already; the loaders reach it through the Data API."""

    kind: Literal["cluster"]
    cluster_identifier: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=63)
    database: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    db_user: str = Field(pattern=DB_USER_PATTERN)
    attached_role_arn: str = Field(
        pattern=r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_\-/]{1,512}$",
        description="The IAM role attached to the cluster; it must be allowed to assume the per-source "
                    "COPY roles (<prefix>-copy-<source>), which chain from it.")


class DeploySettings(_Strict):
    prefix: str = Field("onboard", pattern=r"^[a-z][a-z0-9-]{0,9}$",
                        description="Up to 10 characters: names such as <prefix>-copy-<source> fit IAM's 64.")
    retention: Retention = Field(default_factory=Retention)
    analytics: Analytics = Field(default_factory=Analytics)
    reserved_concurrency: dict[str, Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=dict, description="Source name -> executions reserved for its connector. None by default: "
        "Lambda keeps 100 executions of a region unreserved, so a new account cannot reserve any.")
    warehouse: Annotated[ServerlessWarehouse | ExistingCluster, Field(discriminator="kind")] = Field(
        default_factory=ServerlessWarehouse)

    @model_validator(mode="before")
    @classmethod
    def _serverless_unless_said(cls, data: object) -> object:
        """`warehouse: {availability_zones: [...]}` without `kind` tunes the default (serverless) warehouse."""
        if isinstance(data, dict) and isinstance(data.get("warehouse"), dict) and "kind" not in data["warehouse"]:
            return {**data, "warehouse": {"kind": "serverless", **data["warehouse"]}}
        return data


class SettingsError(ValueError):
    """deploy.yaml is not valid; the message lists every problem."""


def load_settings(project_root: Path) -> DeploySettings:
    path = project_root / FILE_NAME
    if not path.is_file():
        return DeploySettings()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return DeploySettings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{FILE_NAME}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SettingsError("\n".join(problems)) from None
