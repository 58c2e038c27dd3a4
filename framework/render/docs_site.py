"""`onboard docs`: a static data dictionary, one HTML page per source and per curated dataset, and an index with
a search filter.

Pages open from the file system (no server, no network: inline CSS, a few lines of inline JS for the filter) and
are deterministic: the same definitions give the same bytes (no timestamps, sorted sources).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.render.manifest import trigger
from framework.render.redshift import PII_NOTES, table_spec
from framework.render.templates import ENVIRONMENT
from framework.spec import ResolvedSource
from framework.spec.datasets import Dataset

PII_SHORT = {"hash": "hashed (HMAC-SHA-256)", "mask": "masked (last 4 kept)", "drop": "dropped"}


def when_text(source: ResolvedSource) -> str:
    """When the source delivers: its schedule, or what triggers it."""
    trig = trigger(source)
    if trig["kind"] == "schedule":
        return f"schedule {trig['expression']}"
    if trig.get("prefix"):
        return f"{trig['kind']}: new objects under {trig['prefix']}"
    return str(trig["kind"])


def source_page(source: ResolvedSource) -> dict[str, Any]:
    """What one source's page shows."""
    d = source.definition
    spec = table_spec(source)
    freshness = getattr(d, "freshness", None)
    return {
        "name": source.name,
        "description": d.description or "",
        "owner": d.owner or "",
        "kind": source.kind,
        "when": when_text(source),
        "file": source.file,
        "table": spec.qualified_name,
        "diststyle": spec.effective_diststyle,
        "distkey": spec.distkey or "",
        "sortkey": ", ".join(spec.sortkey),
        "load": spec.load_mode + (f" on {', '.join(spec.keys)}" if spec.keys else ""),
        "freshness": freshness.model_dump_json(exclude_none=True) if freshness is not None else "",
        "columns": [{"name": c.name, "type": _type_label(c), "nullable": c.nullable, "source": c.source,
                     "description": c.description or "", "pii": c.pii or "",
                     "pii_note": PII_NOTES[c.pii] if c.pii else ""} for c in source.columns],
        "rules": [{"id": r.id, "rule": r.rule, "column": r.column or "", "severity": r.severity,
                   "detail": _rule_detail(r)} for r in (d.quality.rules if d.quality else [])],
        "threshold": d.quality.threshold if d.quality else None,
        "raw_keeps_pii": any(c.pii for c in source.columns),
        "lineage": [("source", f"{source.kind} ({when_text(source)})"), ("raw", f"raw/{source.name}/"),
                    ("processed", f"processed/{d.destination.prefix or source.name + '/'}"),
                    ("table", spec.qualified_name)],
        "datasets": [],  # (name, link) of the datasets reading the table: filled in by render_site
    }


def dataset_page(dataset: Dataset, pages_by_table: dict[str, str]) -> dict[str, Any]:
    """What one dataset's page shows; `pages_by_table` links what it reads (`schema.table` -> page path)."""
    return {"name": dataset.name, "description": dataset.description, "file": dataset.file,
            "table": dataset.table, "materialized": dataset.materialized, "export": dataset.export or "",
            "columns": list(dataset.columns), "sql": dataset.sql.strip(),
            "reads": [(table, pages_by_table.get(table, "")) for table in dataset.reads]}


def _type_label(column: Any) -> str:
    if column.type == "decimal":
        return f"decimal({column.precision},{column.scale})"
    if column.type == "string" and column.max_length:
        return f"string({column.max_length})"
    return column.type


def _rule_detail(rule: Any) -> str:
    parts = {"values": rule.values, "min": rule.min, "max": rule.max, "pattern": rule.pattern,
             "length": rule.length, "expression": rule.expression}
    return "; ".join(f"{k} {v}" for k, v in parts.items() if v not in (None, [], ()))


def render_site(sources: list[ResolvedSource], datasets: list[Dataset] = ()) -> dict[str, str]:
    """Relative path -> HTML: `index.html`, `sources/<name>.html` and `datasets/<name>.html`."""
    pages = [source_page(s) for s in sorted(sources, key=lambda s: s.name)]
    links = {page["table"]: f"../sources/{page['name']}.html" for page in pages}
    links |= {d.table: f"../datasets/{d.name}.html" for d in datasets}
    dataset_pages = [dataset_page(d, links) for d in sorted(datasets, key=lambda d: d.name)]
    for page in pages:
        page["datasets"] = [(d["table"], f"../datasets/{d['name']}.html") for d in dataset_pages
                            if page["table"] in dict(d["reads"])]
        if page["datasets"]:
            page["lineage"].append(("datasets", ", ".join(name for name, _ in page["datasets"])))
    site = {"index.html": ENVIRONMENT.get_template("docs/index.html.j2").render(
        pages=pages, datasets=dataset_pages, pii=PII_SHORT)}
    for page in pages:
        site[f"sources/{page['name']}.html"] = ENVIRONMENT.get_template("docs/source.html.j2").render(
            page=page, pii=PII_SHORT)
    for page in dataset_pages:
        site[f"datasets/{page['name']}.html"] = ENVIRONMENT.get_template("docs/dataset.html.j2").render(page=page)
    return site


def write_site(sources: list[ResolvedSource], out: Path, datasets: list[Dataset] = ()) -> list[Path]:
    """Write the site under `out` (its pages only; other files there are left alone)."""
    written = []
    for rel, text in render_site(sources, datasets).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
