"""Check an API answer against the generated OpenAPI document (generated/_platform/openapi.json) with jsonschema.

OpenAPI 3.0's `nullable: true` becomes a JSON Schema type union; `$ref`s into `#/components/schemas` resolve
against the document itself."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from tests.conftest import REPO

DOCUMENT = REPO / "generated/_platform/openapi.json"


def _json_schema(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable"):
            converted["type"] = [node["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        return converted
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def check(path: str, method: str, status: int, body: Any) -> None:
    """The body is what the document says `method path` answers with `status` (raises when it is not)."""
    doc = document()
    response = doc["paths"][path][method.lower()]["responses"][str(status)]  # KeyError: undocumented status
    schema = response["content"]["application/json"]["schema"]
    root = {**_json_schema(doc), **_json_schema(schema)}
    jsonschema.Draft202012Validator(root).validate(body)
