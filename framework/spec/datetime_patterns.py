"""Spark's datetime patterns for parsing (to_date/to_timestamp), checked without a JVM.

The rules follow Spark 3.5's "Datetime Patterns for Formatting and Parsing" (docs/sql-ref-datetime-pattern)
and the Java DateTimeFormatter under it; tests/spec/test_datetime_patterns.py compares this checker with what
Spark itself accepts, letter by letter and count by count.
"""

from __future__ import annotations

# Letter -> the repeat counts Spark accepts when parsing (a run of the same letter is one field).
_COUNTS: dict[str, frozenset[int]] = {
    "G": frozenset(range(1, 5)),   # era
    "y": frozenset(range(1, 7)),   # year
    "D": frozenset(range(1, 4)),   # day of year
    "M": frozenset(range(1, 5)),   # month
    "L": frozenset(range(1, 5)),   # month (stand-alone)
    "d": frozenset({1, 2}),        # day of month
    "g": frozenset(range(1, 20)),  # modified julian day
    "a": frozenset({1}),           # am/pm
    "h": frozenset({1, 2}),        # clock hour of am/pm (1-12)
    "K": frozenset({1, 2}),        # hour of am/pm (0-11)
    "k": frozenset({1, 2}),        # clock hour of day (1-24)
    "H": frozenset({1, 2}),        # hour of day (0-23)
    "m": frozenset({1, 2}),        # minute
    "s": frozenset({1, 2}),        # second
    "S": frozenset(range(1, 10)),  # fraction of second
    "V": frozenset({2}),           # zone id
    "v": frozenset({1, 4}),        # generic zone name
    "z": frozenset(range(1, 5)),   # zone name
    "O": frozenset({1, 4}),        # localized zone offset
    "X": frozenset(range(1, 6)),   # zone offset, Z for zero
    "x": frozenset(range(1, 6)),   # zone offset
    "Z": frozenset(range(1, 6)),   # zone offset
}
_WEEK_BASED = "YWwuec"
_FORMATTING_ONLY = "EFQq"
_RESERVED = "#{}"


def pattern_problem(pattern: str) -> str | None:
    """Why Spark cannot parse with ``pattern`` (a message naming the position, 1-based), or None."""
    if not pattern.strip():
        return "the pattern is empty"
    optional_depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            while end != -1 and pattern[end + 1:end + 2] == "'":  # '' inside quotes is a quote
                end = pattern.find("'", end + 2)
            if end == -1:
                return f"the quoted text at character {i + 1} is not closed with '"
            i = end + 1
            continue
        if char.isascii() and char.isalpha():
            run = len(pattern[i:]) - len(pattern[i:].lstrip(char))
            if problem := _letter_problem(char, run):
                return f"{problem} (character {i + 1})"
            i += run
            continue
        if char in _RESERVED:
            return f"'{char}' is reserved (character {i + 1}); quote literal text, e.g. '{char}'"
        if char == "[":
            optional_depth += 1
        elif char == "]":
            if not optional_depth:
                return f"']' without an opening '[' (character {i + 1})"
            optional_depth -= 1
        i += 1
    return None


def _letter_problem(letter: str, run: int) -> str | None:
    text = letter * run
    if letter in _WEEK_BASED:
        return f"'{text}': week-based fields are not supported by Spark 3"
    if letter in _FORMATTING_ONLY:
        return f"'{text}': Spark uses {letter} only to format dates, not to parse them"
    counts = _COUNTS.get(letter)
    if counts is None:
        return f"'{letter}' is not a pattern letter; quote literal text, e.g. '{letter}'"
    if run not in counts:
        allowed = sorted(counts)
        if len(allowed) == 1:
            spans = f"exactly {allowed[0]}"
        elif len(allowed) > 2:
            spans = f"{allowed[0]} to {allowed[-1]}"
        else:
            spans = " or ".join(str(n) for n in allowed)
        return f"'{text}': {letter} is written {spans} time{'s' if allowed[-1] > 1 else ''}, not {run}"
    return None
