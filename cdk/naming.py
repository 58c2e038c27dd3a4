"""Names of stacks and of the few resources that need a fixed physical name."""

from __future__ import annotations


def platform_stack_name(prefix: str) -> str:
    return f"{prefix}-platform"


def source_stack_name(prefix: str, source: str) -> str:
    """CloudFormation stack names allow letters, digits and '-': `onboard-source-sales-transactions`."""
    return f"{prefix}-source-{source.replace('_', '-')}"


def copy_role_name(prefix: str, source: str) -> str:
    """The role Redshift's COPY chains into for one source (named, so the platform can allow it by ARN).

    A source name has at most 48 characters and the prefix at most 10, so this fits IAM's 64.
    """
    return f"{prefix}-copy-{source}"


def resource_name(prefix: str, source: str) -> str:
    """Glue job and state machine names of one source."""
    return f"{prefix}-{source}"


def function_name(prefix: str, source: str, role: str) -> str:
    """`<prefix>-<source>-land` (the connector), `-load` (the loader), `-runs` (the run ledger task), `-ship`
    (a buffered source's flush: ships its pending micro-batches to the pipeline) or `-late` (its freshness check):
    at most 10 + 1 + 48 + 5 = 64, Lambda's limit."""
    if role not in ("land", "load", "runs", "ship", "late"):
        raise ValueError(f"unknown function role {role!r}; valid: land, load, runs, ship, late")
    return f"{prefix}-{source}-{role}"


def ledger_table_name(prefix: str) -> str:
    """The platform's run ledger table (named, so `onboard status --deployed` and `run --resume` find it)."""
    return f"{prefix}-runs"


def crawler_name(prefix: str, source: str) -> str:
    """The source's Glue crawler (a crawler and a job may share a name: they are different kinds)."""
    return resource_name(prefix, source)


def warehouse_name(prefix: str) -> str:
    """The Redshift Serverless namespace and workgroup."""
    return f"{prefix}-warehouse"


def loader_secret_name(prefix: str) -> str:
    """The Secrets Manager secret holding the loader user's name and password (Redshift Serverless)."""
    return f"{prefix}-warehouse-loader"


def receipt_rule_set_name(prefix: str) -> str:
    """The platform's SES receipt rule set, which email sources add their rules to."""
    return f"{prefix}-inbound"


def workgroup_name(prefix: str) -> str:
    """The Athena workgroup analysts query the lake in."""
    return f"{prefix}-analytics"


def analyst_policy_name(prefix: str) -> str:
    """The managed policy that lets a role query the lake in the workgroup (attach it to analysts' roles)."""
    return f"{prefix}-analyst"


def curated_crawler_name(prefix: str) -> str:
    """The crawler that catalogs the curated exports; the hyphen keeps it apart from the sources' crawlers
    (`<prefix>-<source>`, source names are snake_case)."""
    return f"{prefix}-curated-exports"
