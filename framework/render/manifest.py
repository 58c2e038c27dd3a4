"""manifest.json: everything the CDK app needs to deploy one source."""

from __future__ import annotations

from typing import Any

from framework.render.connector import BUFFERED_CONNECTORS, connector_config, uses_ledger
from framework.render.glue_job import pii_secret_name, processed_prefix
from framework.render.redshift import table_spec
from framework.runtime.lake import lake_areas
from framework.spec import ResolvedSource
from framework.spec.references import bucket_zone, secret_names

MANIFEST_VERSION = 1
GLUE_VERSION = "5.0"
# The connector Lambda's timeout: a REST fetch pages for up to retry.deadline_seconds (at most 840 s).
# http_push answers within API Gateway's 29 s integration timeout.
CONNECTOR_TIMEOUT_SECONDS = {"s3_file": 300, "rest_api": 900, "email": 300, "http_push": 29, "stream": 300}


# Python packages a Glue job needs beyond Glue 5.0's own, by input format (--additional-python-modules).
FORMAT_PYTHON_MODULES = {"xlsx": ["openpyxl==3.1.5"]}


def glue_python_modules(format_type: str) -> dict[str, Any]:
    modules = FORMAT_PYTHON_MODULES.get(format_type)
    return {"python_modules": modules} if modules else {}


def trigger(source: ResolvedSource) -> dict[str, Any]:
    config = source.definition.config  # type: ignore[attr-defined]
    if source.kind == "s3_file":
        return {"kind": "s3", "zone": bucket_zone(config.bucket), "bucket": config.bucket,
                "prefix": config.prefix, "suffix": config.suffix}
    if source.kind == "email":
        return {"kind": "ses", "recipients": list(config.recipients), "zone": bucket_zone(config.bucket),
                "bucket": config.bucket, "prefix": config.prefix}
    if source.kind == "http_push":
        return {"kind": "http", "path": config.path, "auth": config.auth, "max_body_bytes": config.max_body_bytes}
    if source.kind == "rest_api":
        return {"kind": "schedule", "expression": config.schedule}
    if source.kind == "stream":
        settings = config.model_dump(mode="json")
        return {**settings, "kind": "stream", "stream": settings["kind"]}  # stream: kinesis | kafka
    raise ValueError(f"no trigger for source type {source.kind}")


# Kinds whose connector itself quarantines what it cannot land (a message, a record).
QUARANTINING_CONNECTORS = ("email", "stream")


def manifest(source: ResolvedSource) -> dict[str, Any]:
    d = source.definition
    spec = table_spec(source)
    processed = processed_prefix(source)
    lake = lake_areas(source.name, d.destination.bucket, processed)
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
                      "ledger": uses_ledger(source), "timeout_seconds": CONNECTOR_TIMEOUT_SECONDS[source.kind],
                      **({"buffer": d.buffer.model_dump(mode="json")}  # type: ignore[attr-defined]
                         if source.kind in BUFFERED_CONNECTORS else {})},
        "secrets": sorted(set(secret_names(connector_config(source)))),
        "glue": {"script": "glue/job.py", "crawler": "glue/crawler.json", "glue_version": GLUE_VERSION,
                 **d.glue.model_dump(mode="json"), **glue_python_modules(d.schema_.type),
                 **({"pii_secret": pii_secret_name(source)} if pii_secret_name(source) else {})},
        "redshift": {"schema": spec.schema, "table": spec.table, "ddl": "redshift/ddl.sql",
                     "load": "redshift/load.sql", "mode": spec.load_mode},
        "lake": lake,
        **({"freshness": {"warn_after_seconds": d.freshness.warn_seconds,
                          "error_after_seconds": d.freshness.error_seconds}} if d.freshness else {}),
        "iam": {
            # A REST fetch that fails part-way deletes the pages it had landed; email quarantines messages.
            "connector": {"read": reads, "write": [lake["raw"]] + (
                              [lake["quarantine"]] if source.kind in QUARANTINING_CONNECTORS else []),
                          "delete": [lake["raw"]] if source.kind == "rest_api" else []},
            "glue": {"read": [lake["raw"]], "write": [lake["processed"], lake["manifests"], lake["quarantine"]]},
            "redshift": {"read": [lake["processed"], lake["manifests"]]},
        },
    }
