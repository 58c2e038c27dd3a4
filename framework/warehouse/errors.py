"""Errors raised while running warehouse SQL."""

from __future__ import annotations


class WarehouseError(Exception):
    """A statement of a script failed; everything the script's transaction did was rolled back.

    ``statement_number`` is 1-based within the script; ``statement`` is a short one-line text of it.
    """

    def __init__(self, statement_number: int, statement: str, message: str) -> None:
        self.statement_number = statement_number
        self.statement = statement
        self.message = message
        super().__init__(f"statement {statement_number} ({statement}): {message}")


class RedshiftRuleError(Exception):
    """The local warehouse refused a statement the way Redshift would (message shaped like Redshift's)."""


NOT_SUPPORTED = "not supported by the local warehouse"


class NotSupportedLocally(RedshiftRuleError):
    """Redshift SQL the local warehouse cannot run with Redshift's result, refused rather than answered wrongly."""

    def __init__(self, construct: str) -> None:
        self.construct = construct
        super().__init__(f"{NOT_SUPPORTED}: {construct}")
