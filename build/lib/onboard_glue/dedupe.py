"""Collapse rows with equal keys to one: the greatest ``order_by`` wins, then the later input row."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from onboard_glue.read import FILE_COL, ROW_COL, quoted

INPUT_ORDER = (FILE_COL, ROW_COL)


def latest_per_key(rows: DataFrame, keys: Sequence[str], order_by: str | None) -> DataFrame:
    """One row per key. An aggregate of ``max(struct(rank..., payload...))`` keeps the winner in a
    single shuffle without sorting whole partitions by rank, as a window would. The input-order
    columns are dropped from the result. Null keys compare equal (group semantics); a null
    ``order_by`` loses to any value."""
    rank = ([order_by] if order_by else []) + list(INPUT_ORDER)
    payload = [name for name in rows.columns if name not in keys and name not in INPUT_ORDER]
    winner = F.max(
        F.struct(
            *[quoted(name).alias(f"r{i}") for i, name in enumerate(rank)],
            *[quoted(name).alias(f"p{i}") for i, name in enumerate(payload)],
        )
    ).alias("__winner")
    grouped = rows.groupBy(*[quoted(k) for k in keys]).agg(winner)
    picked = [F.col("__winner").getField(f"p{i}").alias(name) for i, name in enumerate(payload)]
    return grouped.select(*[quoted(k) for k in keys], *picked)
