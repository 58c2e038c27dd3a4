"""One small storage interface with an S3 backend and a local filesystem backend.

Connectors never call S3 directly: locally every bucket is a folder under the lake root, so the same
connector code runs on a laptop and in Lambda.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path
from typing import IO, Any, Protocol


class Storage(Protocol):
    def put(self, bucket: str, key: str, body: bytes | IO[bytes]) -> None: ...
    def get(self, bucket: str, key: str) -> bytes: ...
    def open(self, bucket: str, key: str, first_bytes: int | None = None) -> IO[bytes]: ...
    def list(self, bucket: str, prefix: str = "") -> list[str]: ...
    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None: ...
    def delete(self, bucket: str, key: str) -> None: ...
    def uri(self, bucket: str, key: str) -> str: ...


def _free_temporary(path: str) -> str:
    """The name an object is written under before it is renamed to ``path``: its folder made, and no leftover
    of an earlier attempt there (a leftover may be a link to another object: never write through it). The name is
    the writer's own (process and thread), so concurrent writes of one key each replace it whole, as on S3."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}-{threading.get_ident()}.part"
    with contextlib.suppress(FileNotFoundError):
        os.remove(tmp)
    return tmp


class LocalStorage:
    """Buckets are folders below `root`; keys are relative paths.

    Paths are handled as strings (os.path), not pathlib: pathlib interns every path part, so writing
    thousands of distinct keys (one per API page) would grow the interpreter's interned-string table.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _base(self, bucket: str) -> str:
        if not bucket or "/" in bucket:
            raise ValueError(f"not a bucket name: {bucket!r}")
        return os.path.realpath(os.path.join(self.root, bucket))

    def _path(self, bucket: str, key: str) -> str:
        base = self._base(bucket)
        path = os.path.realpath(os.path.join(base, key))
        if not path.startswith(base + os.sep):
            raise ValueError(f"key escapes its bucket: {bucket}/{key}")
        return path

    def put(self, bucket: str, key: str, body: bytes | IO[bytes]) -> None:
        path = self._path(bucket, key)
        tmp = _free_temporary(path)
        with open(tmp, "wb") as out:
            if isinstance(body, bytes):
                out.write(body)
            else:
                shutil.copyfileobj(body, out, 1024 * 1024)
        os.replace(tmp, path)

    def get(self, bucket: str, key: str) -> bytes:
        with open(self._path(bucket, key), "rb") as data:
            return data.read()

    def open(self, bucket: str, key: str, first_bytes: int | None = None) -> IO[bytes]:
        return open(self._path(bucket, key), "rb")

    def list(self, bucket: str, prefix: str = "") -> list[str]:
        base = self.root / bucket
        start = base / prefix.rpartition("/")[0]  # walk only below the prefix's folder
        if not start.is_dir():
            return []
        keys = (p.relative_to(base).as_posix() for p in start.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith(".part"))

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        """A hard link where the filesystem allows one, else a byte copy. A link is as good as a copy here:
        `put` never rewrites a file in place (it renames a new one over it), so neither name can change the
        other's bytes; and like S3's server-side copy it moves no data (a 240 MB object: 0.07 s saved)."""
        source, target = self._path(src_bucket, src_key), self._path(dst_bucket, dst_key)
        tmp = _free_temporary(target)
        try:
            os.link(source, tmp)
        except OSError:  # no hard links here: copy the bytes
            with self.open(src_bucket, src_key) as src:
                self.put(dst_bucket, dst_key, src)
            return
        os.replace(tmp, target)

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object (absent is fine) and the folders it leaves empty."""
        path, base = self._path(bucket, key), self._base(bucket)
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        folder = os.path.dirname(path)
        while folder.startswith(base + os.sep):
            try:
                os.rmdir(folder)
            except OSError:  # not empty (or already gone): stop climbing
                break
            folder = os.path.dirname(folder)

    def uri(self, bucket: str, key: str) -> str:
        return self._path(bucket, key)


class S3Storage:
    """S3 through boto3; objects are streamed or copied server-side, never read whole."""

    def __init__(self, client: Any = None):
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def put(self, bucket: str, key: str, body: bytes | IO[bytes]) -> None:
        if isinstance(body, bytes):
            self.client.put_object(Bucket=bucket, Key=key, Body=body)
        else:
            self.client.upload_fileobj(body, bucket, key)

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def open(self, bucket: str, key: str, first_bytes: int | None = None) -> IO[bytes]:
        extra = {"Range": f"bytes=0-{first_bytes - 1}"} if first_bytes else {}
        return self.client.get_object(Bucket=bucket, Key=key, **extra)["Body"]

    def list(self, bucket: str, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        return sorted(keys)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        self.client.copy({"Bucket": src_bucket, "Key": src_key}, dst_bucket, dst_key)

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)

    def uri(self, bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key}"


def storage_from_env() -> Storage:
    """`ONBOARD_LAKE_ROOT` selects the local backend (local runs); otherwise S3."""
    root = os.environ.get("ONBOARD_LAKE_ROOT")
    return LocalStorage(root) if root else S3Storage()
