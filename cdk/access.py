"""IAM statements derived from a manifest's `iam` block: S3 access to named prefixes only, never a bucket.

Lake buckets have fixed names (`<prefix>-<zone>-<account>-<region>`), so a source stack builds their ARNs
itself instead of importing them, and the few wildcards least privilege still needs (object keys below a
prefix end in `*`) can be acknowledged to cdk-nag one finding at a time: `ScopedPolicy` records the
finding text cdk-nag prints for each of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from framework.spec.references import bucket_zone
from onboard_cdk.nag import acknowledge

READ_ACTIONS = ("s3:GetObject",)
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")
# Spark's output committer renames by copy + delete under the prefixes it writes.
WRITE_AND_DELETE_ACTIONS = (*WRITE_ACTIONS, "s3:DeleteObject")
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

_PSEUDO_REAL = {"partition": Aws.PARTITION, "account": Aws.ACCOUNT_ID, "region": Aws.REGION}
_PSEUDO_SHOWN = {"partition": "<AWS::Partition>", "account": "<AWS::AccountId>", "region": "<AWS::Region>"}


@dataclass(frozen=True)
class Arn:
    """An ARN with pseudo parameters: `value` goes into the template, `shown` is how cdk-nag prints it."""

    value: str
    shown: str

    @classmethod
    def of(cls, template: str, **literals: str) -> Arn:
        return cls(template.format(**_PSEUDO_REAL, **literals), template.format(**_PSEUDO_SHOWN, **literals))


def bucket_name_template(prefix: str, zone: str) -> str:
    return f"{prefix}-{zone}-{{account}}-{{region}}"


def bucket_name(prefix: str, zone: str) -> str:
    """The physical name of a lake bucket, e.g. `onboard-raw-123456789012-eu-west-1`."""
    return bucket_name_template(prefix, zone).format(**_PSEUDO_REAL)


def bucket_arn(prefix: str, zone: str) -> Arn:
    return Arn.of("arn:{partition}:s3:::" + bucket_name_template(prefix, zone))


def objects_arn(prefix: str, zone: str, key_prefix: str) -> Arn:
    """Objects below `key_prefix` of a lake bucket (the `*` is what makes it a prefix)."""
    if not key_prefix or key_prefix.startswith("/") or "*" in key_prefix:
        raise ValueError(f"{key_prefix!r} is not a key prefix: an empty one would grant the whole bucket")
    return Arn.of("arn:{partition}:s3:::" + bucket_name_template(prefix, zone) + "/{key}*", key=key_prefix)


def zone_of(reference: str, zones: Iterable[str]) -> str:
    """The zone named by `${BUCKET:zone}`; anything else is refused (no bucket outside the lake)."""
    zone = bucket_zone(reference)
    if zone is None or zone not in set(zones):
        raise ValueError(f"{reference!r} does not name a lake bucket; expected ${{BUCKET:zone}} with zone one of "
                         + ", ".join(sorted(zones)))
    return zone


@dataclass
class ScopedPolicy:
    """The statements of one role, and the cdk-nag IAM5 findings its unavoidable wildcards raise."""

    prefix: str
    zones: tuple[str, ...]
    statements: list[iam.PolicyStatement] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def objects(self, locations: Iterable[Mapping[str, str]], actions: tuple[str, ...]) -> ScopedPolicy:
        """Object `actions` on each `bucket/prefix*`, and listing limited to those prefixes."""
        for spot in locations:
            zone, key_prefix = zone_of(spot["bucket"], self.zones), spot["prefix"]
            objects = objects_arn(self.prefix, zone, key_prefix)
            self.add(iam.PolicyStatement(actions=list(actions), resources=[objects.value]), [objects.shown])
            self.add(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn(self.prefix, zone).value],
                                         conditions={"StringLike": {"s3:prefix": [f"{key_prefix}*"]}}))
        return self

    def folders(self, locations: Iterable[Mapping[str, str]], *, write: bool) -> ScopedPolicy:
        """What Hadoop's S3 client (EMRFS on Glue) does beside the prefixes: it asks for each folder of the path
        as a key (HEAD `customers` beside `customers/*`) and as its folder marker (`customers_$folder$`), and
        creates the markers when it makes the folders it writes to. Exact keys only, no wildcard."""
        reads: list[str] = []
        markers: list[str] = []
        for spot in locations:
            zone = zone_of(spot["bucket"], self.zones)
            for folder in folder_keys(spot["prefix"]):
                bucket = bucket_arn(self.prefix, zone).value
                reads += [f"{bucket}/{folder}", f"{bucket}/{folder}{FOLDER_MARKER}"]
                markers.append(f"{bucket}/{folder}{FOLDER_MARKER}")
        if reads:
            self.add(iam.PolicyStatement(actions=list(READ_ACTIONS), resources=_unique(reads)))
        if write and markers:
            self.add(iam.PolicyStatement(actions=["s3:PutObject", "s3:DeleteObject"], resources=_unique(markers)))
        return self

    def add(self, statement: iam.PolicyStatement | None, wildcard_resources: Iterable[str] = ()) -> ScopedPolicy:
        if statement is not None:
            self.statements.append(statement)
            for shown in wildcard_resources:
                if f"Resource::{shown}" not in self.findings:
                    self.findings.append(f"Resource::{shown}")
        return self

    def attach(self, role: iam.Role, reason: str) -> None:
        """Add the statements to `role` and acknowledge exactly the wildcard findings they raise."""
        for statement in self.statements:
            role.add_to_principal_policy(statement)
        for finding in self.findings:
            acknowledge(default_policy(role), "IAM5", reason, finding)


FOLDER_MARKER = "_$folder$"  # EMRFS's empty "directory" object beside a folder


def folder_keys(key_prefix: str) -> list[str]:
    """`_manifests/customers/` -> [`_manifests`, `_manifests/customers`]: each folder of a prefix, as a key."""
    parts = key_prefix.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts)) if parts[i]]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def default_policy(role: iam.Role) -> IConstruct:
    """The CloudFormation policy resource CDK creates for a role's added statements."""
    return role.node.find_child("DefaultPolicy").node.default_child


def key_statement(key_arn: str, actions: tuple[str, ...] = KEY_USE_ACTIONS) -> iam.PolicyStatement:
    """Use of the lake key, by exact action (grant_encrypt_decrypt would add kms:ReEncrypt* and friends)."""
    return iam.PolicyStatement(actions=list(actions), resources=[key_arn])


def secret_statement(names: list[str]) -> iam.PolicyStatement | None:
    """Read access to exactly the source's own secrets (`-??????` is the suffix Secrets Manager adds)."""
    if not names:
        return None
    return iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[
        Arn.of("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????", name=name).value
        for name in names])


def ledger_statement(table_arn: str, source: str) -> iam.PolicyStatement:
    """Read and write the run ledger's items of this source only (its incremental state)."""
    return iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[table_arn],
                               conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [source]}})


def function_arn_finding(function: IConstruct) -> str:
    """The IAM5 finding of `<function arn>:*`, which Step Functions' LambdaInvoke grants for versions."""
    resource = function.node.default_child
    return f"Resource::<{Stack.of(resource).get_logical_id(resource)}.Arn>:*"
