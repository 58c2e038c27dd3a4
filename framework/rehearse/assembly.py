"""A synthesized cloud assembly (cdk.out/) read as CloudFormation would deploy it, offline.

Every intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::ImportValue`, `Fn::Select`) resolves to the
rehearsal's names: account 123456789012 (moto's), one region, and the physical names CloudFormation would
use (the name a template gives, else `<stack>-<logical id>`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STAMP_FILE = "onboard-rehearse.inputs"


class AssemblyError(RuntimeError):
    """The cloud assembly lacks what the rehearsal needs; the message says what."""


# What Ref gives for a resource type: the name property of the template, else a generated physical name.
_NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName", "AWS::Glue::Job": "Name", "AWS::Glue::Crawler": "Name",
    "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName", "AWS::IAM::Role": "RoleName",
    "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName", "AWS::Glue::SecurityConfiguration": "Name", "AWS::Events::Rule": "Name",
}
_SERVICE = {"AWS::Lambda::Function": ("lambda", "function:"), "AWS::DynamoDB::Table": ("dynamodb", "table/"),
            "AWS::StepFunctions::StateMachine": ("states", "stateMachine:"), "AWS::SNS::Topic": ("sns", ""),
            "AWS::SQS::Queue": ("sqs", ""), "AWS::IAM::Role": ("iam", "role/"), "AWS::KMS::Key": ("kms", "key/"),
            "AWS::Events::Rule": ("events", "rule/"), "AWS::Glue::Job": ("glue", "job/"),
            "AWS::SecretsManager::Secret": ("secretsmanager", "secret:")}
_GLOBAL = ("iam", "s3")


@dataclass
class Stack:
    """One stack's template, with its intrinsics resolved against the assembly."""

    construct_id: str
    name: str
    template: dict[str, Any]
    assets: dict[str, Path]  # S3 object key of an asset -> its file or folder in cdk.out
    assembly: Assembly

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        prop = _NAME_PROPERTY.get(resource["Type"])
        named = resource.get("Properties", {}).get(prop) if prop else None
        if named is not None:
            return str(self.resolve(named))
        return f"{self.name}-{logical_id}"[:64]

    def arn(self, logical_id: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if resource_type == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{name}"
        service, kind = _SERVICE.get(resource_type, (resource_type.split("::")[1].lower(), ""))
        region = "" if service in _GLOBAL else REGION
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{kind}{name}"

    def ref(self, name: str) -> str:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.name, "AWS::NoValue": ""}
        if name in pseudo:
            return pseudo[name]
        resource_type = self.resources[name]["Type"]
        if resource_type in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic", "AWS::SecretsManager::Secret"):
            return self.arn(name)
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.physical_name(name)}"
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute in ("Arn", "Workgroup.WorkgroupArn", "Namespace.NamespaceArn"):
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "TopicName"):
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        raise AssemblyError(f"{self.construct_id}: no rehearsal value for Fn::GetAtt {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its value."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in self.resolve(parts))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::ImportValue":
                return self.assembly.export(str(self.resolve(arg)))
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(
                    names[m.group(1)] if m.group(1) in names else self._sub_name(m.group(1))), text)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_name(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.get_att(logical_id, attribute)
        return self.ref(name)

    def asset_path(self, s3_key: str) -> Path:
        try:
            return self.assets[s3_key]
        except KeyError:
            raise AssemblyError(f"{self.construct_id}: no asset with the object key {s3_key} in "
                                f"{self.assembly.outdir}") from None


class Assembly:
    """The stacks of a cloud assembly folder."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        manifest_path = outdir / "manifest.json"
        if not manifest_path.is_file():
            raise AssemblyError(f"{outdir} is not a cloud assembly (no manifest.json): run `onboard synth`")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        self.stacks: dict[str, Stack] = {}
        for construct_id, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact["properties"]
            template = json.loads((outdir / properties["templateFile"]).read_text(encoding="utf-8"))
            self.stacks[construct_id] = Stack(construct_id, properties.get("stackName", construct_id), template,
                                              self._assets(construct_id), self)

    def _assets(self, construct_id: str) -> dict[str, Path]:
        path = self.outdir / f"{construct_id}.assets.json"
        if not path.is_file():
            return {}
        files = json.loads(path.read_text(encoding="utf-8")).get("files", {})
        found = {}
        for entry in files.values():
            for destination in entry["destinations"].values():
                found[destination["objectKey"]] = self.outdir / entry["source"]["path"]
        return found

    def export(self, name: str) -> str:
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") and stack.resolve(output["Export"]["Name"]) == name:
                    return str(stack.resolve(output["Value"]))
        raise AssemblyError(f"no stack exports {name}")

    def source(self, name: str) -> Stack:
        stack = self.stacks.get(f"Source-{name}")
        if stack is None:
            raise AssemblyError(f"the cloud assembly in {self.outdir} has no stack for source {name}: run "
                                "`onboard synth`")
        return stack

    @property
    def platform(self) -> Stack:
        return self.stacks["Platform"]


def inputs_digest(files: Iterable[Path], root: Path) -> str:
    """A digest of the files a synthesis reads: the same digest, the same templates and assets."""
    digest = hashlib.sha256()
    for path in sorted(set(files)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
