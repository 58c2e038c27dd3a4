"""`onboard query`'s table output never cuts a number, however narrow the terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal

import pytest
from rich.console import Console

from framework import cli

EXPECTED = """\
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓
┃ customer_name     ┃ description       ┃    total_amount ┃                 big ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩
│ Alexandra         │ a very long       │ 123456789012.34 │ 9876543210123456789 │
│ Konstantinopoulou │ description of    │                 │                     │
│ -Smith            │ the customer and  │                 │                     │
│                   │ their orders over │                 │                     │
│                   │ the years         │                 │                     │
│                   │                   │               1 │                     │
└───────────────────┴───────────────────┴─────────────────┴─────────────────────┘
(2 rows)
"""


def test_numbers_keep_every_digit_at_80_columns(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buffer, width=80, highlight=False, soft_wrap=True))
    cli.print_rows(["customer_name", "description", "total_amount", "big"], [
        ("Alexandra Konstantinopoulou-Smith", "a very long description of the customer and their orders over the "
         "years", Decimal("123456789012.34"), 9876543210123456789),
        (None, None, Decimal(1), None),
    ], "table")
    assert buffer.getvalue() == EXPECTED


@pytest.mark.slow
def test_local_spark_starts_without_a_log_level_banner():
    script = "from framework.local.spark import local_spark; print(local_spark().range(3).count())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout == "3\n"
    assert "Setting default log level" not in done.stderr
    assert "setLogLevel" not in done.stderr
