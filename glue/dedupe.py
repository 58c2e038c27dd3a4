"""Collapse rows with equal keys to one: the greatest ``order_by`` wins, then the later input row."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from onboard_glue.read import FILE_COL, ROW_COL, quoted

INPUT_ORDER = (FILE_COL, ROW_COL)


def latest_per_key(rows: DataFrame, keys: Sequence[str], order_by: str | None) -> DataFrame:
    """One row per key, without the input-order columns. Null keys compare equal (group semantics);
    a null ``order_by`` loses to any value.

    A window (one shuffle by key, one sort) measured faster here than ``max(struct(...))`` or
    ``max_by``: Spark 3.5 cannot hash-aggregate struct buffers, so those plan as a SortAggregate that
    sorts on both sides of the shuffle (1M JSONL rows on 2 cores: 2.8 s against 3.1-3.7 s)."""
    rank = ([quoted(order_by).desc_nulls_last()] if order_by else []) + [F.col(name).desc() for name in INPUT_ORDER]
    newest_first = Window.partitionBy(*[quoted(k) for k in keys]).orderBy(*rank)
    return (
        rows.withColumn("__rank", F.row_number().over(newest_first))
        .where(F.col("__rank") == 1)
        .drop("__rank", *INPUT_ORDER)
    )
