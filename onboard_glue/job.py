"""``run_job``: read raw -> map/cast -> quality -> dedupe -> write, for one batch."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Observation, SparkSession
from pyspark.sql import functions as F

from onboard_glue.args import JobArgs, resolve_args
from onboard_glue.config import JobConfig, load_config
from onboard_glue.dedupe import latest_per_key
from onboard_glue.lake_fs import LakeFS
from onboard_glue.read import read_records
from onboard_glue.session import open_session, run_conf
from onboard_glue.transform import (
    REASON_COL,
    RULES_COL,
    check_records,
    output_columns,
    quarantine_rows,
    reason_kind,
    table_rows,
)
from onboard_glue.write import file_count, manifest, write_json, write_quarantine, write_table_files


class QualityThresholdError(RuntimeError):
    """The batch's share of valid rows is below the source's quality threshold: nothing is loaded."""


def quality_score(rows_in: int, rows_quarantined: int) -> float:
    """The share of valid (not quarantined) rows, 1.0 for an empty batch."""
    return round((rows_in - rows_quarantined) / rows_in, 4) if rows_in else 1.0


def run_job(config: dict[str, Any], argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run one batch as configured (``config``: the contract's job config; ``argv``: Glue-style
    ``--name value`` arguments, default ``sys.argv``). Writes Parquet, quarantine, manifest and
    summary, and returns the summary."""
    job_config = load_config(config)
    args = resolve_args(list(sys.argv if argv is None else argv), default_job_name=job_config.source)
    session = open_session(args.job_name, args.raw)
    with run_conf(session.spark):
        summary = process_batch(session.spark, job_config, args)
    session.commit()
    return summary


def process_batch(spark: SparkSession, config: JobConfig, args: JobArgs) -> dict[str, Any]:
    """The batch on an existing session (whose settings the caller controls)."""
    lake = LakeFS(spark)
    inputs = lake.expand_inputs(args.inputs)
    records = read_records(spark, lake, config.format, config.columns, inputs)
    # Parsed and checked once: every output below reads this cache, not the input files.
    text_encoding = config.format.encoding if config.format.type in ("csv", "json", "jsonl") else None
    checked = check_records(records, config.columns, config.quality, text_encoding).persist(
        StorageLevel.MEMORY_AND_DISK)
    deduped = None
    try:
        by_kind = {
            row["kind"]: row["count"]
            for row in checked.groupBy(reason_kind(F.col(REASON_COL)).alias("kind")).count().collect()
        }
        rows_in = sum(by_kind.values())
        accepted = by_kind.pop(None, 0)
        rows_quarantined = rows_in - accepted
        write_quarantine(
            quarantine_rows(checked, config.columns, args.batch_id),
            lake=lake,
            folder=args.quarantine,
            count=rows_quarantined,
        )
        quality = _quality_summary(checked, config, rows_in, rows_quarantined)
        if quality is not None and not quality["passed"]:
            summary = {"batch_id": args.batch_id, "rows_in": rows_in, "rows_loaded": 0,
                       "rows_quarantined": rows_quarantined, "rows_duplicate": 0, "files": 0,
                       "quarantine_reasons": dict(sorted(by_kind.items())), "quality": quality}
            write_json(lake, args.manifest, manifest([]))
            write_json(lake, args.summary, summary)
            raise QualityThresholdError(f"quality score {quality['score']} is below the threshold "
                                        f"{quality['threshold']}: nothing was loaded")
        rows = table_rows(checked, config, args.batch_id, args.ingest_time)
        write = partial(
            write_table_files,
            lake=lake,
            output=args.output,
            batch_id=args.batch_id,
            columns=output_columns(config),
            partition_by=config.partition_by,
        )
        if config.dedupe is None or not accepted:
            rows_loaded = accepted
            written = write(rows, files=file_count(accepted, config.files.rows_per_file, config.files.slices))
        elif accepted <= config.files.rows_per_file:
            # One file whatever the duplicates: count the unique rows while writing them.
            loaded = Observation()
            deduped = latest_per_key(rows, config.dedupe.keys, config.dedupe.order_by)
            written = write(deduped.observe(loaded, F.count(F.lit(1)).alias("rows")), files=1)
            rows_loaded = int(loaded.get["rows"])
        else:
            deduped = latest_per_key(rows, config.dedupe.keys, config.dedupe.order_by)
            deduped = deduped.persist(StorageLevel.MEMORY_AND_DISK)
            rows_loaded = deduped.count()
            written = write(deduped, files=file_count(rows_loaded, config.files.rows_per_file, config.files.slices))
    finally:
        checked.unpersist()
        if deduped is not None:
            deduped.unpersist()
    summary = {
        "batch_id": args.batch_id,
        "rows_in": rows_in,
        "rows_loaded": rows_loaded,
        "rows_quarantined": rows_quarantined,
        "rows_duplicate": accepted - rows_loaded,
        "files": len(written),
        "quarantine_reasons": dict(sorted(by_kind.items())),
    }
    if quality is not None:
        summary["quality"] = quality
    write_json(lake, args.manifest, manifest(written))
    write_json(lake, args.summary, summary)
    return summary


def _quality_summary(checked: Any, config: JobConfig, rows_in: int, rows_quarantined: int) -> dict[str, Any] | None:
    """Score, threshold and how many rows broke each rule; None without a quality block."""
    if config.quality is None:
        return None
    broken: dict[str, int] = {}
    if config.quality.rules:
        counts = checked.select(*[
            F.sum(F.when(F.array_contains(F.col(RULES_COL), rule.id), 1).otherwise(0)).alias(f"r{i}")
            for i, rule in enumerate(config.quality.rules)]).first()
        broken = {rule.id: int(counts[f"r{i}"] or 0) for i, rule in enumerate(config.quality.rules)}
    score = quality_score(rows_in, rows_quarantined)
    return {
        "score": score,
        "threshold": config.quality.threshold,
        "passed": score >= config.quality.threshold,
        "rules": {r.id: {"severity": r.severity, "broken": broken.get(r.id, 0)} for r in config.quality.rules},
    }
