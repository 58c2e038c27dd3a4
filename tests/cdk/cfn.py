"""Reading synthesized CloudFormation in tests: intrinsic functions flattened to text, IAM evaluated.

`flatten` turns `Fn::Join`/`Ref`/`Fn::GetAtt`/`Fn::ImportValue` into plain strings (pseudo parameters
become a fixed partition, account and region), so ARNs and the state machine definition can be read.
`Access` answers "may this role do ACTION on ARN" from a template's IAM policies, with IAM's `*`/`?`
matching and StringLike conditions on `s3:prefix`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1",
          "AWS::URLSuffix": "amazonaws.com"}
ACCOUNT, REGION = PSEUDO["AWS::AccountId"], PSEUDO["AWS::Region"]


def load(outdir: Path, stack_id: str) -> dict[str, Any]:
    return json.loads((outdir / f"{stack_id}.template.json").read_text(encoding="utf-8"))


def flatten(value: Any) -> Any:
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(flatten(p)) for p in parts)
        if "Ref" in value:
            return PSEUDO.get(value["Ref"], f"<{value['Ref']}>")
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if "Fn::ImportValue" in value:
            return f"<import:{value['Fn::ImportValue']}>"
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: PSEUDO.get(m.group(1), f"<{m.group(1)}>"), text)
        return {k: flatten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [flatten(v) for v in value]
    return value


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Logical id -> flattened Properties of every resource of `kind`."""
    return {k: flatten(v.get("Properties", {})) for k, v in template["Resources"].items() if v["Type"] == kind}


def one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.values()))


def state_machine_definition(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(one(template, "AWS::StepFunctions::StateMachine")["DefinitionString"])


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _iam_match(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


@dataclass
class Access:
    """The Allow statements attached to each role of one template (by the role's logical id)."""

    statements: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, template: dict[str, Any]) -> Access:
        found: dict[str, list[dict[str, Any]]] = {}
        for policy in resources(template, "AWS::IAM::Policy").values():
            for role in policy.get("Roles", []):
                role_id = role.strip("<>")
                found.setdefault(role_id, []).extend(_listify(policy["PolicyDocument"]["Statement"]))
        for role_id, role in resources(template, "AWS::IAM::Role").items():
            found.setdefault(role_id, [])
            for inline in role.get("Policies", []):
                found[role_id].extend(_listify(inline["PolicyDocument"]["Statement"]))
        return cls(found)

    def roles(self) -> list[str]:
        return sorted(self.statements)

    def allows(self, role: str, action: str, arn: str, s3_prefix: str | None = None) -> bool:
        for statement in self.statements[role]:
            if statement.get("Effect", "Allow") != "Allow":
                continue
            if not any(_iam_match(a, action) for a in _listify(statement["Action"])):
                continue
            if not any(_iam_match(r, arn) for r in _listify(statement["Resource"])):
                continue
            like = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
            if like is not None and (s3_prefix is None or not any(_iam_match(p, s3_prefix) for p in _listify(like))):
                continue
            return True
        return False

    def s3_resources(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(role, resource, actions) of every statement that grants an s3: action."""
        found = []
        for role, statements in self.statements.items():
            for statement in statements:
                actions = tuple(_listify(statement["Action"]))
                if any(a.startswith("s3:") for a in actions):
                    found += [(role, r, actions) for r in _listify(statement["Resource"])]
        return found


def bucket_arn(zone: str) -> str:
    return f"arn:aws:s3:::onboard-{zone}-{ACCOUNT}-{REGION}"
