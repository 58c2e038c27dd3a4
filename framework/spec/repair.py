"""Keep checking a definition that has structural errors.

Pydantic refuses the whole definition at the first structural error (an unknown key, a wrong type name),
which would hide every semantic problem (a bad name, a distkey that is not a column) until the user fixed
the first batch. Instead, the broken parts are set aside: an unknown key is dropped, a column whose entry is
broken keeps only its name, any other bad value falls back to its default. The semantic checks then run on
what is left, and a problem is reported only if it does not depend on a part that was set aside.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from framework.spec.errors import SpecError, format_path
from framework.spec.pydantic_errors import data_path

MAX_ROUNDS = 8
COLUMNS = ("schema", "columns")


@dataclass
class Repair:
    """A definition validated without its broken parts, and what those parts were."""

    definition: Any
    body: dict[str, Any]
    set_aside: list[tuple[str | int, ...]] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)

    def covers(self, error: SpecError) -> bool:
        """True if `error` may only be an echo of a part that was set aside."""
        for path in self.set_aside:
            block = format_path(("source",) + path)
            if error.path == block or error.path.startswith((block + ".", block + "[")):
                return True
        message = error.message.lower()
        return any(f"'{name}'" in message for name in self.columns)


def repair_for_checks(model: type[BaseModel], body: dict[str, Any], exc: ValidationError) -> Repair | None:
    """The definition without the parts `exc` complains about, or None when a required part is broken
    (then nothing further can be checked reliably)."""
    work = copy.deepcopy(body)
    repair = Repair(definition=None, body=work)
    for _ in range(MAX_ROUNDS):
        for error in exc.errors(include_url=False):
            if error["type"] in ("missing", "union_tag_not_found"):
                return None
            if not _set_aside(work, data_path(error["loc"], work), error["type"] == "extra_forbidden", repair):
                return None
        try:
            repair.definition = model.model_validate(work)
            return repair
        except ValidationError as again:
            exc = again
    return None


def _set_aside(body: dict[str, Any], path: tuple[str | int, ...], unknown_key: bool, repair: Repair) -> bool:
    if path[:2] == COLUMNS and len(path) > 2 and isinstance(path[2], int):
        columns = body["schema"]["columns"]
        entry = columns[path[2]] if path[2] < len(columns) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            return False  # a column without a usable name: every "is not a column" check would be a guess
        if len(path) > 3 and path[3] == "name":
            return False
        columns[path[2]] = {"name": name}
        repair.columns.add(name.lower())
        repair.set_aside.append(path[:3])
        return True
    # a list item or a mapping's value: set aside the whole block that holds it
    while path and isinstance(path[-1], int):
        path = path[:-1]
    if not path:
        return False
    parent = body
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if not isinstance(parent, dict) or path[-1] not in parent:
        return False
    del parent[path[-1]]
    # nothing depends on an unknown key; a bad value's defaults may make its neighbours look wrong
    repair.set_aside.append(path if unknown_key or len(path) == 1 else path[:-1])
    return True
