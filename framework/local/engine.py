"""A warm local engine: one background process per project folder keeps a JVM and a SparkSession running,
and `onboard run` hands it the generated Glue job over a unix socket instead of starting Spark again.

Each job runs as on Glue, where every run is a fresh JVM, as far as a shared JVM allows: a new Spark session
(`newSession()`: its own SQL configuration, temp views and UDFs), the table cache cleared afterwards, and the
process' argv, environment and working folder restored. The engine exits after ONBOARD_ENGINE_IDLE seconds
without work (default 900), restarts when the installed code changes (a fingerprint of framework/ and the job
library), and is replaced when it died (a stale socket or pid file). A lock file makes a second `onboard`
process wait for its turn instead of starting a second JVM.

Protocol: one JSON object per line each way. The client sends {"op": "run" | "status" | "stop", ...}; for a
run the engine answers with {"stream": "stdout" | "stderr", "text": ...} lines while the job prints, then
{"done": true, "error": null | {"type": ..., "message": ...}}, or {"restart": true} when its code is stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

ENGINE_ENV = "ONBOARD_ENGINE"
IDLE_ENV = "ONBOARD_ENGINE_IDLE"
DEFAULT_IDLE_SECONDS = 900.0
START_TIMEOUT_SECONDS = 300.0
# Settings read when the engine starts Spark: a change starts a new engine.
_START_SETTINGS = ("ONBOARD_SPARK_MASTER", "ONBOARD_SHUFFLE_PARTITIONS", "ONBOARD_DRIVER_MEMORY", "JAVA_HOME",
                   "PYSPARK_PYTHON", IDLE_ENV)
_MARK = "framework.local.engine"  # in the engine's command line: how a pid is recognized as an engine


class EngineError(RuntimeError):
    """The engine could not start, or stopped while it ran a job."""


class JobFailed(RuntimeError):
    """The job raised in the engine: the message is the exception's text, as it would have been in-process."""


def engine_enabled() -> bool:
    """Whether `onboard run` uses the warm engine (ONBOARD_ENGINE=off runs the job in-process)."""
    return os.environ.get(ENGINE_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def idle_seconds() -> float:
    try:
        return float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


def code_version() -> str:
    """A fingerprint of the code an engine has imported: every Python file of framework/ and the job library
    (path, size, modification time), the interpreter and the settings Spark was started with."""
    digest = hashlib.sha256(sys.executable.encode())
    for package in ("framework", "onboard_glue"):  # found, not imported: the job library imports pyspark
        spec = importlib.util.find_spec(package)
        root = Path(spec.origin).parent if spec and spec.origin else Path(package)
        for path in sorted(root.rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path.relative_to(root.parent)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for name in _START_SETTINGS:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    return digest.hexdigest()[:16]


class EnginePaths:
    """The engine's files in a project's state folder (.onboard/): socket, pid, lock and log."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.pid = state_dir / "engine.pid"
        self.lock = state_dir / "engine.lock"
        self.log = state_dir / "engine.log"
        socket_path = state_dir / "engine.sock"
        if len(str(socket_path)) > 100:  # unix socket paths are limited to ~108 bytes
            key = hashlib.sha256(str(state_dir).encode()).hexdigest()[:16]
            socket_path = Path(tempfile.gettempdir()) / f"onboard-engine-{os.getuid()}-{key}.sock"
        self.socket = socket_path

    def read_pid(self) -> int | None:
        try:
            return int(json.loads(self.pid.read_text(encoding="utf-8"))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def is_engine_process(pid: int) -> bool:
    """Whether `pid` is alive and an engine (not a process that reused a dead engine's pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _MARK.encode() in cmdline and b"serve" in cmdline


class Engine:
    """The client side: finds, starts, stops and queries the engine of one state folder."""

    def __init__(self, state_dir: Path, on_wait: Callable[[str], None] | None = None):
        self.paths = EnginePaths(state_dir)
        self.on_wait = on_wait

    # ---- jobs
    def run(self, script: Path, args: dict[str, str], stdout: TextIO | None = None,
            stderr: TextIO | None = None, environment: dict[str, str] | None = None) -> dict[str, float]:
        """Run a Glue script in the engine (started when none runs); the seconds spent starting one
        (`engine_start`, when it did) and running the job in the engine (`job`).

        The job sees `environment` (default: this process's), as it would in-process, not the engine's own.
        Raises the job's own exception class when it is one of the job library's, JobFailed for any other
        exception of the job, and EngineError when the engine could not start or died during the job."""
        request = {"op": "run", "version": code_version(), "script": str(script), "args": args,
                   "cwd": os.getcwd(), "environment": dict(os.environ) if environment is None else environment}
        started = 0.0
        with self._turn():
            for _attempt in range(2):
                conn, spent = self._connect_or_start()
                started += spent
                with conn:
                    answer = self._stream(conn, request, stdout or sys.stdout, stderr or sys.stderr)
                if answer.get("restart"):  # its code is out of date: it exits; start a fresh one
                    self._wait_gone(self.paths.read_pid())
                    continue
                error = answer.get("error")
                if error:
                    raise _rebuild(error)
                return {"engine_start": started, "job": float(answer.get("seconds", 0.0))}
        raise EngineError("the local engine kept asking to be restarted")

    def _stream(self, conn: socket.socket, request: dict, stdout: TextIO, stderr: TextIO) -> dict:
        try:
            _send(conn, request)
            for message in _messages(conn):
                if "stream" in message:
                    (stdout if message["stream"] == "stdout" else stderr).write(message["text"])
                    continue
                return message
        except OSError:
            pass
        raise EngineError(f"the local engine stopped during the job; the next run starts a new one "
                          f"(its log: {self.paths.log})")

    # ---- management
    def start(self) -> dict[str, Any]:
        with self._turn():
            conn, _ = self._connect_or_start()
            with conn:
                _send(conn, {"op": "status"})
                return next(_messages(conn), {})

    def status(self) -> dict[str, Any] | None:
        """The running engine's status (None when none runs); `busy` while a job holds it."""
        pid = self.paths.read_pid()
        if pid is None or not is_engine_process(pid):
            return None
        with self._try_turn() as free:
            if not free:
                return {"pid": pid, "busy": True}
            try:
                with _connect(self.paths.socket) as conn:
                    _send(conn, {"op": "status"})
                    return next(_messages(conn), None)
            except OSError:
                return None

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the engine (after its current job); the pid it had, or None when none ran."""
        pid = self.paths.read_pid()
        if pid is None or not is_engine_process(pid):
            self._clear_stale()
            return None
        try:
            with _connect(self.paths.socket) as conn:
                _send(conn, {"op": "stop"})
                next(_messages(conn), None)
        except OSError:
            pass
        if not self._wait_gone(pid, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 5.0)
        self._clear_stale()
        return pid

    # ---- internals
    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the engine's lock: one `onboard` process at a time talks to (or starts) the engine."""
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.paths.lock, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if self.on_wait:
                    self.on_wait("waiting for the local engine: another onboard process is using it")
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _try_turn(self) -> Iterator[bool]:
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.paths.lock, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _connect_or_start(self) -> tuple[socket.socket, float]:
        pid = self.paths.read_pid()
        if pid is not None and is_engine_process(pid):
            try:
                return _connect(self.paths.socket), 0.0
            except OSError:  # alive but not answering (hung, or a starter that gave up): replace it
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_gone(pid, 5.0)
        self._clear_stale()
        started = time.perf_counter()
        process = self._spawn()
        deadline = started + START_TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise EngineError(f"the local engine did not start (exit {process.returncode}): "
                                  f"{_tail(self.paths.log)}")
            if self.paths.read_pid() == process.pid:
                with contextlib.suppress(OSError):
                    return _connect(self.paths.socket), round(time.perf_counter() - started, 3)
            time.sleep(0.05)
        process.kill()
        raise EngineError(f"the local engine did not start within {START_TIMEOUT_SECONDS:.0f} s; see {self.paths.log}")

    def _spawn(self) -> subprocess.Popen:
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.paths.log, "wb") as log:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", _MARK, "serve", str(self.paths.state_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True, cwd=str(self.paths.state_dir))

    def _clear_stale(self) -> None:
        """Remove the socket and pid file of an engine that no longer runs."""
        pid = self.paths.read_pid()
        if pid is not None and is_engine_process(pid):
            return
        self.paths.socket.unlink(missing_ok=True)
        self.paths.pid.unlink(missing_ok=True)

    @staticmethod
    def _wait_gone(pid: int | None, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while pid is not None and is_engine_process(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def _connect(path: Path) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        raise
    return conn


def _send(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _messages(conn: socket.socket) -> Iterator[dict]:
    buffer = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:]) or "no output"


def _rebuild(error: dict) -> Exception:
    """The job's exception on the client side: the job library's own class (the runner tells some apart),
    JobFailed for anything else."""
    module, _, name = error.get("type", "").rpartition(".")
    message = error.get("message", "")
    if module.startswith("onboard_glue"):
        with contextlib.suppress(Exception):
            cls = getattr(importlib.import_module(module), name)
            if isinstance(cls, type) and issubclass(cls, Exception):
                return cls(message)
    return JobFailed(message)


# ------------------------------------------------------------------------------------------------ server side
class _Forward:
    """A text stream that sends what the job prints to the client."""

    def __init__(self, conn: socket.socket, name: str):
        self.conn, self.name = conn, name

    def write(self, text: str) -> int:
        if text:
            with contextlib.suppress(OSError):
                _send(self.conn, {"stream": self.name, "text": text})
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _Server:
    def __init__(self, state_dir: Path):
        self.paths = EnginePaths(state_dir)
        self.version = code_version()
        self.started = time.time()
        self.jobs = 0
        self.idle = idle_seconds()

    def serve(self) -> None:
        from framework.local.spark import local_spark

        self.spark = local_spark()
        self.spark.range(1).count()  # warm the JVM's planner and code generation once
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.paths.socket.unlink(missing_ok=True)
        umask = os.umask(0o077)  # the socket is the user's own from the start
        try:
            listener.bind(str(self.paths.socket))
        finally:
            os.umask(umask)
        listener.listen(8)
        listener.settimeout(self.idle)
        self.paths.pid.write_text(json.dumps({"pid": os.getpid(), "version": self.version}), encoding="utf-8")
        try:
            while True:
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    return  # idle for too long
                with conn:
                    conn.settimeout(None)
                    try:
                        keep = self.handle(conn)
                    except OSError:  # the client went away before the answer
                        keep = self.spark._sc._jsc is not None
                    if not keep:
                        return
        finally:
            listener.close()
            if self.paths.read_pid() == os.getpid():
                self.paths.socket.unlink(missing_ok=True)
                self.paths.pid.unlink(missing_ok=True)

    def handle(self, conn: socket.socket) -> bool:
        """Answer one request; False when the engine should exit."""
        try:
            request = next(_messages(conn), None)
        except (OSError, ValueError):
            return True
        if request is None:
            return True
        op = request.get("op")
        if op == "status":
            _send(conn, {"pid": os.getpid(), "version": self.version, "jobs": self.jobs,
                         "uptime": round(time.time() - self.started, 1), "idle_exit": self.idle})
            return True
        if op == "stop":
            _send(conn, {"stopping": True})
            return False
        if op != "run":
            _send(conn, {"done": True, "error": {"type": "", "message": f"unknown request {op!r}"}})
            return True
        if request.get("version") != self.version:
            _send(conn, {"restart": True})
            return False
        started = time.perf_counter()
        error = self.run_job(conn, Path(request["script"]), request["args"], request["cwd"],
                             request.get("environment") or {})
        seconds = round(time.perf_counter() - started, 3)
        self.jobs += 1
        alive = self.spark._sc._jsc is not None  # a job that stopped the SparkContext ends the engine
        with contextlib.suppress(OSError):  # a client that went away (Ctrl-C) does not end the engine
            _send(conn, {"done": True, "error": error, "seconds": seconds})
        return alive

    def run_job(self, conn: socket.socket, script: Path, args: dict[str, str], cwd: str,
                environment: dict[str, str]) -> dict | None:
        import runpy

        from pyspark.sql import SparkSession

        session = self.spark.newSession()
        jvm = self.spark._jvm
        saved_argv, saved_env, saved_cwd = sys.argv, dict(os.environ), os.getcwd()
        saved_streams = sys.stdout, sys.stderr
        sys.argv = [str(script)] + [part for name, value in args.items() for part in (f"--{name}", value)]
        SparkSession._instantiatedSession = SparkSession._activeSession = session
        jvm.SparkSession.setDefaultSession(session._jsparkSession)
        jvm.SparkSession.setActiveSession(session._jsparkSession)
        sys.stdout, sys.stderr = _Forward(conn, "stdout"), _Forward(conn, "stderr")
        try:
            if environment:  # exactly the client's (its secrets, its lake root), as in-process: restored below
                os.environ.clear()
                os.environ.update(environment)
            os.chdir(cwd)
            runpy.run_path(str(script), run_name="__main__")
            return None
        except SystemExit as exc:
            if exc.code in (None, 0):
                return None
            return {"type": "SystemExit", "message": f"the job exited with {exc.code}"}
        except BaseException as exc:  # noqa: BLE001 - every job failure goes back to the client
            return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "message": str(exc)}
        finally:
            sys.stdout, sys.stderr = saved_streams
            sys.argv = saved_argv
            os.environ.clear()
            os.environ.update(saved_env)
            with contextlib.suppress(OSError):
                os.chdir(saved_cwd)
            if self.spark._sc._jsc is not None:
                with contextlib.suppress(Exception):
                    session.catalog.clearCache()
                SparkSession._instantiatedSession = SparkSession._activeSession = self.spark
                jvm.SparkSession.setDefaultSession(self.spark._jsparkSession)
                jvm.SparkSession.setActiveSession(self.spark._jsparkSession)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "serve":
        print("usage: python -m framework.local.engine serve STATE_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _Server(Path(argv[1])).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
