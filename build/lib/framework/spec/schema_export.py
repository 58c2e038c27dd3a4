"""The JSON Schema of a source file, exported from the pydantic models for editor completion."""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from framework.spec.kinds import SOURCE_KINDS


def source_file_schema() -> dict[str, Any]:
    kinds = tuple(SOURCE_KINDS[k] for k in sorted(SOURCE_KINDS))
    source_type: Any = kinds[0] if len(kinds) == 1 else Annotated[Union[kinds], Field(discriminator="type")]  # noqa: UP007

    class SourceFile(BaseModel):
        """One data source for Onboard: drop this file into sources/ and run `onboard generate`."""

        model_config = ConfigDict(extra="forbid", title="Onboard source definition")
        source: source_type  # type: ignore[valid-type]

    schema = TypeAdapter(SourceFile).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def source_file_schema_text() -> str:
    return json.dumps(source_file_schema(), indent=2, sort_keys=True) + "\n"
