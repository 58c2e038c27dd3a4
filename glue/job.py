"""``run_job``: read raw -> map/cast -> quality -> dedupe -> write, for one batch.

Two routes, chosen by the estimated output bytes and a cheap upper bound of the records (bytes, local lines,
or Parquet footers; on S3 nothing is counted, see `fits_one_file`):

- the batch fits one output file (one per partition folder, when the folders come from a column): a single
  pass parses, checks, deduplicates and writes the table file(s) while ``observe`` counts rows by outcome;
  the input is read again only when rows were rejected, to write the quarantine;
- otherwise the checked rows are cached once, counted, and every output reads the cache (the file
  count needs the exact number of rows before writing).

The single pass re-checks its outcome against `write.file_count` (rows and the bytes it wrote): if the guess
was wrong (a JSON line holding an array of records, very short records on S3, fewer folders than files wanted)
or Spark lost the observed counts, its staged files are discarded and the cached route runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from onboard_glue.args import JobArgs, resolve_args
from onboard_glue.config import FormatSpec, JobConfig, load_config
from onboard_glue.dedupe import latest_per_key
from onboard_glue.lake_fs import InputFile, LakeFS
from onboard_glue.observed import observed_metrics
from onboard_glue.pii import Protection
from onboard_glue.read import CSV_SPLIT_REASON, read_records, unmapped_fields
from onboard_glue.session import open_session, run_conf
from onboard_glue.transform import (
    REASON_COL,
    REASON_KINDS,
    RULES_COL,
    check_records,
    output_columns,
    quarantine_rows,
    reason_kind,
    table_rows,
    with_lineage,
)
from onboard_glue.write import (
    TARGET_FILE_BYTES,
    LakeFile,
    clear_quarantine,
    discard_staging,
    estimated_output_bytes,
    file_count,
    manifest,
    publish_table_files,
    stage_table_files,
    staging_uri,
    sweep_batch,
    sweep_stale_staging,
    write_json,
    write_quarantine,
)

# A staging folder untouched this long belongs to a run that was killed: Glue stops a run after at most 48 hours.
STALE_STAGING_SECONDS = 48 * 3600


class _CsvRecordCut(Exception):  # noqa: N818 - a signal, not an error: the job reads the CSV again whole
    """A CSV read line by line had a record with a quoted line break (`read.CSV_SPLIT_REASON`); nothing was
    published or quarantined from that read."""


class QualityThresholdError(RuntimeError):
    """The batch's share of valid rows is below the source's quality threshold, or (without a threshold)
    every row of a non-empty batch was quarantined: nothing is loaded."""


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


@dataclass
class Outcome:
    rows_in: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason kind -> rows
    examples: dict[str, str] = field(default_factory=dict)  # reason kind -> one reason (the least, as text)
    rows_loaded: int = 0
    files: list[LakeFile] = field(default_factory=list)
    quality: dict[str, Any] | None = None  # score, threshold, passed, rules (with a quality block only)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.rejected.values())


def process_batch(spark: SparkSession, config: JobConfig, args: JobArgs) -> dict[str, Any]:
    """The batch on an existing session (whose settings the caller controls).

    A failure anywhere sweeps what the run staged and the table files it had published (`sweep_batch`), so
    an unloaded batch leaves nothing in the table prefix; staging that killed runs left is swept at start."""
    lake = LakeFS(spark)
    sweep_stale_staging(lake, args.output, older_than_seconds=STALE_STAGING_SECONDS)
    published: list[LakeFile] = []
    try:
        return _process_batch(spark, lake, config, args, published)
    except BaseException:
        sweep_batch(lake, staging=staging_uri(args.output, args.batch_id), published=published)
        raise


def _process_batch(
    spark: SparkSession, lake: LakeFS, config: JobConfig, args: JobArgs, published: list[LakeFile]
) -> dict[str, Any]:
    protection = Protection.for_columns([c.pii for c in config.columns], config.pii_secret)
    inputs = lake.expand_inputs(args.inputs)
    outcome = Outcome()
    unmapped: list[str] = []
    if inputs:
        unmapped = unmapped_fields(spark, lake, config.format, config.columns, inputs)
        # Only the CSV reader decodes invalid UTF-8 to U+FFFD; the JSON parser rejects the record as malformed,
        # so there a U+FFFD is a character the data really holds.
        text_encoding = config.format.encoding if config.format.type == "csv" else None

        def checked_records(csv_by_line: bool) -> DataFrame:
            records = read_records(spark, lake, config.format, config.columns, inputs, csv_by_line=csv_by_line)
            return check_records(records, config.columns, config.quality, text_encoding, config.format)

        try:
            single = None
            # Quality needs its score before any table file is published: the cached route decides first.
            if config.quality is None and fits_one_file(spark, lake, config.format, inputs,
                                                        config.files.rows_per_file, slices(config, args),
                                                        config.partition_column is not None):
                single = _single_pass(spark, lake, checked_records(True), config, args, published, protection)
            outcome = single or _cached_passes(lake, checked_records(True), config, args, published, inputs,
                                               protection)
        except _CsvRecordCut:  # a quoted line break further down than the head showed: read the CSV whole
            outcome = _cached_passes(lake, checked_records(False), config, args, published, inputs, protection)
        if config.quality is None and _loads_nothing(outcome):
            _fail(lake, args, outcome, _nothing_loaded_message(outcome))
    if not outcome.rows_quarantined:
        clear_quarantine(lake, args.quarantine)  # what an earlier attempt of the batch left
    summary = {
        "batch_id": args.batch_id,
        "rows_in": outcome.rows_in,
        "rows_loaded": outcome.rows_loaded,
        "rows_quarantined": outcome.rows_quarantined,
        "rows_duplicate": outcome.rows_in - outcome.rows_quarantined - outcome.rows_loaded,
        "files": len(outcome.files),
        "quarantine_reasons": dict(sorted(outcome.rejected.items())),
        "quarantine_examples": dict(sorted(outcome.examples.items())),
        "unmapped_fields": unmapped,
    }
    if config.quality is not None:
        summary["quality"] = outcome.quality or _quality_summary(None, config, 0, 0)
        summary["warnings"] = _warnings(summary["quality"])
    write_json(lake, args.manifest, manifest(outcome.files))
    write_json(lake, args.summary, summary)
    return summary


def slices(config: JobConfig, args: JobArgs) -> int:
    """The warehouse's slice count: the ``--slices`` job argument when given, else the source's config."""
    return args.slices or config.files.slices


def fits_one_file(
    spark: SparkSession, lake: LakeFS, fmt: FormatSpec, inputs: Sequence[InputFile], rows_per_file: int,
    slices: int = 1, by_data: bool = False,
) -> bool:
    """Whether the batch makes one output file (`file_count`), decided cheaply: its estimated output bytes,
    then a bound of its records: Parquet footers; else the bytes (a record takes at least a character and
    a line break); else, for local uncompressed files, a line count (a CSV record or a JSON line takes at
    least one line).

    Otherwise (on S3, or compressed) nothing is counted, since that would be another full read of the input:
    an input whose estimated output is under 2 MB takes the single pass, which re-checks its rows and bytes
    and falls back to the cached route when the guess was wrong (records shorter than about 2 MB over
    ``rows_per_file`` bytes).

    ``by_data``: the partition folders come from a column, so the single pass writes one file per folder, which
    may well be as many files as the sizing asks (it checks): only the rows bound decides."""
    if not by_data and file_count(rows_per_file, rows_per_file, slices, estimated_output_bytes(fmt.type, inputs)) > 1:
        return False
    paths = [f.read_path for f in inputs]
    if fmt.type == "parquet":
        return spark.read.parquet(*paths).count() <= rows_per_file
    if not any(f.compressed for f in inputs) and (sum(f.size for f in inputs) + 1) // 2 <= rows_per_file:
        return True
    lines = lake.count_local_lines(list(inputs))
    return lines is None or lines <= rows_per_file


def _single_pass(
    spark: SparkSession, lake: LakeFS, checked: DataFrame, config: JobConfig, args: JobArgs, published: list[LakeFile],
    protection: Protection,
) -> Outcome | None:
    counts = Observation()
    observed = checked.observe(
        counts,
        F.count(F.lit(1)).alias("rows_in"),
        *[F.count(F.when(reason_kind(F.col(REASON_COL)) == kind, 1)).alias(kind) for kind in REASON_KINDS],
        *[F.min(F.when(reason_kind(F.col(REASON_COL)) == kind, F.col(REASON_COL))).alias(f"example_{kind}")
          for kind in REASON_KINDS],
        F.count(F.when(F.col(REASON_COL) == CSV_SPLIT_REASON, 1)).alias("cut"),
    )
    rows = table_rows(observed, config, protection)
    loaded = None
    if config.dedupe is not None:
        loaded = Observation()
        rows = latest_per_key(rows, config.dedupe.keys, config.dedupe.order_by)
        rows = rows.observe(loaded, F.count(F.lit(1)).alias("rows"))
    rows = with_lineage(rows, config, args.batch_id, args.ingest_time)
    staging = staging_uri(args.output, args.batch_id)
    stage_table_files(rows, staging=staging, columns=output_columns(config), partition_by=config.partition_folders,
                      files=1)
    metrics = observed_metrics(spark, counts)
    rows_loaded = observed_metrics(spark, loaded) if loaded is not None else None
    if metrics is None or (loaded is not None and rows_loaded is None):
        discard_staging(lake, staging)  # Spark lost the counts: count on the cached route instead
        return None
    if metrics["cut"]:
        discard_staging(lake, staging)
        raise _CsvRecordCut
    rejected = {kind: int(metrics[kind]) for kind in REASON_KINDS if metrics[kind]}
    examples = {kind: str(metrics[f"example_{kind}"]) for kind in rejected}
    outcome = Outcome(rows_in=int(metrics["rows_in"]), rejected=rejected, examples=examples)
    accepted = outcome.rows_in - outcome.rows_quarantined
    outcome.rows_loaded = int(rows_loaded["rows"]) if rows_loaded is not None else accepted
    staged = [f.length for f in lake.list_files(staging)]
    wanted = file_count(outcome.rows_loaded, config.files.rows_per_file, slices(config, args), sum(staged))
    if wanted and staged and outcome.rows_loaded <= config.files.rows_per_file and wanted <= len(staged) \
            and max(staged) <= TARGET_FILE_BYTES:  # one file per folder is as many files as the sizing asks
        outcome.files = publish_table_files(lake, staging=staging, output=args.output, batch_id=args.batch_id,
                                            published=published)
    else:
        discard_staging(lake, staging)
        if wanted:  # the guess was wrong: more rows or bytes than the files written take
            return None
    if outcome.rows_quarantined:  # the only second read of the input, and only for rejected rows
        quarantined = quarantine_rows(checked, config.columns, args.batch_id, protection)
        write_quarantine(quarantined, folder=args.quarantine, count=outcome.rows_quarantined)
    return outcome


def _cached_passes(
    lake: LakeFS, checked: DataFrame, config: JobConfig, args: JobArgs, published: list[LakeFile],
    inputs: Sequence[InputFile], protection: Protection,
) -> Outcome:
    cached = checked.persist(StorageLevel.MEMORY_AND_DISK)
    deduped = None
    try:
        kinds = cached.groupBy(reason_kind(F.col(REASON_COL)).alias("kind")).agg(
            F.count(F.lit(1)).alias("count"), F.min(REASON_COL).alias("example")).collect()
        by_kind = {row["kind"]: int(row["count"]) for row in kinds}
        examples = {row["kind"]: row["example"] for row in kinds if row["kind"] is not None}
        accepted = by_kind.pop(None, 0)
        if by_kind.get("malformed") and cached.where(F.col(REASON_COL) == CSV_SPLIT_REASON).limit(1).count():
            raise _CsvRecordCut
        outcome = Outcome(rows_in=accepted + sum(by_kind.values()), rejected=by_kind, examples=examples)
        if outcome.rows_quarantined:
            quarantined = quarantine_rows(cached, config.columns, args.batch_id, protection)
            write_quarantine(quarantined, folder=args.quarantine, count=outcome.rows_quarantined)
        outcome.quality = _quality_summary(cached, config, outcome.rows_in, outcome.rows_quarantined)
        if outcome.quality is not None and not outcome.quality["passed"]:
            _fail(lake, args, outcome, _quality_failure_message(outcome))
        rows = table_rows(cached, config, protection)
        outcome.rows_loaded = accepted
        if config.dedupe is not None and accepted:
            rows = deduped = latest_per_key(rows, config.dedupe.keys, config.dedupe.order_by).persist(
                StorageLevel.MEMORY_AND_DISK
            )
            outcome.rows_loaded = deduped.count()
        output_bytes = estimated_output_bytes(config.format.type, inputs, outcome.rows_loaded / max(outcome.rows_in, 1))
        files = file_count(outcome.rows_loaded, config.files.rows_per_file, slices(config, args), output_bytes)
        if files:
            staging = staging_uri(args.output, args.batch_id)
            columns = output_columns(config)
            rows = with_lineage(rows, config, args.batch_id, args.ingest_time)
            stage_table_files(rows, staging=staging, columns=columns, partition_by=config.partition_folders,
                              files=files)
            outcome.files = publish_table_files(lake, staging=staging, output=args.output, batch_id=args.batch_id,
                                                published=published)
        return outcome
    finally:
        cached.unpersist()
        if deduped is not None:
            deduped.unpersist()


def _loads_nothing(outcome: Outcome) -> bool:
    """A non-empty batch in which every row was quarantined."""
    return outcome.rows_in > 0 and outcome.rows_quarantined == outcome.rows_in


def _reasons_text(outcome: Outcome) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(outcome.rejected.items()))


def _nothing_loaded_message(outcome: Outcome) -> str:
    """Why a batch that loads nothing failed: its reasons and one example, on one line (the ledger keeps it)."""
    kind = max(sorted(outcome.rejected), key=lambda k: outcome.rejected[k])
    rows = f"{outcome.rows_in} row{'s' if outcome.rows_in > 1 else ''}"
    return (f"every row was quarantined ({rows}: {_reasons_text(outcome)}; e.g. "
            f"{outcome.examples.get(kind, kind)}): nothing was loaded. Fix the column types or formats, or set "
            "quality.threshold: 0 to accept a batch that loads nothing, in the source definition")


def _quality_failure_message(outcome: Outcome) -> str:
    """The threshold failure, naming what rejected the rows: reason kinds and the reject rules broken."""
    quality = outcome.quality or {}
    if quality.get("threshold") is None:
        return _nothing_loaded_message(outcome)
    rules = [f"{rule_id} {info['broken']}" for rule_id, info in (quality.get("rules") or {}).items()
             if info["severity"] == "reject" and info["broken"]]
    by_rules = f" (rules {', '.join(rules)})" if rules else ""
    return (f"quality score {quality.get('score')} is below the threshold {quality.get('threshold')}: nothing "
            f"was loaded; quarantined {_reasons_text(outcome)}{by_rules}. To load such a batch, change those "
            "rules or quality.threshold in the source definition")


def _fail(lake: LakeFS, args: JobArgs, outcome: Outcome, message: str) -> None:
    """The batch fails before any table file: the summary and an empty manifest are written, and the job fails.

    The rows that passed every check are `rows_not_loaded` (dedupe does not run, so none is a duplicate)."""
    summary = {
        "batch_id": args.batch_id, "rows_in": outcome.rows_in, "rows_loaded": 0,
        "rows_quarantined": outcome.rows_quarantined, "rows_duplicate": 0,
        "rows_not_loaded": outcome.rows_in - outcome.rows_quarantined, "files": 0,
        "quarantine_reasons": dict(sorted(outcome.rejected.items())),
        "quarantine_examples": dict(sorted(outcome.examples.items()))}
    if outcome.quality is not None:
        summary |= {"quality": outcome.quality, "warnings": _warnings(outcome.quality)}
    write_json(lake, args.manifest, manifest([]))
    write_json(lake, args.summary, summary)
    raise QualityThresholdError(message)


def _warnings(quality: dict[str, Any]) -> dict[str, int]:
    """Rows that broke each `warn` rule (loaded all the same), for the rules some row broke."""
    return {rule_id: info["broken"] for rule_id, info in quality.get("rules", {}).items()
            if info["severity"] == "warn" and info["broken"]}


def _quality_summary(checked: Any, config: JobConfig, rows_in: int, rows_quarantined: int) -> dict[str, Any] | None:
    """Score, threshold and how many rows broke each rule; None without a quality block."""
    if config.quality is None:
        return None
    broken: dict[str, int] = {}
    if config.quality.rules and checked is not None:
        counts = checked.select(*[
            F.sum(F.when(F.array_contains(F.col(RULES_COL), rule.id), 1).otherwise(0)).alias(f"r{i}")
            for i, rule in enumerate(config.quality.rules)]).first()
        broken = {rule.id: int(counts[f"r{i}"] or 0) for i, rule in enumerate(config.quality.rules)}
    score = quality_score(rows_in, rows_quarantined)
    threshold = config.quality.threshold
    return {
        "score": score,
        "threshold": threshold,
        "passed": score >= threshold if threshold is not None else not (rows_in and rows_quarantined == rows_in),
        "rules": {r.id: {"severity": r.severity, "broken": broken.get(r.id, 0)} for r in config.quality.rules},
    }
