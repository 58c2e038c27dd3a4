"""A stand-in for S3 that Spark and the library reach through Hadoop, as on Glue: no JAR and no network.

Hadoop's own ``ViewFileSystemOverloadScheme`` (in the hadoop-client-api JAR pyspark ships) is registered as the
filesystem of the ``s3`` scheme, with a mount table named after the bucket: ``s3://<bucket>/raw/...`` is the local
folder ``<root>/raw/...``. The URIs, the listing (``listFiles``, ``listStatus``), ``open``/``seek``, ``rename`` and
``delete`` go through the same Hadoop calls as EMRFS would get, and Spark reads and writes ``s3://`` paths through
it. What it cannot show is S3 itself: a rename here is atomic, there are real folders, no ``_$folder$`` markers and
no eventual listing; docs/deploy.md lists what a first real run must still check.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

TOP_FOLDERS = ("raw", "processed", "quarantine")
_NUMBERS = itertools.count()


@dataclass(frozen=True)
class FakeBucket:
    name: str
    root: Path  # the local folder holding the bucket's keys

    @classmethod
    def mount(cls, spark, root: Path) -> FakeBucket:
        name = f"lake{os.getpid()}n{next(_NUMBERS)}"
        conf = spark._jsc.hadoopConfiguration()
        conf.set("fs.s3.impl", "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme")
        conf.set("fs.s3.impl.disable.cache", "true")  # every bucket's mount table is read when first used
        conf.set("fs.viewfs.overload.scheme.target.s3.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        for top in TOP_FOLDERS:  # a mount link needs an existing target: one per top-level folder
            (root / top).mkdir(parents=True, exist_ok=True)
            conf.set(f"fs.viewfs.mounttable.{name}.link./{top}", (root / top).resolve().as_uri())
        return cls(name=name, root=root)

    def uri(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> str:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.uri(key)

    def keys(self, prefix: str = "") -> list[str]:
        """Every key below ``prefix``, sorted (the checksum side files of the local folders left out)."""
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.endswith(".crc"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)
