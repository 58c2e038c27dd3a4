"""Validation errors that point at a file, a line, a column and a dotted field path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a source definition, printed as `file:line:col: path: message`."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecErrors(Exception):
    """All the problems found in one or more source definitions."""

    def __init__(self, errors: list[SpecError]):
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))


def choices_hint(choices: list[str] | tuple[str, ...]) -> str:
    """The hint appended to an error when the user had a closed set of valid choices."""
    return "choose from: " + ", ".join(choices)


def format_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """`('source', 'schema', 'columns', 2, 'type')` -> `source.schema.columns[2].type`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out
