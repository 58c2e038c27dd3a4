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
    """Glue job, crawler, Lambda and state machine names of one source."""
    return f"{prefix}-{source}"
