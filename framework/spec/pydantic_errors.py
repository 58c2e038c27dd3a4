"""Turn pydantic's validation errors into SpecErrors that point at the YAML the user wrote."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from framework.spec.errors import SpecError, format_path
from framework.spec.yaml_loader import Path, Positions


def data_path(loc: tuple[Any, ...], data: Any) -> Path:
    """Map a pydantic `loc` onto the user's data, dropping discriminator tags pydantic inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue  # the tag of a discriminated union
        path.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(path)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (typing.Union, types.UnionType, typing.Annotated, list, dict):
        found = []
        for arg in typing.get_args(annotation):
            found += _models_in(arg)
        return found
    return []


def _model_at(model: type[BaseModel], path: Path, data: Any) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path` (path relative to `model`)."""
    node = data
    for part in path:
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part or n == part), None)
        if field is None:
            return None
        candidates = _models_in(field.annotation)
        if len(candidates) > 1 and isinstance(node, dict):
            candidates = [c for c in candidates if _tag_of(c) == node.get("type")] or candidates
        if not candidates:
            return None
        model = candidates[0]
    return model


def _has(node: Any, part: Any) -> bool:
    return part in node if isinstance(node, dict) else isinstance(part, int) and part < len(node)


def _tag_of(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("type")
    args = typing.get_args(field.annotation) if field else ()
    return args[0] if args else None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def convert(exc: ValidationError, file: str, data: Any, root: type[BaseModel], root_path: Path,
            positions: Positions) -> list[SpecError]:
    """SpecErrors for every pydantic error; `root` validated the data found at `root_path`."""
    errors = []
    for err in exc.errors(include_url=False):
        rel = data_path(err["loc"], _get(data, root_path))
        path = root_path + rel
        kind = err["type"]
        where = positions.of_value(path)
        if kind == "missing":
            message = f"missing required key '{path[-1]}'"
            path = path[:-1]
            where = positions.of_key(path)
        elif kind == "extra_forbidden":
            key = path[-1]
            model = _model_at(root, rel[:-1], _get(data, root_path))
            valid = _keys_of(model) if model else []
            close = difflib.get_close_matches(str(key), valid, n=1)
            message = f"unknown key '{key}'"
            if close:
                message += f"; did you mean '{close[0]}'?"
            if valid:
                message += " valid keys: " + ", ".join(valid)
            where = positions.of_key(path)
        elif kind in ("union_tag_invalid", "literal_error"):
            if kind == "union_tag_invalid":
                path += ("type",)
                where = positions.of_value(path)
            expected = err.get("ctx", {}).get("expected_tags") or err.get("ctx", {}).get("expected", "")
            choices = expected.replace("'", "").replace(" or ", ", ")
            message = f"'{err['input'] if kind == 'literal_error' else err['ctx']['tag']}' is not valid; " \
                      f"choose from: {choices}"
        elif kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
            limit = next(iter(err.get("ctx", {}).values()), "")
            if isinstance(limit, float) and limit.is_integer():
                limit = int(limit)
            words = {"less_than_equal": "at most", "greater_than_equal": "at least", "less_than": "must be below",
                     "greater_than": "must be above"}
            word = words[kind]
            message = f"{err['input']} is out of range; {word} {limit}"
        elif kind == "union_tag_not_found":
            message = "missing required key 'type'"
        else:
            message = err["msg"].removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
        errors.append(SpecError(file, where[0], where[1], format_path(path), message))
    return errors


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data
