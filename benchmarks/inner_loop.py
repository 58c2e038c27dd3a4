"""The inner loop: a small file (20 rows) through `onboard run` with the local engine warm, against starting a
bare local SparkSession in a fresh process, alternated in the same run. Target: warm / bare <= 0.35.

    .venv/bin/python benchmarks/inner_loop.py [--runs 5]

Each `onboard run` is a whole new CLI process (what a user types), with an input of new content so it is a
new batch; the stages of the last warm run (its `--json` summary's `seconds`) are printed beside.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ONBOARD = str(Path(sys.executable).with_name("onboard"))
SOURCE = """
source:
  name: small_orders
  type: s3_file
  config: {prefix: incoming/small_orders/}
  schema:
    type: csv
    columns:
      - {name: order_id, type: string(16), nullable: false}
      - {name: customer, type: string(64)}
      - {name: amount, type: 'decimal(10,2)'}
      - {name: ordered_at, type: date}
  redshift:
    schema: bench
    table: small_orders
    load: {mode: merge, keys: [order_id]}
"""
BARE = """
import os, sys
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.range(1).count()
spark.stop()
"""


def small_file(folder: Path, turn: int) -> Path:
    path = folder / f"orders_{turn}.csv"
    lines = ["order_id,customer,amount,ordered_at"]
    lines += [f"O-{turn}-{i},customer {i},{i * 3 + turn}.50,2026-01-{i % 28 + 1:02d}" for i in range(20)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    spent = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return spent, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    env = {**os.environ, "ONBOARD_ENGINE": "on"}
    with tempfile.TemporaryDirectory(prefix="onboard-inner-") as tmp:
        root = Path(tmp)
        (root / "sources").mkdir()
        (root / "sources/small_orders.yaml").write_text(SOURCE.lstrip(), encoding="utf-8")
        timed([ONBOARD, "generate"], root, env)
        try:
            cold, _ = timed([ONBOARD, "run", "small_orders", "--input", str(small_file(root, 0)), "--json"], root, env)
            warm, bare, stages = [], [], {}
            for turn in range(1, runs + 1):
                spent, output = timed([ONBOARD, "run", "small_orders", "--input", str(small_file(root, turn)),
                                       "--json"], root, env)
                summary = json.loads(output.strip().splitlines()[-1])
                assert summary["status"] == "succeeded" and summary["rows_loaded"] == 20, summary
                warm.append(spent)
                stages = summary["seconds"]
                bare.append(timed([sys.executable, "-c", BARE], root, env)[0])
        finally:
            subprocess.run([ONBOARD, "engine", "stop"], cwd=root, env=env, capture_output=True, check=False)  # noqa: S603
    ratios = [w / b for w, b in zip(warm, bare, strict=True)]
    print(f"first run (starts the engine): {cold:.2f} s")
    print(f"warm `onboard run` of 20 rows: median {median(warm):.2f} s (min {min(warm):.2f}, max {max(warm):.2f})")
    print(f"bare SparkSession, fresh process: median {median(bare):.2f} s (min {min(bare):.2f}, max {max(bare):.2f})")
    print(f"ratio warm / bare: median {median(ratios):.2f} (target <= 0.35)")
    print("last warm run's stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
