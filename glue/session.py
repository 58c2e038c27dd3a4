"""The Spark session a job runs in: Glue's (with Job init/commit for bookmarks) or any local session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import SparkSession

# Session settings the job's semantics depend on; set for the run and restored afterwards.
RUN_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # With pruning on, Spark's CSV reader stops checking the field count of each record.
    "spark.sql.csv.parser.columnPruning.enabled": "false",
    # Casts go through try_cast; ANSI mode would make other expressions raise instead.
    "spark.sql.ansi.enabled": "false",
    # A value that does not match a column's datetime format is null (quarantined), not an upgrade error
    # (the default EXCEPTION fails the job where Spark 2's lenient parser would have read the value).
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    # The parsed batch is cached once and read a few times: compressing it costs more than it saves.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # Keep observed row counts: replacing a plan whose input turned out empty drops its metrics.
    "spark.sql.adaptive.optimizer.excludedRules": "org.apache.spark.sql.execution.adaptive.AQEPropagateEmptyRelation",
    # Let adaptive execution size the shuffle inside a cached plan (the deduplicated rows).
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}


@dataclass
class JobSession:
    spark: SparkSession
    commit: Callable[[], None]


def open_session(job_name: str, resolved_args: dict[str, str]) -> JobSession:
    """On Glue: GlueContext + Job.init (commit marks the bookmark); elsewhere reuse or start a session."""
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
    except ImportError:
        return JobSession(spark=SparkSession.builder.getOrCreate(), commit=lambda: None)
    from pyspark import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(job_name, resolved_args)
    return JobSession(spark=glue_context.spark_session, commit=job.commit)


@contextmanager
def run_conf(spark: SparkSession, settings: dict[str, str] = RUN_CONF) -> Iterator[None]:
    """Apply ``settings`` to the session for the duration of the block, then restore the old values."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
