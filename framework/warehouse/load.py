"""Redshift load SQL for one table (``load.sql``) and the run-time substitution of its placeholders.

Every mode runs in one transaction. COPY from Parquet maps columns by position, so the Parquet files
must hold exactly the table's columns in DDL order (declared columns, ``_batch_id``, ``_ingested_at``).
Duplicate keys inside one batch are resolved upstream by the Glue job, before the merge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlglot import exp

from framework.warehouse.ddl import table_expression
from framework.warehouse.identifiers import DIALECT, check_identifier, sql_identifier, sql_name, truncate_identifier
from framework.warehouse.table import TableSpec

MANIFEST_URI = "manifest_uri"
IAM_ROLE_ARN = "iam_role_arn"
PLACEHOLDERS: tuple[str, ...] = (MANIFEST_URI, IAM_ROLE_ARN)

_DIALECT = DIALECT


def placeholder(name: str) -> str:
    return "${" + name + "}"


def stage_table_name(t: TableSpec) -> str:
    """Name of the session-temporary staging table used by merge loads."""
    return check_identifier(truncate_identifier(f"stage_{t.table}"), "staging table")


def copy_sql(target: str) -> str:
    """COPY of the batch manifest into ``target`` (an already validated and quoted, possibly qualified name)."""
    return (
        f"COPY {target} FROM '{placeholder(MANIFEST_URI)}' IAM_ROLE '{placeholder(IAM_ROLE_ARN)}' "
        "FORMAT AS PARQUET MANIFEST"
    )


def _render(expression: exp.Expression) -> str:
    return expression.sql(dialect=_DIALECT)


def _merge_statements(t: TableSpec) -> list[str]:
    target = table_expression(t.schema, t.table)
    stage_name = stage_table_name(t)
    stage = exp.Table(this=sql_identifier(stage_name))
    create_stage = exp.Create(
        this=exp.Schema(this=stage.copy(), expressions=[exp.LikeProperty(this=target.copy())]),
        kind="TABLE",
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    keys_match = exp.and_(
        *(
            exp.EQ(
                this=exp.Column(this=sql_identifier(key), table=sql_identifier(t.table), db=sql_identifier(t.schema)),
                expression=exp.Column(this=sql_identifier(key), table=sql_identifier(stage_name)),
            )
            for key in t.keys
        )
    )
    delete = exp.Delete(this=target.copy(), using=[stage.copy()], where=exp.Where(this=keys_match))
    insert = exp.insert(exp.select("*").from_(stage.copy()), into=target.copy())
    drop = exp.Drop(tables=[stage.copy()], kind="TABLE")
    return [_render(create_stage), copy_sql(sql_name(stage_name)), _render(delete), _render(insert), _render(drop)]


def load_statements(t: TableSpec) -> list[str]:
    """All statements of ``load.sql``: BEGIN, the mode's statements, COMMIT.

    - append: COPY into the table.
    - merge: COPY into a temp stage (LIKE the table), DELETE matching keys, INSERT the stage, DROP it.
    - replace: DELETE every row (never TRUNCATE: it commits implicitly), then COPY.
    """
    if t.load_mode == "append":
        body = [copy_sql(t.qualified_name)]
    elif t.load_mode == "merge":
        body = _merge_statements(t)
    elif t.load_mode == "replace":
        body = [_render(exp.Delete(this=table_expression(t.schema, t.table))), copy_sql(t.qualified_name)]
    else:  # TableSpec validates the mode; this guards future modes.
        raise ValueError(f"unknown load mode {t.load_mode!r}")
    return [_render(exp.Transaction()), *body, _render(exp.Commit())]


# -- run-time placeholder values ----------------------------------------------------------------

_S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\x00-\x1f\x7f]+")
_IAM_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_\-/]{1,512}")
_UNSAFE_IN_LITERAL = re.compile(r"['\"\\`\x00-\x1f\x7f]|\$\{")


def is_local_manifest(uri: str) -> bool:
    """True for an absolute local path or a ``file:///`` URI (what the local warehouse reads)."""
    path = uri.removeprefix("file://")
    return path.startswith("/") and len(path) > 1


def check_manifest_uri(uri: str) -> str:
    """Accept an ``s3://bucket/key`` URI, an absolute local path or a ``file:///`` URI, without quotes."""
    if (
        not isinstance(uri, str)
        or _UNSAFE_IN_LITERAL.search(uri)
        or not (_S3_URI.fullmatch(uri) or is_local_manifest(uri))
    ):
        raise ValueError(
            "manifest_uri is not valid: expected an s3://bucket/key URI, an absolute local path or a "
            "file:/// URI, without quotes, backslashes or control characters"
        )
    return uri


def check_iam_role_arn(arn: str, *, manifest_uri: str) -> str:
    """Accept an IAM role ARN; an empty value only when the manifest is local (no AWS involved)."""
    if not isinstance(arn, str):
        raise ValueError("iam_role_arn is not valid: expected a string")
    if arn == "":
        if is_local_manifest(manifest_uri):
            return arn
        raise ValueError("iam_role_arn is required when the manifest is on S3")
    if not _IAM_ROLE_ARN.fullmatch(arn):
        raise ValueError("iam_role_arn is not valid: expected arn:aws:iam::<12-digit account>:role/<name>")
    return arn


def substitute_placeholders(sql_text: str, values: Mapping[str, str]) -> str:
    """Validate ``values`` and write them over their ``${name}`` placeholders in ``sql_text``.

    Errors name the kind of the bad value, never the value itself.
    """
    unknown = sorted(set(values) - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"unknown placeholder {unknown[0]}; valid: {', '.join(PLACEHOLDERS)}")
    checked: dict[str, str] = {}
    if MANIFEST_URI in values:
        checked[MANIFEST_URI] = check_manifest_uri(values[MANIFEST_URI])
    if IAM_ROLE_ARN in values:
        if MANIFEST_URI not in checked:
            raise ValueError("iam_role_arn can only be substituted together with manifest_uri")
        checked[IAM_ROLE_ARN] = check_iam_role_arn(values[IAM_ROLE_ARN], manifest_uri=checked[MANIFEST_URI])
    for name, value in checked.items():
        sql_text = sql_text.replace(placeholder(name), value)
    return sql_text


def render_load_sql(sql_text: str, manifest_uri: str, iam_role_arn: str) -> str:
    """``load.sql`` text with ``${manifest_uri}`` and ``${iam_role_arn}`` replaced by checked values."""
    return substitute_placeholders(sql_text, {MANIFEST_URI: manifest_uri, IAM_ROLE_ARN: iam_role_arn})
