"""Runtime connectors: one class per source `type`, looked up by name."""

from __future__ import annotations

from framework.runtime.connectors.base import Connector
from framework.runtime.connectors.rest_api import RestApiConnector
from framework.runtime.connectors.s3_file import S3FileConnector

CONNECTORS: dict[str, type[Connector]] = {
    "rest_api": RestApiConnector,
    "s3_file": S3FileConnector,
}


def connector_for(config: dict, **kwargs) -> Connector:
    kind = config["type"]
    if kind not in CONNECTORS:
        raise ValueError(f"no connector for type '{kind}'; known: {', '.join(sorted(CONNECTORS))}")
    return CONNECTORS[kind](config, **kwargs)
