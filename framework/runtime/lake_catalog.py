"""After a load: the batch's partitions in the source's catalog table `<source>_batches`, so Athena sees it at once.

The crawler adds new partition folders only on its daily run; without this, rows of a batch that opened a new
folder (`onboard_year=2024/onboard_month=12/...`) would be in Redshift but not yet in the Athena view. The
partitions are read from the batch's COPY manifest (the files the load read) and created with the table's
storage descriptor; a partition that exists already is fine. Stdlib + boto3 only (it runs in the loader).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

CATALOG_TABLE_ENV = "ONBOARD_GLUE_TABLE"  # "<database>.<source>_batches"
BATCH_SIZE = 100  # BatchCreatePartition takes at most 100 partitions per call

log = logging.getLogger(__name__)


def partition_values(urls: Iterable[str], keys: list[str]) -> list[list[str]]:
    """The partitions (values in ``keys`` order) the files at ``urls`` are in, each once, in order of appearance:
    read from the `key=value` folders of each file's path (the batch manifest lists only the table's files)."""
    found: dict[tuple[str, ...], None] = {}
    for url in urls:
        folders = dict(part.split("=", 1) for part in url.split("/")[:-1] if "=" in part)
        if all(key in folders for key in keys):
            found[tuple(folders[key] for key in keys)] = None
    return [list(values) for values in found]


def register_partitions(glue: Any, qualified_table: str, urls: list[str]) -> int:
    """Create the partitions the files at ``urls`` are in; returns how many the batch touches (0: unpartitioned).
    Raises RuntimeError when Glue refused one for another reason than that it exists."""
    database, table = qualified_table.split(".", 1)
    described = glue.get_table(DatabaseName=database, Name=table)["Table"]
    keys = [key["Name"] for key in described.get("PartitionKeys", [])]
    if not keys:
        return 0
    descriptor = described["StorageDescriptor"]
    location = descriptor["Location"].rstrip("/")
    values = partition_values(urls, keys)
    inputs = [{"Values": v, "StorageDescriptor": {
        **descriptor, "Location": f"{location}/{'/'.join(f'{k}={x}' for k, x in zip(keys, v, strict=True))}/"}}
        for v in values]
    for start in range(0, len(inputs), BATCH_SIZE):
        response = glue.batch_create_partition(DatabaseName=database, TableName=table,
                                               PartitionInputList=inputs[start:start + BATCH_SIZE])
        refused = [e for e in response.get("Errors", [])
                   if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if refused:
            detail = refused[0].get("ErrorDetail", {})
            raise RuntimeError(f"Glue refused partition {refused[0].get('PartitionValues')} of {qualified_table}: "
                               f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"[:1000])
    return len(values)
