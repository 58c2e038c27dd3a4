"""File access through Hadoop's FileSystem API (via the session's JVM): local paths and s3:// alike.

Using the JVM's FileSystem keeps the library free of boto3 and gives the same URIs Spark itself uses.
Listing, moving and deleting local files take Python's own calls instead: through the JVM each file
costs several gateway round trips (publishing a batch of 81 files took 1.5 s that way, 0.02 s this way).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession

GLOB_CHARS = frozenset("*?[{")


@dataclass(frozen=True)
class InputFile:
    read_path: str  # what to hand to spark.read
    key: str  # authority + encoded path: how _metadata.file_path names it, once its scheme is cut
    size: int  # bytes as stored
    compressed: bool  # a codec is named by the suffix (.gz): Spark decompresses it


@dataclass(frozen=True)
class StoredFile:
    relative_path: str  # below the listed root, "/"-separated
    length: int
    modified: float = 0.0  # seconds since the epoch


def local_path(uri: str) -> str | None:
    """The filesystem path of a local URI (``file:`` or no scheme), None for any other scheme."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    if "://" in uri:
        return None
    return os.path.abspath(uri)


class LakeFS:
    def __init__(self, spark: SparkSession, native_local: bool = True) -> None:
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()
        self._native_local = native_local  # False: local files through Hadoop too (how its route is tested)

    def _local(self, uri: str) -> str | None:
        return local_path(uri) if self._native_local else None

    def _resolve(self, uri: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        fs = path.getFileSystem(self._conf)
        return fs, fs.makeQualified(path)

    def expand_inputs(self, uris: list[str] | tuple[str, ...]) -> list[InputFile]:
        """Files named by ``uris`` in the given order; folders and globs expand to their files, sorted."""
        found: list[InputFile] = []
        seen: set[str] = set()
        for uri in uris:
            fs, path = self._resolve(uri)
            if GLOB_CHARS & set(uri):
                statuses = fs.globStatus(path) or []
                paths = [p for s in statuses for p in self._files_under(fs, s.getPath())]
            elif not fs.exists(path):
                raise FileNotFoundError(f"input not found: {uri}")
            else:
                paths = self._files_under(fs, path)
            codecs = self._jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(self._conf)
            for p, size in paths:
                location = p.toUri()
                key = (location.getRawAuthority() or "") + location.getRawPath()
                if key not in seen:
                    seen.add(key)
                    compressed = codecs.getCodec(p) is not None
                    found.append(InputFile(read_path=p.toString(), key=key, size=size, compressed=compressed))
        return found

    def _files_under(self, fs: Any, path: Any) -> list[tuple[Any, int]]:
        """(path, size) of a file, or of the data files in a folder, sorted by path."""
        status = fs.getFileStatus(path)
        if not status.isDirectory():
            return [(status.getPath(), int(status.getLen()))]
        root = status.getPath().toString().rstrip("/") + "/"
        files = []
        iterator = fs.listFiles(path, True)
        while iterator.hasNext():
            found = iterator.next()
            relative = found.getPath().toString()[len(root) :]
            if not any(part.startswith(("_", ".")) for part in relative.split("/")):
                files.append((found.getPath(), int(found.getLen())))
        return sorted(files, key=lambda item: item[0].toString())

    def is_local(self, uri: str) -> bool:
        """Whether ``uri`` is served by Python's own file calls (a local path), not through Hadoop (S3)."""
        return self._local(uri) is not None

    def count_local_lines(self, files: list[InputFile] | tuple[InputFile, ...]) -> int | None:
        """Lines in ``files`` counted as Spark's text source splits them, when all are local and
        uncompressed (a few times faster than a Spark job over the same bytes); else None."""
        paths = [self._local(f.read_path) for f in files]
        if any(p is None for p in paths) or any(f.compressed for f in files):
            return None
        return sum(count_lines(p) for p in paths if p is not None)

    def sample_input_lines(
        self, files: list[InputFile] | tuple[InputFile, ...], max_bytes: int, windows: int
    ) -> list[bytes]:
        """Whole lines of ``files``, at most about ``max_bytes`` of them: every line when the files hold at most
        ``max_bytes``, else the lines inside ``windows`` evenly spaced ranges of ``max_bytes`` in all, shared by the
        files in proportion to their size. Local files are read with Python's calls, others (S3) with ranged
        reads through Hadoop; a compressed file cannot be read at an offset, so its share is its first bytes
        (decompressed)."""
        total = sum(f.size for f in files)
        lines: list[bytes] = []
        for file in files:
            if not file.size:
                continue
            share = max(1, round(windows * file.size / total)) if total > max_bytes else 1
            window_bytes = max(1, max_bytes // windows) if total > max_bytes else file.size
            if file.compressed:
                head = self.head(file.read_path, share * window_bytes)
                cut = len(head) if len(head) < share * window_bytes else _after_last_break(head)
                lines += head[:cut].splitlines()
                continue
            with self._reader(file.read_path) as read_at:
                lines += sample_lines(read_at, file.size, share, window_bytes)
        return lines

    @contextmanager
    def _reader(self, uri: str) -> Iterator[Callable[[int, int], bytes]]:
        """``read_at(offset, length)`` over one file: Python's file, or a Hadoop stream (a ranged GET on S3)."""
        local = self._local(uri)
        if local is not None:
            with open(local, "rb") as data:
                def read_local(offset: int, length: int) -> bytes:
                    data.seek(offset)
                    return data.read(length)
                yield read_local
            return
        fs, path = self._resolve(uri)
        stream = fs.open(path)
        try:
            def read_remote(offset: int, length: int) -> bytes:
                stream.seek(offset)
                return bytes(stream.readNBytes(length))
            yield read_remote
        finally:
            stream.close()

    def head(self, uri: str, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` from the start of a file, decompressed when its suffix names a codec."""
        fs, path = self._resolve(uri)
        stream = fs.open(path)
        try:
            codec = self._jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(self._conf).getCodec(path)
            if codec is not None:
                stream = codec.createInputStream(stream)
            return bytes(stream.readNBytes(max_bytes))
        finally:
            stream.close()

    def list_files(self, root: str, hidden: bool = False) -> list[StoredFile]:
        """Data files below ``root``, sorted; names starting with ``_`` or ``.`` are skipped unless ``hidden``."""
        local = self._local(root)
        if local is not None:
            return _list_local(local, hidden)
        fs, path = self._resolve(root)
        if not fs.exists(path):
            return []
        prefix = path.toString().rstrip("/") + "/"
        files = []
        iterator = fs.listFiles(path, True)
        while iterator.hasNext():
            status = iterator.next()
            relative = status.getPath().toString()[len(prefix) :]
            if hidden or not any(part.startswith(("_", ".")) for part in relative.split("/")):
                files.append(StoredFile(relative_path=relative, length=int(status.getLen()),
                                        modified=int(status.getModificationTime()) / 1000))
        return sorted(files, key=lambda f: f.relative_path)

    def file_names(self, folder: str) -> list[str]:
        """Names of the files directly inside ``folder`` (one listing request on S3), sorted; none when absent."""
        local = self._local(folder)
        if local is not None:
            return sorted(e.name for e in os.scandir(local) if e.is_file()) if os.path.isdir(local) else []
        fs, path = self._resolve(folder)
        if not fs.exists(path):
            return []
        return sorted(str(s.getPath().getName()) for s in fs.listStatus(path) if s.isFile())

    def move(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing a file already there (a re-run of the batch)."""
        local_source, local_target = self._local(source), self._local(target)
        if local_source is not None and local_target is not None:
            os.makedirs(os.path.dirname(local_target), exist_ok=True)
            os.replace(local_source, local_target)
            return
        fs, src = self._resolve(source)
        _, dst = self._resolve(target)
        if fs.exists(dst):
            fs.delete(dst, False)
        fs.mkdirs(dst.getParent())
        if not fs.rename(src, dst):
            raise OSError(f"could not move {source} to {target}")

    def write_text(self, uri: str, text: str) -> None:
        fs, path = self._resolve(uri)
        stream = fs.create(path, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def delete(self, uri: str, recursive: bool = True) -> None:
        local = self._local(uri)
        if local is not None:
            if os.path.isdir(local) and recursive:
                shutil.rmtree(local, ignore_errors=True)
            elif os.path.isdir(local):
                os.rmdir(local)
            elif os.path.lexists(local):
                os.remove(local)
            return
        fs, path = self._resolve(uri)
        if fs.exists(path):
            fs.delete(path, recursive)

    def delete_if_empty(self, uri: str) -> None:
        """Remove an empty folder; leave it when anything (another batch's staging) is inside."""
        local = self._local(uri)
        if local is not None:
            try:
                os.rmdir(local)
            except OSError:  # not empty, or gone: either way the folder is not ours to remove
                pass
            return
        fs, path = self._resolve(uri)
        try:
            if fs.exists(path) and len(fs.listStatus(path)) == 0:
                fs.delete(path, False)
        except Exception:  # noqa: BLE001 - racing another batch is harmless: the folder stays
            pass


def _list_local(root: str, hidden: bool = False) -> list[StoredFile]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if hidden or not d.startswith(("_", "."))]
        for name in names:
            if hidden or not name.startswith(("_", ".")):
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, root).replace(os.sep, "/")
                stat = os.stat(path)
                files.append(StoredFile(relative_path=relative, length=stat.st_size, modified=stat.st_mtime))
    return sorted(files, key=lambda f: f.relative_path)


def count_lines(path: str, chunk_bytes: int = 1 << 24) -> int:
    """Lines of a file as Hadoop's LineReader ends them: at LF, CRLF or a lone CR."""
    lines, last = 0, b""
    with open(path, "rb") as data:
        while chunk := data.read(chunk_bytes):
            lines += chunk.count(b"\n")
            if b"\r" in chunk:  # rare: counting CRs and CRLFs as well would triple the time
                lines += chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk[:1] == b"\n":  # a CRLF split between two chunks
                lines -= 1
            last = chunk[-1:]
    return lines + (last not in (b"", b"\n", b"\r"))  # a last line without its line break


def sample_lines(read_at: Callable[[int, int], bytes], size: int, windows: int, window_bytes: int) -> list[bytes]:
    """The lines lying whole inside ``windows`` ranges of ``window_bytes`` spread evenly over a file of
    ``size`` bytes (read with ``read_at(offset, length)``): a line counts when it starts at its range's start
    or after a line break inside it, and ends with a line break inside it or with the file."""
    lines: list[bytes] = []
    for index in range(windows):
        start = index * size // windows
        begin = max(start - 1, 0)  # the byte before the range: a line break there starts a line
        chunk = read_at(begin, window_bytes + start - begin)
        first = 0 if start == 0 else _after_first_break(chunk)
        last = len(chunk) if begin + len(chunk) >= size else _after_last_break(chunk)
        lines += chunk[first:last].splitlines()
    return lines


def _after_first_break(chunk: bytes) -> int:
    found = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
    return min(found) + 1 if found else len(chunk)


def _after_last_break(chunk: bytes) -> int:
    return max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
