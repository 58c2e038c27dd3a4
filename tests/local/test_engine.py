"""The warm local engine: started by the first run, reused by the next, gone when idle or stopped; each job
isolated from the last; a crash fails its run and the next run starts a new engine; a second process waits
for its turn; a stale pid is replaced; and a run through the engine lands what an in-process run lands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework.cli import main
from framework.local.engine import Engine, EngineError, JobFailed, code_version, is_engine_process
from framework.project import Project
from framework.warehouse import DuckDBWarehouse
from tests.conftest import customers_example

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_on(monkeypatch):
    monkeypatch.setenv("ONBOARD_ENGINE", "on")
    monkeypatch.setenv("ONBOARD_ENGINE_IDLE", "120")  # a leftover engine goes away on its own


@pytest.fixture
def engine_project(tmp_path, engine_on):
    """The customers example, generated, whose engine is stopped after the test."""
    project = customers_example(tmp_path)
    assert cli(project, "generate").exit_code == 0
    yield project
    Engine(project.state_dir).stop()


@pytest.fixture
def engine(tmp_path, engine_on):
    """A bare engine (its state folder only), stopped after the test."""
    client = Engine(tmp_path / "state")
    yield client
    client.stop()


def cli(project: Project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), *args], catch_exceptions=False)


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def engine_pid(project_or_state) -> int | None:
    state = project_or_state.state_dir if isinstance(project_or_state, Project) else project_or_state
    status = Engine(state).status()
    return status["pid"] if status else None


def summary(output: str) -> dict:
    [line] = [line for line in output.splitlines() if line.startswith("{")]
    return json.loads(line)


def customer_rows(project: Project) -> list[tuple]:
    with DuckDBWarehouse(project.warehouse_path) as warehouse:
        return warehouse.query("SELECT customer_id, name, email, country, customer_tier, signup_date "
                               "FROM sales.customers ORDER BY customer_id")[1]


def second_input(project: Project) -> Path:
    """The example with one more customer: new content, so a run lands it as a new batch."""
    records = json.loads((project.root / "sources/samples/customers_data.json").read_text(encoding="utf-8"))
    extra = dict(records[0] if isinstance(records, list) else records["customers"][0])
    extra["customer_id"] = "C-NEW-1"
    path = project.root / "more.json"
    path.write_text(json.dumps([*records, extra] if isinstance(records, list) else
                               {**records, "customers": [*records["customers"], extra]}), encoding="utf-8")
    return path


def test_the_first_run_starts_the_engine_the_next_reuses_it_and_both_match_an_in_process_run(
        engine_project, tmp_path_factory):
    first = cli(engine_project, "run", "customers", "--json")
    assert first.exit_code == 0, first.output
    pid = engine_pid(engine_project)
    assert pid is not None and is_engine_process(pid)
    assert "engine_start" in summary(first.output)["seconds"]
    second = cli(engine_project, "run", "customers", "--input", str(second_input(engine_project)), "--json")
    assert second.exit_code == 0, second.output
    assert engine_pid(engine_project) == pid
    assert Engine(engine_project.state_dir).status()["jobs"] == 2
    assert "engine_start" not in summary(second.output)["seconds"]
    assert {"startup", "check", "land", "handoff", "transform", "load"} == set(summary(second.output)["seconds"])

    # --no-engine: the same tables and the same summaries, the job run in this process
    plain = customers_example(tmp_path_factory.mktemp("plain"))
    assert cli(plain, "generate").exit_code == 0
    plain_first = cli(plain, "run", "customers", "--json", "--no-engine")
    plain_second = cli(plain, "run", "customers", "--input", str(second_input(plain)), "--json", "--no-engine")
    assert plain_second.exit_code == 0, plain_second.output
    assert plain.state_dir.joinpath("engine.pid").exists() is False

    def comparable(output: str) -> dict:
        return {k: v for k, v in summary(output).items() if k not in ("seconds", "batch_id")}

    assert comparable(first.output) == comparable(plain_first.output)
    assert comparable(second.output) == comparable(plain_second.output)
    assert comparable(second.output)["rows_loaded"] == 1 + comparable(first.output)["rows_loaded"]
    assert customer_rows(engine_project) == customer_rows(plain)


def test_engine_commands_start_report_and_stop_it_and_it_exits_when_idle(engine_project, tmp_path, monkeypatch):
    assert cli(engine_project, "engine", "status").output == "no engine running\n"
    started = cli(engine_project, "engine", "start")
    assert started.exit_code == 0, started.output
    pid = engine_pid(engine_project)
    assert started.output == f"engine running (pid {pid}); it exits after 120 s idle\n"
    status = json.loads(cli(engine_project, "engine", "status", "--json").output)
    assert status["pid"] == pid and status["jobs"] == 0
    assert cli(engine_project, "engine", "stop").output == f"engine stopped (pid {pid})\n"
    assert not is_engine_process(pid)
    assert not (engine_project.state_dir / "engine.pid").exists()
    assert cli(engine_project, "engine", "stop").output == "no engine running\n"

    monkeypatch.setenv("ONBOARD_ENGINE_IDLE", "3")
    client = Engine(engine_project.state_dir)
    client.run(script(tmp_path, "noop", "print('hello from the job')\n"), {})
    pid = engine_pid(engine_project)
    deadline = time.monotonic() + 60
    while is_engine_process(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not is_engine_process(pid)
    assert not (engine_project.state_dir / "engine.pid").exists()
    assert not Path(client.paths.socket).exists()


def test_a_job_sees_nothing_the_previous_job_set(engine, tmp_path, capsys):
    setter = script(tmp_path, "setter", """
        import os, sys
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.config("spark.sql.shuffle.partitions", "3").getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", "America/New_York")
        spark.range(5).createOrReplaceTempView("leftover")
        spark.udf.register("leftover_udf", lambda x: x)
        spark.range(7).cache().count()
        os.environ["LEFTOVER"] = "1"
        print("set", sys.argv[1:])
    """)
    observer = script(tmp_path, "observer", """
        import json, os, sys
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        seen = {
            "partitions": spark.conf.get("spark.sql.shuffle.partitions"),
            "zone": spark.conf.get("spark.sql.session.timeZone"),
            "view": spark.catalog.tableExists("leftover"),
            "udf": any(f.name == "leftover_udf" for f in spark.catalog.listFunctions()),
            "cache_empty": spark._jsparkSession.sharedState().cacheManager().isEmpty(),
            "env": os.environ.get("LEFTOVER"),
            "argv": sys.argv[1:],
        }
        open(sys.argv[2], "w").write(json.dumps(seen))
    """)
    before = tmp_path / "before.json"
    engine.run(observer, {"out": str(before)})
    engine.run(setter, {"flag": "x"})
    assert capsys.readouterr().out == "set ['--flag', 'x']\n"  # the job's output streams back
    after = tmp_path / "after.json"
    engine.run(observer, {"out": str(after)})
    assert json.loads(after.read_text()) == {**json.loads(before.read_text()), "argv": ["--out", str(after)]}
    assert json.loads(after.read_text())["view"] is False
    assert json.loads(after.read_text())["partitions"] == "8"


def test_a_failing_job_raises_its_own_error_and_the_engine_keeps_serving(engine, tmp_path):
    failing = script(tmp_path, "failing", """
        from onboard_glue.job import QualityThresholdError
        raise QualityThresholdError("only 10% of rows are valid")
    """)
    with pytest.raises(Exception, match="only 10% of rows are valid") as info:
        engine.run(failing, {})
    assert type(info.value).__module__ == "onboard_glue.job"
    pid = engine_pid(engine.paths.state_dir)
    with pytest.raises(JobFailed, match="^division by zero$"):
        engine.run(script(tmp_path, "zero", "1 / 0\n"), {})
    assert engine_pid(engine.paths.state_dir) == pid


def test_a_job_that_kills_the_engine_fails_its_run_and_the_next_run_starts_a_new_engine(
        engine_project, tmp_path, monkeypatch):
    assert cli(engine_project, "engine", "start").exit_code == 0
    first_pid = engine_pid(engine_project)
    crash = script(tmp_path, "crash", "import os\nos._exit(3)\n")
    real_run = Engine.run
    monkeypatch.setattr(Engine, "run", lambda self, _script, args, **kw: real_run(self, crash, args, **kw))
    failed = cli(engine_project, "run", "customers", "--json")
    assert failed.exit_code == 1
    row = summary(failed.output)
    assert row["status"] == "failed"
    assert row["error"].startswith("transform failed: the local engine stopped during the job; the next run "
                                   "starts a new one")
    [record] = [json.loads(line) for line in cli(engine_project, "status", "--json").output.splitlines()]
    assert (record["status"], record["stage"]) == ("failed", "transform")
    assert not is_engine_process(first_pid)

    monkeypatch.setattr(Engine, "run", real_run)
    resumed = cli(engine_project, "run", "customers", "--resume", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert summary(resumed.output)["status"] == "succeeded"
    assert engine_pid(engine_project) not in (None, first_pid)


def test_a_stale_pid_or_socket_is_replaced_and_a_foreign_pid_is_left_alone(engine, tmp_path):
    job = script(tmp_path, "noop", "pass\n")
    engine.run(job, {})
    killed = engine_pid(engine.paths.state_dir)
    os.kill(killed, signal.SIGKILL)
    while is_engine_process(killed):
        time.sleep(0.05)
    assert engine.paths.socket.exists() and engine.paths.pid.exists()  # left behind by the killed engine
    assert engine.run(job, {})["engine_start"] > 0  # a new engine was started
    replacement = engine_pid(engine.paths.state_dir)
    assert replacement not in (None, killed)

    engine.stop()
    engine.paths.pid.write_text(json.dumps({"pid": os.getpid()}))  # a pid now used by another process
    engine.paths.socket.write_text("")
    assert engine.status() is None
    engine.run(job, {})
    assert engine_pid(engine.paths.state_dir) not in (None, os.getpid())  # and this process still runs


def test_a_second_process_waits_for_its_turn_instead_of_starting_a_second_engine(engine_project, tmp_path):
    more = second_input(engine_project)
    env = {**os.environ, "ONBOARD_ENGINE": "on"}
    command = [sys.executable, "-m", "framework.cli", "--project", str(engine_project.root), "run", "customers",
               "--json", "--input"]
    runs = [subprocess.Popen([*command, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
            for path in (engine_project.root / "sources/samples/customers_data.json", more)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    rows = [summary(out) for out, _ in outputs]
    assert [r["status"] for r in rows] == ["succeeded", "succeeded"]
    assert sorted("engine_start" in r["seconds"] for r in rows) == [False, True]  # one engine started
    assert Engine(engine_project.state_dir).status()["jobs"] == 2


def test_the_engine_restarts_when_its_code_or_start_settings_change(engine, tmp_path, monkeypatch):
    import onboard_glue

    job = script(tmp_path, "noop", "pass\n")
    engine.run(job, {})
    pid = engine_pid(engine.paths.state_dir)
    library_file = Path(onboard_glue.__file__)
    stat = library_file.stat()
    version = code_version()
    try:
        os.utime(library_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert code_version() != version
        assert engine.run(job, {})["engine_start"] > 0  # restarted
    finally:
        os.utime(library_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert engine_pid(engine.paths.state_dir) != pid
    assert not is_engine_process(pid)


def test_an_engine_that_cannot_start_says_why(tmp_path, monkeypatch, engine_on):
    monkeypatch.setenv("ONBOARD_DRIVER_MEMORY", "not-a-size")
    with pytest.raises(EngineError, match="the local engine did not start"):
        Engine(tmp_path / "state").run(script(tmp_path, "noop", "pass\n"), {})


def test_a_job_sees_the_environment_of_the_run_that_handed_it_over(engine, tmp_path, monkeypatch):
    """A secret (`ONBOARD_SECRET_*`, e.g. the PII salt) set after the engine started reaches the job, and one the
    engine was started with does not outlive the run that had it."""
    job = script(tmp_path, "env_job", """
        import os, sys
        with open(sys.argv[sys.argv.index("--out") + 1], "a") as out:
            out.write(os.environ.get("ONBOARD_SECRET_PII_SALT", "<none>") + "\\n")
    """)
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("ONBOARD_SECRET_PII_SALT", "first")
    engine.run(job, {"out": str(seen)})
    monkeypatch.setenv("ONBOARD_SECRET_PII_SALT", "second")
    engine.run(job, {"out": str(seen)})
    monkeypatch.delenv("ONBOARD_SECRET_PII_SALT")
    engine.run(job, {"out": str(seen)})
    assert seen.read_text().splitlines() == ["first", "second", "<none>"]
