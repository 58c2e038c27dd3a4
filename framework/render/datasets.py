"""generated/_datasets/: each dataset's view.sql (and export.sql), plus the refresh order the loader follows."""

from __future__ import annotations

import json

from framework.render.templates import header_for
from framework.spec.datasets import Dataset
from framework.warehouse.identifiers import sql_name

FOLDER = "_datasets"
ORDER_FILE = f"{FOLDER}/datasets.json"
CURATED_URI = "curated_uri"
"""The UNLOAD destination (``s3://<curated bucket>/curated/``), filled in at run time like ``iam_role_arn``."""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_statements(dataset: Dataset) -> list[str]:
    """The statements that (re)create the dataset's view, in order (the SQL exactly as the YAML file gives it)."""
    name = sql_name(dataset.schema, dataset.name)
    statements = [f"CREATE SCHEMA IF NOT EXISTS {sql_name(dataset.schema)}"]
    if dataset.materialized:  # Redshift has no CREATE OR REPLACE MATERIALIZED VIEW
        statements += [f"DROP MATERIALIZED VIEW IF EXISTS {name} CASCADE",
                       f"CREATE MATERIALIZED VIEW {name} AS\n{dataset.sql}"]
    else:
        statements.append(f"CREATE OR REPLACE VIEW {name} AS\n{dataset.sql}")
    # Redshift comments on a materialized view with COMMENT ON VIEW (there is no COMMENT ON MATERIALIZED VIEW)
    statements.append(f"COMMENT ON VIEW {name} IS {_literal(dataset.description)}")
    return statements


def view_sql(dataset: Dataset) -> str:
    """CREATE [MATERIALIZED] VIEW + COMMENT for one dataset."""
    header = header_for(dataset.file)("--").replace("the source definition", "the dataset definition")
    kind = "materialized view" if dataset.materialized else "view"
    lines = [header, f"-- Dataset '{dataset.name}' ({kind}) reads {', '.join(dataset.reads)}."]
    for statement in create_statements(dataset):
        lines += ["", statement + ";"]
    return "\n".join(lines) + "\n"


def refresh_sql(dataset: Dataset) -> str:
    """The statement the loader runs after a load of a table the dataset reads (materialized datasets)."""
    return f"REFRESH MATERIALIZED VIEW {sql_name(dataset.schema, dataset.name)}"


def unload_sql(dataset: Dataset) -> str:
    """UNLOAD of the dataset to the lake's curated zone; ``${curated_uri}`` and ``${iam_role_arn}`` at run time."""
    select = f"SELECT * FROM {sql_name(dataset.schema, dataset.name)}"  # noqa: S608 (a checked, quoted name)
    return (f"UNLOAD ({_literal(select)}) TO '${{{CURATED_URI}}}{dataset.name}/' IAM_ROLE '${{iam_role_arn}}' "
            "FORMAT AS PARQUET CLEANPATH")


def export_sql(dataset: Dataset) -> str:
    header = header_for(dataset.file)("--").replace("the source definition", "the dataset definition")
    return (f"{header}\n-- Export '{dataset.name}' to the curated zone after each refresh. "
            f"${{{CURATED_URI}}} and ${{iam_role_arn}} are filled in at run time.\n\n{unload_sql(dataset)};\n")


def order_json(datasets: list[Dataset]) -> str:
    """What the deployed loader needs: every dataset in dependency order, what it reads, how to refresh it."""
    body = {
        "_generated": "by onboard from datasets/; do not edit",
        "datasets": [
            {"name": d.name, "table": d.table, "materialized": d.materialized, "reads": list(d.reads),
             "create": create_statements(d), "refresh": refresh_sql(d) if d.materialized else None,
             "unload": unload_sql(d) if d.export else None}
            for d in datasets
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def dataset_files(datasets: list[Dataset]) -> dict[str, str]:
    """Path relative to generated/ -> text, for every dataset (nothing when the project has none)."""
    if not datasets:
        return {}
    files = {ORDER_FILE: order_json(datasets)}
    for dataset in datasets:
        files[f"{FOLDER}/{dataset.name}/view.sql"] = view_sql(dataset)
        if dataset.export:
            files[f"{FOLDER}/{dataset.name}/export.sql"] = export_sql(dataset)
    return files
