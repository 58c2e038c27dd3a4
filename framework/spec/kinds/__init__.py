"""Source kinds: one module per `type`, registered by name."""

from __future__ import annotations

from framework.spec.kinds.rest_api import RestApiSource
from framework.spec.kinds.s3_file import S3FileSource
from framework.spec.models import SourceBase

SOURCE_KINDS: dict[str, type[SourceBase]] = {
    "rest_api": RestApiSource,
    "s3_file": S3FileSource,
}
