"""End-to-end throughput of a generated pipeline against a minimal hand-written PySpark job.

Generates N rows of seed 001's transaction schema as JSONL (1% duplicate transaction ids), runs them
through the generated connector, Glue job and Redshift load on the local embedded default, and, in the
same process and Spark session, a hand-written job doing the same read -> dedupe -> write.

    .venv/bin/python benchmarks/e2e.py [--rows 1000000] [--cold]

``--cold`` runs every run of either side in a fresh process instead (a Glue job run starts its own JVM), then
prints the pipeline through the warm local engine (`onboard run`'s default) beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from framework.local.runner import LocalRunner
from framework.local.spark import local_spark
from framework.project import Project
from framework.render import render_project, write_generated
from framework.spec import ResolvedSource, load_project

RUNS = 6  # per side, alternating; the best and the median of the warm runs are printed
DATA = Path(__file__).resolve().parent / ".data"

SOURCE = """
source:
  name: bench_transactions
  type: s3_file
  config: {prefix: incoming/transactions/}
  schema:
    type: jsonl
    columns:
      - {name: transaction_id, type: string(36), nullable: false}
      - {name: event_time, source: timestamp, type: timestamp}
      - {name: customer_id, type: string(16)}
      - {name: product_id, type: string(16)}
      - {name: product_name, type: string(64)}
      - {name: category, type: string(32)}
      - {name: quantity, type: integer}
      - {name: price, type: 'decimal(10,2)'}
      - {name: total_amount, type: 'decimal(12,2)'}
  destination:
    partitionBy: [year, month, day]
    partition_column: event_time
  redshift:
    schema: bench
    table: transactions
    distkey: customer_id
    sortkey: event_time
    load: {mode: merge, keys: [transaction_id], order_by: event_time}
"""

CATEGORIES = ["Electronics", "Home & Kitchen", "Furniture", "Sports", "Office Supplies", "Books"]


def make_input(rows: int) -> Path:
    """Seed 001's transactions as JSONL, cached between runs; 1% of rows repeat an earlier id."""
    path = DATA / f"transactions-{rows}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = random.Random(1)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    unique = rows - rows // 100
    with open(path, "w", encoding="utf-8") as out:
        for i in range(rows):
            n = i if i < unique else rng.randrange(unique)
            quantity = rng.randint(1, 5)
            price = round(rng.uniform(1, 500), 2)
            product = rng.randrange(1000)
            out.write(json.dumps({
                "transaction_id": f"TXN{n:09d}",
                "timestamp": (start + timedelta(seconds=n * 7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "customer_id": f"CUST{rng.randrange(100_000):06d}",
                "product_id": f"PROD{product:04d}",
                "product_name": f"Product {product}",
                "category": CATEGORIES[product % len(CATEGORIES)],
                "quantity": quantity,
                "price": price,
                "total_amount": round(quantity * price, 2),
            }) + "\n")
    return path


def hand_written(spark, path: Path, out: Path, latest_wins: bool = True) -> float:
    """The minimal job a data engineer would write by hand: explicit schema, dedupe, partitioned Parquet.

    ``latest_wins``: the same dedupe as the generated job (per transaction id, the row with the latest
    timestamp), written the usual way, with a window; else ``dropDuplicates``, which keeps an arbitrary row
    (less work, different semantics: printed for reference)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("transaction_id", T.StringType()), T.StructField("timestamp", T.TimestampType()),
        T.StructField("customer_id", T.StringType()), T.StructField("product_id", T.StringType()),
        T.StructField("product_name", T.StringType()), T.StructField("category", T.StringType()),
        T.StructField("quantity", T.IntegerType()), T.StructField("price", T.DecimalType(10, 2)),
        T.StructField("total_amount", T.DecimalType(12, 2)),
    ])
    started = time.perf_counter()
    df = spark.read.schema(schema).json(str(path))
    if latest_wins:
        newest = Window.partitionBy("transaction_id").orderBy(F.col("timestamp").desc())
        df = df.withColumn("rank", F.row_number().over(newest)).where("rank = 1").drop("rank")
    else:
        df = df.dropDuplicates(["transaction_id"])
    df = (df.withColumn("year", F.year("timestamp")).withColumn("month", F.month("timestamp"))
          .withColumn("day", F.dayofmonth("timestamp")))
    df.write.mode("overwrite").partitionBy("year", "month", "day").parquet(str(out))
    return time.perf_counter() - started


def bench_project(root: Path) -> tuple[Project, ResolvedSource]:
    """A project at ``root`` holding the benchmark source, generated."""
    (root / "sources").mkdir()
    (root / "sources/bench.yaml").write_text(SOURCE, encoding="utf-8")
    project = Project.at(root)
    [source] = load_project(project)
    write_generated(project, render_project([source]))
    return project, source


def one_cold_run(side: str, path: Path) -> None:
    """One run of ``side`` in this fresh process (what a Glue job run pays: a JVM that has run nothing
    but its start-up); prints its seconds as JSON."""
    root = Path(tempfile.mkdtemp(prefix="onboard-bench-"))
    try:
        project, source = bench_project(root)
        spark = local_spark()
        spark.range(1000).count()  # JVM start-up, outside the measurement
        started = time.perf_counter()
        if side == "hand":
            hand_written(spark, path, root / "hand_written")
        else:
            [summary] = LocalRunner(project, engine=False).run(source, path)
            if summary.status != "succeeded":
                raise SystemExit(f"pipeline failed: {summary.error}")
        print(json.dumps({"seconds": time.perf_counter() - started}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cold_runs(rows: int, path: Path) -> None:
    """Each side RUNS times, alternating, each run in its own process."""
    seconds: dict[str, list[float]] = {"pipeline": [], "hand": []}
    for _ in range(RUNS):
        for side, runs in seconds.items():
            command = [sys.executable, __file__, "--rows", str(rows), "--one-cold-run", side]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(output.strip().splitlines()[-1])["seconds"])
    for side, runs in seconds.items():
        print(f"cold {side:<12}{median(runs):>8.2f} median  (" + ", ".join(f"{s:.2f}" for s in runs) + ")")
    print(f"cold, generated pipeline / hand-written job: {median(seconds['pipeline']) / median(seconds['hand']):.2f}x "
          "(medians)")
    warm = warm_engine_runs(path)
    print(f"warm engine {median(warm):>8.2f} median  (" + ", ".join(f"{s:.2f}" for s in warm) + "; the first run, "
          "which starts the engine, not counted)")


def warm_engine_runs(path: Path) -> list[float]:
    """The pipeline through the warm local engine (`onboard run`'s default): one engine, RUNS runs after the one
    that starts it, the source reset between runs so each lands the input again."""
    from framework.local.engine import Engine
    from framework.local.reset import reset_source

    root = Path(tempfile.mkdtemp(prefix="onboard-bench-"))
    project, source = bench_project(root)
    runner = LocalRunner(project, engine=True)
    runs = []
    try:
        for attempt in range(RUNS + 1):
            started = time.perf_counter()
            [summary] = runner.run(source, path)
            if summary.status != "succeeded":
                raise SystemExit(f"pipeline failed: {summary.error}")
            if attempt:
                runs.append(time.perf_counter() - started)
            reset_source(project, source, drop_table=True)
        return runs
    finally:
        Engine(project.state_dir).stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cold", action="store_true", help="each run in a fresh process, as on Glue")
    parser.add_argument("--one-cold-run", choices=["pipeline", "hand"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    started = time.perf_counter()
    path = make_input(args.rows)
    if args.one_cold_run:
        one_cold_run(args.one_cold_run, path)
        return
    print(f"input: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB JSONL ({time.perf_counter() - started:.1f}s)")
    if args.cold:
        cold_runs(args.rows, path)
        return

    root = Path(tempfile.mkdtemp(prefix="onboard-bench-"))
    try:
        project, source = bench_project(root)
        spark = local_spark()
        spark.range(1000).count()  # JVM start-up, outside both measurements
        runner = LocalRunner(project, engine=False)  # the same process and session as the hand-written job
        # Each side runs RUNS times, alternating, and its best run counts: the early runs of either pay
        # the JVM's warm-up (JIT and codegen) for its own plan; every figure is printed.
        hand_runs, drop_runs, runs = [], [], []
        for _ in range(RUNS):
            hand_runs.append(hand_written(spark, path, root / "hand_written"))
            drop_runs.append(hand_written(spark, path, root / "hand_written", latest_wins=False))
            runner.reset()
            started = time.perf_counter()
            [summary] = runner.run(source, path)
            runs.append((time.perf_counter() - started, summary))
            if summary.status != "succeeded":
                raise SystemExit(f"pipeline failed: {summary.error}")
            assert summary.rows_in == summary.rows_loaded + summary.rows_quarantined + summary.rows_duplicate
            [(loaded,)] = runner.warehouse.query("SELECT COUNT(*) FROM bench.transactions")[1]
            assert loaded == summary.rows_loaded, (loaded, summary.rows_loaded)
        total, summary = min(runs, key=lambda run: run[0])
        hand_seconds = min(hand_runs)

        print(f"rows in {summary.rows_in:,}  loaded {summary.rows_loaded:,}  duplicate {summary.rows_duplicate:,}  "
              f"quarantined {summary.rows_quarantined:,}  in warehouse {loaded:,}")
        print(f"{'stage':<12}{'seconds':>10}{'rows/s':>14}")
        for stage, seconds in summary.seconds.items():
            print(f"{stage:<12}{seconds:>10.2f}{summary.rows_in / seconds:>14,.0f}")
        print(f"{'total':<12}{total:>10.2f}{summary.rows_in / total:>14,.0f}  (best of {RUNS}: "
              + ", ".join(f"{seconds:.2f}" for seconds, _ in runs) + ")")
        print(f"{'hand-written':<12}{hand_seconds:>10.2f}{args.rows / hand_seconds:>14,.0f}  (best of {RUNS}: "
              + ", ".join(f"{seconds:.2f}" for seconds in hand_runs) + ")")
        print(f"{'(dropDups)':<12}{min(drop_runs):>10.2f}{args.rows / min(drop_runs):>14,.0f}  (best of {RUNS}: "
              + ", ".join(f"{seconds:.2f}" for seconds in drop_runs) + "; keeps an arbitrary row per id)")
        print(f"generated pipeline / hand-written job: {total / hand_seconds:.2f}x (target <= 1.5x); "
              f"against dropDuplicates: {total / min(drop_runs):.2f}x")
        warm = slice(1, None)
        pipeline_median = median(seconds for seconds, _ in runs[warm])
        print(f"medians of runs 2-{RUNS}: pipeline {pipeline_median:.2f}, hand-written {median(hand_runs[warm]):.2f} "
              f"({pipeline_median / median(hand_runs[warm]):.2f}x), dropDuplicates {median(drop_runs[warm]):.2f} "
              f"({pipeline_median / median(drop_runs[warm]):.2f}x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
