"""The generated Redshift SQL as the deployed load step runs it: split, checked and filled in.

A stdlib-only counterpart of `framework.warehouse.render_load_sql` (which needs sqlglot) for the Lambda
asset. `${manifest_uri}` and `${iam_role_arn}` are validated before they are written into the SQL, and
errors name the kind of a bad value, never the value.
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("manifest_uri", "iam_role_arn")
TRANSACTION_CONTROL = {"BEGIN", "BEGIN TRANSACTION", "START TRANSACTION", "COMMIT", "END", "ROLLBACK"}
MAX_BATCH_STATEMENTS = 40  # BatchExecuteStatement accepts at most 40 statements
MAX_CHAINED_ROLES = 10  # Redshift accepts up to 10 roles in an IAM_ROLE chain

_S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\x00-\x1f\x7f]+")
_IAM_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_\-/]{1,512}")
_UNSAFE_IN_LITERAL = re.compile(r"['\"\\`\x00-\x1f\x7f]|\$\{")


def split_statements(sql_text: str) -> list[str]:
    """Statements of a script, without comments or the closing semicolons.

    Quote-aware: a `;` or `--` inside a '...' literal (with '' or \\' escapes) or a "..." identifier is text.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql_text)
    while i < n:
        char = sql_text[i]
        if char in ("'", '"'):
            end = i + 1
            while end < n:
                if char == "'" and sql_text[end] == "\\":  # Redshift literals also escape with a backslash
                    end += 2
                    continue
                if sql_text[end] == char:
                    if end + 1 < n and sql_text[end + 1] == char:
                        end += 2
                        continue
                    break
                end += 1
            if end >= n:
                raise ValueError("unterminated quoted text in SQL script")
            current.append(sql_text[i:end + 1])
            i = end + 1
        elif sql_text.startswith("--", i):
            newline = sql_text.find("\n", i)
            i = n if newline < 0 else newline
        elif sql_text.startswith("/*", i):
            close = sql_text.find("*/", i + 2)
            if close < 0:
                raise ValueError("unterminated comment in SQL script")
            i = close + 2
        elif char == ";":
            statements.append("".join(current))
            current = []
            i += 1
        else:
            current.append(char)
            i += 1
    statements.append("".join(current))
    return [text for text in (s.strip() for s in statements) if text]


def check_manifest_uri(uri: str, required_prefix: str | None = None) -> str:
    """An `s3://bucket/key` URI without quotes or control characters (optionally under a prefix)."""
    if not isinstance(uri, str) or _UNSAFE_IN_LITERAL.search(uri) or not _S3_URI.fullmatch(uri):
        raise ValueError("manifest_uri is not valid: expected an s3://bucket/key URI without quotes, "
                         "backslashes or control characters")
    if required_prefix is not None and not uri.startswith(required_prefix):
        raise ValueError("manifest_uri is outside this source's manifest prefix")
    return uri


def check_iam_role_chain(value: str) -> str:
    """One IAM role ARN, or a comma-separated chain of them (Redshift role chaining)."""
    roles = value.split(",") if isinstance(value, str) else []
    if not roles or len(roles) > MAX_CHAINED_ROLES or not all(_IAM_ROLE_ARN.fullmatch(r) for r in roles):
        raise ValueError("iam_role_arn is not valid: expected arn:aws:iam::<12-digit account>:role/<name>, "
                         f"or up to {MAX_CHAINED_ROLES} of them separated by commas")
    return value


def fill_placeholders(sql_text: str, manifest_uri: str, iam_role_arn: str,
                      manifest_prefix: str | None = None) -> str:
    """`sql_text` with `${manifest_uri}` and `${iam_role_arn}` replaced by checked values."""
    values = {"manifest_uri": check_manifest_uri(manifest_uri, manifest_prefix),
              "iam_role_arn": check_iam_role_chain(iam_role_arn)}
    for name, value in values.items():
        sql_text = sql_text.replace("${" + name + "}", value)
    leftover = re.search(r"\$\{([A-Za-z_]+)\}", sql_text)
    if leftover:
        raise ValueError(f"unknown placeholder ${{{leftover.group(1)}}}; valid: " + ", ".join(PLACEHOLDERS))
    return sql_text


def without_transaction_control(statements: list[str]) -> list[str]:
    """Drop BEGIN/COMMIT: the Data API runs a batch of statements as one transaction by itself."""
    return [s for s in statements if " ".join(s.upper().split()) not in TRANSACTION_CONTROL]


def is_comment_statement(statement: str) -> bool:
    return statement.upper().startswith("COMMENT ON")


def load_batch(ddl_sql: str, load_sql: str, manifest_uri: str, iam_role_arn: str,
               manifest_prefix: str | None = None) -> tuple[list[str], int]:
    """The statements of one load for one Data API batch (one transaction): DDL, then load.

    The DDL is idempotent (IF NOT EXISTS), as in local runs. A batch holds at most 40 statements, so
    `COMMENT ON` statements that do not fit are left out; returns the statements and how many comments
    were left out.
    """
    filled = fill_placeholders(load_sql, manifest_uri, iam_role_arn, manifest_prefix)
    ddl = without_transaction_control(split_statements(ddl_sql))
    load = without_transaction_control(split_statements(filled))
    structure = [s for s in ddl if not is_comment_statement(s)]
    comments = [s for s in ddl if is_comment_statement(s)]
    room = MAX_BATCH_STATEMENTS - len(structure) - len(load)
    if room < 0:
        raise ValueError(f"the load needs {len(structure) + len(load)} statements; a batch holds "
                         f"{MAX_BATCH_STATEMENTS}")
    return structure + comments[:room] + load, max(0, len(comments) - room)
