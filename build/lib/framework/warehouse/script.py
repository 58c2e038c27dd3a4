"""SQL scripts: statements joined into a file's text, and a file's text split back into statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import Dialect
from sqlglot.tokens import TokenType

_SHORT_TEXT_CHARS = 80


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its 1-based position and its text (without the semicolon)."""

    number: int
    text: str

    @property
    def short_text(self) -> str:
        """The statement on one line, cut to a length that fits an error message."""
        return short_text(self.text)


def short_text(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= _SHORT_TEXT_CHARS else flat[: _SHORT_TEXT_CHARS - 3] + "..."


def as_script(statements: list[str]) -> str:
    """Join statements into script text: each ends with ``;``, a blank line between them."""
    return "".join(f"{s};\n" if i == 0 else f"\n{s};\n" for i, s in enumerate(statements))


def split_script(sql_text: str, dialect: str = "redshift") -> list[Statement]:
    """Split script text at top-level semicolons using sqlglot's tokenizer.

    Comments between statements are dropped; a semicolon inside a string or comment does not split.
    """
    statements: list[Statement] = []
    start: int | None = None
    end = 0
    for token in Dialect.get_or_raise(dialect).tokenize(sql_text):
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                statements.append(Statement(len(statements) + 1, sql_text[start : end + 1]))
            start = None
            continue
        if start is None:
            start = token.start
        end = token.end
    if start is not None:
        statements.append(Statement(len(statements) + 1, sql_text[start : end + 1]))
    return statements
