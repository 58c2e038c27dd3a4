"""manifest.json: everything the CDK app needs to deploy one source."""

from __future__ import annotations

from typing import Any

from framework.render.connector import connector_config, uses_ledger
from framework.render.glue_job import processed_prefix
from framework.render.redshift import table_spec
from framework.runtime.lake import ZONE_BUCKETS, manifest_prefix, quarantine_prefix, raw_prefix
from framework.spec import ResolvedSource
from framework.spec.references import bucket_zone, secret_names

MANIFEST_VERSION = 1
GLUE_VERSION = "5.0"
# The connector Lambda's timeout: a REST fetch pages for up to retry.deadline_seconds (at most 840 s).
CONNECTOR_TIMEOUT_SECONDS = {"s3_file": 300, "rest_api": 900}


def trigger(source: ResolvedSource) -> dict[str, Any]:
    config = source.definition.config  # type: ignore[attr-defined]
    if source.kind == "s3_file":
        return {"kind": "s3", "zone": bucket_zone(config.bucket), "bucket": config.bucket,
                "prefix": config.prefix, "suffix": config.suffix}
    if source.kind == "rest_api":
        return {"kind": "schedule", "expression": config.schedule}
    raise ValueError(f"no trigger for source type {source.kind}")


def manifest(source: ResolvedSource) -> dict[str, Any]:
    d = source.definition
    spec = table_spec(source)
    processed = processed_prefix(source)
    lake = {
        "raw": {"bucket": ZONE_BUCKETS["raw"], "prefix": raw_prefix(source.name)},
        "processed": {"bucket": d.destination.bucket, "prefix": processed},
        "manifests": {"bucket": d.destination.bucket, "prefix": manifest_prefix(source.name)},
        "quarantine": {"bucket": ZONE_BUCKETS["quarantine"], "prefix": quarantine_prefix(source.name)},
    }
    trig = trigger(source)
    reads = [lake["raw"]]
    if trig.get("prefix"):
        reads.append({"bucket": trig["bucket"], "prefix": trig["prefix"]})
    return {
        "version": MANIFEST_VERSION,
        "source": source.name,
        "type": source.kind,
        "source_file": source.file,
        "description": d.description,
        "owner": d.owner,
        "tags": dict(sorted(d.tags.items())),
        "connector": {"handler": "connector/handler.py", "config": "connector/config.json", "trigger": trig,
                      "ledger": uses_ledger(source), "timeout_seconds": CONNECTOR_TIMEOUT_SECONDS[source.kind]},
        "secrets": sorted(set(secret_names(connector_config(source)))),
        "glue": {"script": "glue/job.py", "crawler": "glue/crawler.json", "glue_version": GLUE_VERSION,
                 **d.glue.model_dump(mode="json")},
        "redshift": {"schema": spec.schema, "table": spec.table, "ddl": "redshift/ddl.sql",
                     "load": "redshift/load.sql", "mode": spec.load_mode},
        "lake": lake,
        "iam": {
            # A REST fetch that fails part-way deletes the pages it had landed.
            "connector": {"read": reads, "write": [lake["raw"]],
                          "delete": [lake["raw"]] if source.kind == "rest_api" else []},
            "glue": {"read": [lake["raw"]], "write": [lake["processed"], lake["manifests"], lake["quarantine"]]},
            "redshift": {"read": [lake["processed"], lake["manifests"]]},
        },
    }
