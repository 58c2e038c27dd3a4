"""Run a generated Glue script on local Spark with the same job arguments it gets on Glue."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Any

_SESSION = None


def local_spark() -> Any:
    """One shared local SparkSession (started once per process: Spark takes seconds to boot)."""
    global _SESSION
    if _SESSION is None:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        log_config = Path(__file__).with_name("log4j2.properties").as_uri()
        from pyspark.sql import SparkSession

        _SESSION = (
            SparkSession.builder.master(os.environ.get("ONBOARD_SPARK_MASTER", "local[*]"))
            .appName("onboard-local")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={log_config}")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("ONBOARD_SHUFFLE_PARTITIONS", "8"))
            .config("spark.driver.memory", os.environ.get("ONBOARD_DRIVER_MEMORY", "2g"))
            .config("spark.sql.adaptive.enabled", "true")
            .getOrCreate()
        )
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def run_glue_script(script: Path, args: dict[str, str]) -> None:
    """Execute `script` as `__main__` with Glue-style `--name value` arguments, in this process."""
    local_spark()
    argv = [str(script)]
    for name, value in args.items():
        argv += [f"--{name}", value]
    saved = sys.argv
    sys.argv = argv
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved
