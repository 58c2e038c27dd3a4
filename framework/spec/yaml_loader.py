"""Safe YAML loading that remembers where every key and value came from.

PyYAML's safe composer builds a node tree with marks; we construct plain Python data from it
ourselves so we can record positions and reject duplicate keys (which `yaml.safe_load`
silently lets the last one win).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent

from framework.spec.errors import SpecError, SpecErrors, format_path

Path = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each path's value (and, for mapping entries, its key) starts: 1-based (line, col)."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of_value(self, path: Path) -> tuple[int, int]:
        """The position of the value at `path`, or of its nearest existing ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return (1, 1)

    def of_key(self, path: Path) -> tuple[int, int]:
        """The position of the key naming `path` (falls back to the value position)."""
        return self.keys.get(path) or self.of_value(path)


ALIAS_BUDGET = 10_000
"""How many nodes aliases may add to a document in all: far more than any source definition repeats, far
less than a "billion laughs" (nested aliases that expand a 1 KB file into millions of nodes)."""


class _AliasRefused(ComposerError):
    """An alias the loader will not expand (its message is the whole explanation)."""


class _BudgetLoader(yaml.SafeLoader):
    """The safe loader, refusing an alias that refers to its own enclosing node or that takes the nodes
    aliases add past ALIAS_BUDGET; both raise at the alias, before anything is expanded."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._sizes: dict[int, int] = {}
        self._added = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _AliasRefused(None, None, f"alias *{event.anchor} refers to a node that contains it",
                                    event.start_mark)
            self._added += size
            if self._added > ALIAS_BUDGET:
                raise _AliasRefused(None, None, f"aliases expand past {ALIAS_BUDGET} nodes at *{event.anchor}; "
                                    "a source definition needs no more: write the values out", event.start_mark)
            return node
        node = super().compose_node(parent, index)
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else []
        self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in children)
        return node


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.positions = Positions()
        self.errors: list[SpecError] = []
        self.constructor = SafeConstructor()

    def error(self, node: yaml.Node, path: Path, message: str) -> None:
        line, col = _mark(node)
        self.errors.append(SpecError(self.file, line, col, format_path(path), message))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            self.error(node, path, f"cannot read this value: {exc.problem}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(key_node, path, "YAML merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, path, "a key must be a plain string")
                continue
            key = str(self.constructor.construct_object(key_node))
            child = path + (key,)
            if key in out:
                first_line = self.positions.keys[child][0]
                self.error(key_node, child, f"duplicate key '{key}' (first given on line {first_line})")
                continue
            self.positions.keys[child] = _mark(key_node)
            out[key] = self.build(value_node, child)
        return out


def load_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse one YAML document safely; raise SpecErrors naming file, line and column."""
    try:
        node = yaml.compose(text, Loader=_BudgetLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, _AliasRefused):
            raise SpecErrors([SpecError(file, line, col, "", problem)]) from None
        raise SpecErrors([SpecError(file, line, col, "", f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as exc:  # e.g. a second document in the stream
        raise SpecErrors([SpecError(file, 1, 1, "", f"YAML error: {exc}")]) from None
    if node is None:
        raise SpecErrors([SpecError(file, 1, 1, "", "the file is empty; expected a 'source:' mapping")])
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.errors:
        raise SpecErrors(builder.errors)
    return data, builder.positions
