"""`onboard destroy` and `onboard clean`: remove what a deploy or a local run created.

`cdk destroy` removes the stacks; the resources they retain on purpose (the lake buckets, the run ledger, the
Serverless namespace and workgroup) stay, because they hold data. `--delete-data` lists and deletes them through
boto3, after the deploy prefix is typed back. `clean` removes the local state folder (`.onboard/`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAKE_ZONES = ("raw", "processed", "curated", "quarantine", "artifact")  # onboard_cdk.lake_buckets.BUCKETS


def destroy_stacks(stacks: Mapping[str, str], sources: list[str]) -> list[str]:
    """The construct ids to destroy: the named sources' stacks, or every source stack then the platform."""
    if sources:
        chosen = [f"Source-{name}" for name in sources]
        unknown = [c for c in chosen if c not in stacks]
        if unknown:
            known = ", ".join(sorted(k.removeprefix("Source-") for k in stacks if k != "Platform"))
            raise ValueError(f"unknown source {unknown[0].removeprefix('Source-')}; choose from: {known}")
        return chosen
    return sorted(k for k in stacks if k != "Platform") + (["Platform"] if "Platform" in stacks else [])


def destroy_command(cli: Path, outdir: Path, stacks: list[str], force: bool) -> list[str]:
    """`cdk destroy` of the synthesized assembly's chosen stacks (`--force`: without the CDK's own question)."""
    return [str(cli), "destroy", "--app", str(outdir), "--no-notices", *(["--force"] if force else []), *stacks]


@dataclass(frozen=True)
class Retained:
    """A resource the stacks retain: kind (bucket, table, workgroup, namespace) and name."""

    kind: str
    name: str

    def line(self) -> str:
        return f"{self.kind} {self.name}"


def retained_names(prefix: str, account: str, region: str, serverless: bool) -> list[Retained]:
    """Every resource a deploy with `prefix` retains, by name (an existing cluster is not Onboard's to delete)."""
    from onboard_cdk.naming import ledger_table_name, warehouse_name

    found = [Retained("bucket", f"{prefix}-{zone}-{account}-{region}") for zone in LAKE_ZONES]
    found.append(Retained("table", ledger_table_name(prefix)))
    if serverless:
        found += [Retained("workgroup", warehouse_name(prefix)), Retained("namespace", warehouse_name(prefix))]
    return found


def existing(session: Any, resources: list[Retained]) -> list[Retained]:
    """Those of `resources` that exist in the account."""
    from botocore.exceptions import ClientError

    present = []
    for resource in resources:
        try:
            if resource.kind == "bucket":
                session.client("s3").head_bucket(Bucket=resource.name)
            elif resource.kind == "table":
                session.client("dynamodb").describe_table(TableName=resource.name)
            elif resource.kind == "workgroup":
                session.client("redshift-serverless").get_workgroup(workgroupName=resource.name)
            else:
                session.client("redshift-serverless").get_namespace(namespaceName=resource.name)
        except ClientError:
            continue
        present.append(resource)
    return present


def delete(session: Any, resource: Retained) -> None:
    """Delete one retained resource; a bucket is emptied first (every object version and delete marker)."""
    if resource.kind == "bucket":
        s3 = session.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=resource.name):
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if keys:
                s3.delete_objects(Bucket=resource.name, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=resource.name)
    elif resource.kind == "table":
        session.client("dynamodb").delete_table(TableName=resource.name)
    elif resource.kind == "workgroup":
        client = session.client("redshift-serverless")
        client.delete_workgroup(workgroupName=resource.name)
        _wait_until_gone(lambda: client.get_workgroup(workgroupName=resource.name))  # then the namespace can go
    else:
        session.client("redshift-serverless").delete_namespace(namespaceName=resource.name)


def _wait_until_gone(look: Any, seconds: float = 900, pause: float = 10) -> None:
    """Poll `look` until it raises ResourceNotFoundException (a workgroup is deleted asynchronously)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            look()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return
            raise
        time.sleep(pause)
    raise TimeoutError(f"still there after {seconds:.0f} s")


def clean_local(state_dir: Path) -> bool:
    """Remove the local state folder (lake, warehouse, ledger); False when there was none."""
    if not state_dir.exists():
        return False
    shutil.rmtree(state_dir)
    return True
