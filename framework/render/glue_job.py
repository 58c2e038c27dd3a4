"""glue/job.py and glue/crawler.json: the transform of a source and the catalog of its output."""

from __future__ import annotations

import json
import pprint
from typing import Any

from framework.render.athena import DATABASE_PLACEHOLDER
from framework.render.templates import render
from framework.runtime.paths import readings
from framework.spec import ResolvedSource
from framework.spec.identifiers import partition_folder
from framework.spec.references import secret_names
from framework.warehouse.lake_view import batches_name, hive_type
from framework.warehouse.table import TableSpec

FORMAT_OPTIONS = ("delimiter", "quote", "escape", "header", "encoding", "records_path")
PATH_FORMATS = ("json", "jsonl", "parquet")  # where a column's source is a path (csv, xlsx: a header name)


def parsed_path(text: str) -> list[list[str]]:
    """A path's readings as the Glue job takes them (framework.runtime.paths.readings; glue/ never parses)."""
    return [list(segments) for segments in readings(text)]


def _nested(source: str) -> bool:
    """True when a source path is more than one top-level key (the Glue job's reading without a `path`)."""
    return readings(source) != ((source,),)
# Written only when the source sets them, so a source that does not keeps its generated job as it was.
TEXT_OPTIONS = ("null_values", "true_values", "false_values", "decimal_separator", "allow_missing_columns")
TEXT_DEFAULTS = {"decimal_separator": ".", "allow_missing_columns": False}


def job_config(source: ResolvedSource, table_order: list[str] | None = None) -> dict[str, Any]:
    """The configuration the onboard_glue library runs with (see docs/contracts.md).

    ``table_order`` is the table's physical column order; it becomes ``output_columns`` when it differs
    from the declared columns followed by the lineage columns (after an ADD COLUMN migration)."""
    d = source.definition
    schema = d.schema_.model_dump(mode="json")
    load = d.redshift.load
    partition_column = d.destination.partition_column
    config: dict[str, Any] = {
        "source": source.name,
        "format": {"type": schema["type"], **{k: schema.get(k) for k in FORMAT_OPTIONS},
                   **({"sheet": schema.get("sheet")} if schema["type"] == "xlsx" else {}),
                   **{k: schema[k] for k in TEXT_OPTIONS if schema.get(k) not in (None, TEXT_DEFAULTS.get(k))}},
        "columns": [
            {"name": c.name, "source": c.source,
             **({"path": parsed_path(c.source)} if schema["type"] in PATH_FORMATS and _nested(c.source) else {}),
             "type": c.type, "nullable": c.nullable, "max_length": c.max_length, "precision": c.precision,
             "scale": c.scale, **({"format": c.format} if c.format else {}), **({"pii": c.pii} if c.pii else {})}
            for c in source.columns
        ],
        "partition_by": list(d.destination.partition_by),
        "partition_column": partition_column.lower() if partition_column else None,
        "dedupe": {"keys": [k.lower() for k in load.keys],
                   "order_by": load.order_by.lower() if load.order_by else None} if load.keys else None,
        "files": {"slices": d.redshift.slices, "rows_per_file": d.destination.rows_per_file},
    }
    if schema.get("records_path"):
        config["format"]["records_path"] = parsed_path(schema["records_path"])
    if d.quality is not None:
        config["quality"] = {
            "threshold": d.quality.threshold,
            "rules": [{k: v for k, v in rule.model_dump(mode="json").items() if v is not None}
                      | ({"column": rule.column.lower()} if rule.column else {}) for rule in d.quality.rules],
        }
    if secret := pii_secret_name(source):
        config["pii_secret"] = secret
    default_order = [c["name"] for c in config["columns"] if c.get("pii") != "drop"] + ["_batch_id", "_ingested_at"]
    if table_order and table_order != default_order:
        config["output_columns"] = list(table_order)
    return config


def pii_secret_name(source: ResolvedSource) -> str | None:
    """The secret keying the source's `pii: hash` columns (its name: the job reads the value at run time)."""
    if not any(c.pii == "hash" for c in source.columns):
        return None
    return secret_names(source.definition.schema_.pii_secret)[0]


def job_py(source: ResolvedSource, table_order: list[str] | None = None) -> str:
    config = pprint.pformat(job_config(source, table_order), width=100, sort_dicts=False)
    return render("job.py.j2", source.file, name=source.name, config=config)


def processed_prefix(source: ResolvedSource) -> str:
    return source.definition.destination.prefix or f"{source.name}/"


def crawler_json(source: ResolvedSource, table: TableSpec) -> dict[str, Any]:
    """The catalog of the source's processed Parquet: the table `<source>_batches` and the crawler that keeps it.

    The CDK app creates the table (every batch's files: the table's columns in physical order, Hive types, the
    partition folders as string partition keys, Parquet SerDe) and points the crawler at it with a catalog
    target, so the crawler adds partitions and schema changes to that table instead of naming one after the
    folder. Catalog targets need DeleteBehavior LOG (deletes are logged, never dropped from the catalog).
    RecrawlPolicy is CRAWL_EVERYTHING because Glue only allows CRAWL_NEW_FOLDERS_ONLY with UpdateBehavior LOG.
    Partitions inherit the table's schema. The crawler's name carries the deploy prefix, so the CDK app names it
    (`<prefix>-<source>`); `${glue_database}` is the lake's Glue database.
    """
    configuration = {"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}
    name = batches_name(source.name)
    partition_keys = [partition_folder(part) for part in source.definition.destination.partition_by]
    return {
        "Description": f"Catalogs the processed Parquet of source {source.name} (every batch)",
        "Table": {
            "Name": name,
            "Location": f"s3://{source.definition.destination.bucket}/{processed_prefix(source)}",
            "Columns": [{"Name": c.name, "Type": hive_type(c)} for c in table.all_columns()],
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in partition_keys],
        },
        "Targets": {"CatalogTargets": [{"DatabaseName": DATABASE_PLACEHOLDER, "Tables": [name]}]},
        "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
        "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
        "Configuration": json.dumps(configuration, sort_keys=True),
        "PartitionKeys": partition_keys,
    }
