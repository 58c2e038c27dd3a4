"""cdk-nag acknowledgements: each one names one finding on one construct and says why it is accepted."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(construct: IConstruct, rule: str, reason: str, finding: str | None = None, *,
                pack: str = PACK) -> None:
    """Accept `rule` (e.g. "IAM5", optionally one `finding` of it such as "Resource::*") on `construct`.

    `pack` is the validation plugin: cdk-nag's AwsSolutions, or "CloudFormation-Validate" (rule ids as is)."""
    rule_id = (f"{PACK}::{PACK}-{rule}" if pack == PACK else f"{pack}::{rule}") + (f"[{finding}]" if finding else "")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
