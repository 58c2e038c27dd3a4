"""Reading ``DataFrame.observe`` metrics without the risk of waiting forever.

``Observation.get`` blocks until Spark's listener delivers the metrics; if Spark optimised the
observed node away (e.g. adaptive execution replacing a plan whose input turned out empty), they
never come. Here the wait is bounded: once the listener bus has drained, the metrics are either
there or will never be, and the caller falls back to counting another way.
"""

from __future__ import annotations

import threading
from typing import Any

from pyspark.sql import Observation, SparkSession

LISTENER_DRAIN_SECONDS = 120


def observed_metrics(spark: SparkSession, observation: Observation) -> dict[str, Any] | None:
    """The observation's metrics after the action that carried it, or None when Spark lost them."""
    found: dict[str, Any] = {}

    def fetch() -> None:
        try:
            found.update(observation.get)
        except Exception:  # noqa: BLE001 - a failed fetch means "no metrics": the caller recounts
            pass

    waiter = threading.Thread(target=fetch, name="onboard-observation", daemon=True)
    waiter.start()
    waiter.join(1.0)
    if waiter.is_alive():
        try:  # every posted event (the query's end among them) handled: metrics are in, or never
            spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(LISTENER_DRAIN_SECONDS * 1000)
            waiter.join(1.0)
        except Exception:  # noqa: BLE001 - no drain API or timeout: wait the same time plainly
            waiter.join(LISTENER_DRAIN_SECONDS)
    return None if waiter.is_alive() else dict(found)
