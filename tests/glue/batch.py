"""Run one batch through onboard_glue.run_job in a temp lake and read back what it wrote."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from framework.render.glue_job import PATH_FORMATS, parsed_path
from onboard_glue import run_job

INGEST_TIME = "2024-11-16T10:30:00Z"


def column(name: str, type_: str = "string", **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "source": name, "type": type_, "nullable": True, "max_length": None}
    spec.update({"precision": None, "scale": None})
    spec.update(extra)
    return spec


def job_config(fmt: dict[str, Any], columns: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A job config as `onboard generate` writes it: path texts (`records_path`, a JSON column's `source`) are
    parsed by the renderer's own function."""
    if fmt.get("records_path"):
        fmt = {**fmt, "records_path": parsed_path(fmt["records_path"])}
    if fmt["type"] in PATH_FORMATS:
        columns = [{"path": parsed_path(c["source"]), **c} if parsed_path(c["source"]) != [[c["source"]]] else c
                   for c in columns]
    config = {
        "source": "orders",
        "format": {"delimiter": ",", "quote": '"', "escape": '"', "header": True, "encoding": "UTF-8",
                   "records_path": None, **fmt},
        "columns": columns,
        "partition_by": ["year", "month", "day"],
        "partition_column": None,
        "dedupe": None,
        "files": {"slices": 4, "rows_per_file": 1_000_000},
    }
    config.update(overrides)
    return copy.deepcopy(config)


@dataclass
class Batch:
    """The outputs of one run: paths, the returned summary and what landed on disk."""

    lake: Path
    batch_id: str
    summary: dict[str, Any]

    @property
    def output(self) -> Path:
        return self.lake / "processed" / "orders"

    @property
    def manifest_path(self) -> Path:
        return self.lake / "processed" / "_manifests" / "orders" / f"{self.batch_id}.manifest"

    @property
    def summary_path(self) -> Path:
        return self.lake / "processed" / "_manifests" / "orders" / f"{self.batch_id}.summary.json"

    @property
    def quarantine_dir(self) -> Path:
        return self.lake / "quarantine" / "orders" / self.batch_id

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def written_summary(self) -> dict[str, Any]:
        return json.loads(self.summary_path.read_text(encoding="utf-8"))

    def files(self) -> list[Path]:
        """The Parquet files the manifest lists, in manifest order."""
        return [Path(entry["url"]) for entry in self.manifest()["entries"]]

    def rows(self, order_by: str) -> list[tuple]:
        """Every row of this batch's files (read with DuckDB, as the local COPY does), sorted."""
        files = [str(f) for f in self.files()]
        if not files:
            return []
        sql = f"SELECT * FROM read_parquet({files!r}, hive_partitioning = false) ORDER BY {order_by}"  # noqa: S608
        return duckdb.sql(sql).fetchall()

    def quarantine(self) -> list[dict[str, Any]]:
        lines = []
        for part in sorted(self.quarantine_dir.glob("part-*.json")):
            lines += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line]
        return lines


def parquet_columns(path: Path) -> list[tuple[str, str, str]]:
    """(name, physical type, converted type) of each column stored in one Parquet file, in order."""
    rows = duckdb.sql(
        "SELECT name, type, converted_type FROM parquet_schema(?) WHERE type IS NOT NULL", params=[str(path)]
    ).fetchall()
    return [(name, physical, converted) for name, physical, converted in rows]


def parquet_files_on_disk(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def run_batch(
    lake: Path,
    config: dict[str, Any],
    inputs: list[Path],
    batch_id: str = "b1",
    ingest_time: str = INGEST_TIME,
) -> Batch:
    batch = Batch(lake=lake, batch_id=batch_id, summary={})
    argv = [
        "job.py",
        "--JOB_NAME", "onboard-orders",
        "--batch_id", batch_id,
        "--input", ",".join(str(p) for p in inputs),
        "--output", str(batch.output),
        "--quarantine", str(batch.quarantine_dir),
        "--manifest", str(batch.manifest_path),
        "--summary", str(batch.summary_path),
        "--ingest_time", ingest_time,
    ]
    batch.summary = run_job(config, argv)
    return batch


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
