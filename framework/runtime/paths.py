"""Paths into JSON: the one syntax and the one lookup behind every path field of a source definition
(`records_path`, mapping values and a column's `source`, `cursor_path`, `next_url_path`, `has_more_path`,
`total_path`, the `last_record` field, `incremental.cursor_field`). Standard library only: it ships in the
connector Lambda, and the Glue job receives the parsed segments in its configuration instead of parsing.

Syntax: segments separated by dots (`meta.next_cursor`). A segment may be double-quoted to hold dots
(`value."@odata.id"`; inside quotes `\\"` is a quote and `\\\\` a backslash). A path that names a key
literally is that key: `@odata.nextLink` is the key `@odata.nextLink` when the object has it, else
`@odata` → `nextLink`. So every path has one or two readings, tried in order (`readings`).

Where a lookup meets a list, a whole-number segment is a position (`items.0.id`, `-1` the last) for the
paths the connector reads in API responses; records paths and column sources name object keys only (the
Glue job reads them with a fixed schema).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

MISSING = object()
Segments = tuple[str, ...]


class PathError(ValueError):
    """A path that does not parse; ``position`` is the 0-based character where the problem is."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def parse_path(text: str) -> Segments:
    """The segments of ``text`` (see the module docstring); raises PathError naming the character."""
    if not isinstance(text, str) or text == "":
        raise PathError("a path must not be empty", 0)
    segments: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            segment, i = _quoted_segment(text, i)
        else:
            end = i
            while end < n and text[end] != ".":
                if text[end] == '"':
                    raise PathError(f"a quote may only open a segment (character {end + 1}); quote the whole "
                                    "segment, e.g. a.\"b.c\"", end)
                end += 1
            segment, i = text[i:end], end
            if segment == "":
                raise PathError(f"empty segment at character {i + 1}: two dots in a row, or a dot at the start "
                                "or the end", i)
        segments.append(segment)
        if i == n:
            return tuple(segments)
        if text[i] != ".":
            raise PathError(f"expected '.' after the quoted segment at character {i + 1}", i)
        i += 1
        if i == n:
            raise PathError(f"empty segment at character {i}: the path ends with a dot", i - 1)


def _quoted_segment(text: str, start: int) -> tuple[str, int]:
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            chars.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise PathError(f"unclosed quote: the '\"' at character {start + 1} has no closing '\"'", start)


@lru_cache(maxsize=1024)
def readings(text: str) -> tuple[Segments, ...]:
    """How ``text`` is read, in order: the whole text as one literal key (when it has dots and no quotes),
    then its segments. ``('@odata.nextLink',), ('@odata', 'nextLink')`` for ``@odata.nextLink``."""
    segments = parse_path(text)
    if len(segments) > 1 and '"' not in text:
        return ((text,), segments)
    return (segments,)


def path_problem(text: str) -> str | None:
    """Why ``text`` is not a valid path, or None."""
    try:
        parse_path(text)
    except PathError as error:
        return str(error)
    return None


def follow(data: Any, segments: Sequence[str], default: Any = MISSING, *, positions: bool = True) -> Any:
    """The value at ``segments`` in ``data``, or ``default`` when a step is missing. With ``positions``, a
    whole-number segment indexes a list."""
    node = data
    for segment in segments:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif (positions and isinstance(node, list) and segment.lstrip("-").isdigit()
              and -len(node) <= int(segment) < len(node)):
            node = node[int(segment)]
        else:
            return default
    return node


def lookup(data: Any, path: str, default: Any = MISSING, *, positions: bool = True) -> Any:
    """The value at ``path`` (its first reading that is present; see ``readings``), or ``default``."""
    for segments in readings(path):
        found = follow(data, segments, MISSING, positions=positions)
        if found is not MISSING:
            return found
    return default
