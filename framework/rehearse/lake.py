"""The rehearsal's lake: moto's buckets (what the Lambdas see) bridged to the project's local lake.

Each deployed lake bucket (`onboard-raw-<account>-<region>`, ...) is a zone folder of the local lake
(`.onboard/lake/raw/`, ...). The Glue job runs on local Spark, so its S3 arguments become local paths: its
input is copied down from moto first, and what it wrote for the Lambdas to read (the COPY manifest and the
job summary) is copied up after. The Data API fake reads COPY's `s3://` locations from the local lake too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


class LakeBridge:
    def __init__(self, s3: Any, lake_dir: Path, buckets: dict[str, str]) -> None:
        """`buckets`: deployed bucket name -> local zone folder."""
        self.s3, self.lake_dir, self.buckets = s3, lake_dir, buckets

    def local_path(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or parsed.netloc not in self.buckets:
            raise ValueError(f"{uri} is not in a lake bucket of the rehearsal")
        return self.lake_dir / self.buckets[parsed.netloc] / parsed.path.lstrip("/")

    def localize(self, value: str) -> str:
        """Every `s3://<lake bucket>/...` inside `value` (a job argument, a SQL text) as a local path."""
        if not self.buckets:
            return value
        pattern = "|".join(re.escape(b) for b in sorted(self.buckets, key=len, reverse=True))
        return re.sub(rf"s3://({pattern})/", lambda m: f"{self.lake_dir / self.buckets[m.group(1)]}/", value)

    def pull(self, uri: str) -> None:
        """Copy the object at `uri` (or every object below it, for a folder) from moto to the local lake."""
        parsed = urlparse(uri)
        bucket, key = parsed.netloc, parsed.path.lstrip("/")
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            keys += [item["Key"] for item in page.get("Contents", [])
                     if item["Key"] == key or key.endswith("/") or item["Key"].startswith(key + "/")]
        for found in keys:
            target = self.local_path(f"s3://{bucket}/{found}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.s3.get_object(Bucket=bucket, Key=found)["Body"].read())

    def push(self, uri: str) -> bool:
        """Copy the local file of `uri` up to moto; False when the job did not write it."""
        path = self.local_path(uri)
        if not path.is_file():
            return False
        parsed = urlparse(uri)
        self.s3.put_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), Body=path.read_bytes())
        return True

    def forget(self, uri: str) -> None:
        """Remove `uri` from moto and from the local lake (a stale summary must not count as a new one)."""
        parsed = urlparse(uri)
        self.s3.delete_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        self.local_path(uri).unlink(missing_ok=True)
