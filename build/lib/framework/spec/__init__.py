"""Source definitions: YAML loading with positions, pydantic models, validation and resolution."""

from framework.spec.errors import SpecError, SpecErrors
from framework.spec.loader import ResolvedColumn, ResolvedSource, load_project, load_source

__all__ = ["ResolvedColumn", "ResolvedSource", "SpecError", "SpecErrors", "load_project", "load_source"]
