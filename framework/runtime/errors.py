"""Errors a connector reports as a failed run (rather than a crash): their messages are safe to show."""

from __future__ import annotations


class ConnectorError(Exception):
    """A fetch or landing that failed; the message names what failed with every secret masked."""
