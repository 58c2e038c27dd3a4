"""Load, validate and resolve source definitions, collecting every error in every file at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from framework.project import Project
from framework.spec import checks, prefixes
from framework.spec.errors import SpecError, SpecErrors, choices_hint, format_path
from framework.spec.kinds import SOURCE_KINDS
from framework.spec.models import Column, SharedColumns, SourceBase
from framework.spec.pydantic_errors import convert
from framework.spec.repair import repair_for_checks
from framework.spec.yaml_loader import load_yaml


@dataclass(frozen=True)
class ResolvedColumn:
    """A table column with its warehouse name (folded) and where its value comes from."""

    name: str
    spec_name: str
    source: str
    type: str
    nullable: bool = True
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    description: str | None = None
    format: str | None = None  # date/timestamp: a datetime pattern, epoch_seconds or epoch_millis
    pii: str | None = None  # hash | mask | drop: protected by the Glue job (a dropped column is not in the table)


@dataclass(frozen=True)
class ResolvedSource:
    """A validated source definition plus everything derived from it."""

    file: str
    definition: SourceBase
    columns: tuple[ResolvedColumn, ...]

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def kind(self) -> str:
        return self.definition.type  # type: ignore[attr-defined]

    def column(self, name: str) -> ResolvedColumn | None:
        folded = name.lower()
        return next((c for c in self.columns if c.name == folded), None)


def load_source(path: Path, project: Project) -> ResolvedSource:
    """Validate one source file; raise SpecErrors with every problem found."""
    file = project.display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecErrors([SpecError(file, 1, 1, "", f"cannot read file: {exc}")]) from None
    data, positions = load_yaml(text, file)

    def err(path_: tuple[str | int, ...], message: str, at_key: bool = False) -> SpecError:
        line, col = positions.of_key(path_) if at_key else positions.of_value(path_)
        return SpecError(file, line, col, format_path(path_), message)

    if not isinstance(data, dict) or "source" not in data:
        raise SpecErrors([err((), "expected a mapping with a top-level 'source:' key")])
    errors = [err((k,), f"unknown top-level key '{k}'; valid keys: source", True) for k in data if k != "source"]
    body = data["source"]
    if not isinstance(body, dict):
        raise SpecErrors(errors + [err(("source",), "expected a mapping of the source's settings")])
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in SOURCE_KINDS:
        message = "missing required key 'type'" if kind is None else f"unknown source type '{kind}'"
        where = ("source",) if kind is None else ("source", "type")
        raise SpecErrors(errors + [err(where, f"{message}; {choices_hint(sorted(SOURCE_KINDS))}", kind is None)])

    model_cls = SOURCE_KINDS[kind]
    try:
        definition = model_cls.model_validate(body)
        repair = None
    except ValidationError as exc:
        errors += convert(exc, file, data, model_cls, ("source",), positions)
        repair = repair_for_checks(model_cls, body, exc)
        if repair is None:
            raise SpecErrors(errors) from None
        definition = repair.definition

    columns, problems = _resolve_columns(definition, body if repair is None else repair.body, project, err)
    found = [err(p, m, k) for p, m, k in checks.problems(definition, body, columns, project)]
    if repair is not None:
        problems = [e for e in problems if not repair.covers(e)]
        found = [e for e in found if not repair.covers(e)]
    errors += problems + found
    if errors:
        raise SpecErrors(errors)
    return ResolvedSource(file=file, definition=definition, columns=tuple(columns))


def _resolve_columns(definition: SourceBase, body: dict[str, Any], project: Project, err) -> tuple[
        list[ResolvedColumn], list[SpecError]]:
    schema = definition.schema_
    base = ("source", "schema")
    declared: list[Column] | None = schema.columns
    if schema.columns_from is not None:
        if schema.columns is not None:
            return [], [err(base + ("columns_from",), "give either columns or columns_from, not both", True)]
        if (missing := _missing_shared_schema(schema.columns_from, project)) is not None:
            return [], [err(base + ("columns_from",), missing)]
        declared, problems = _shared_columns(schema.columns_from, project)
        if problems:
            return [], problems or [err(base + ("columns_from",), "no columns")]
    mapping = schema.mapping or {}
    if declared is None:
        if not mapping:
            return [], [err(base, "give the table's columns: `columns`, `columns_from` or `mapping`")]
        declared = [Column(name=target) for target in mapping]
    by_name = {c.name.lower(): c for c in declared}
    errors = [err(base + ("mapping", target), f"mapping target '{target}' is not a declared column; "
                  + choices_hint([c.name for c in declared]), True)
              for target in mapping if target.lower() not in by_name]
    sources = {target.lower(): path for target, path in mapping.items()}
    keys = {k.lower() for k in definition.redshift.load.keys}  # a row without its key cannot be merged
    resolved = [
        ResolvedColumn(
            name=c.name.lower(), spec_name=c.name, source=sources.get(c.name.lower(), c.source or c.name),
            type=c.type, nullable=c.nullable and c.name.lower() not in keys, max_length=c.max_length,
            precision=c.precision, scale=c.scale, description=c.description, format=c.format, pii=c.pii)
        for c in declared
    ]
    return resolved, errors


def _missing_shared_schema(name: str, project: Project) -> str | None:
    """Why `columns_from: name` names no file (reported at the referencing line), or None."""
    if (project.schemas_dir / f"{name}.yaml").is_file():
        return None
    available = sorted(p.stem for p in project.schemas_dir.glob("*.yaml")) if project.schemas_dir.is_dir() else []
    hint = "; " + choices_hint(available) if available else ""
    return f"shared schema '{name}' not found: no {project.display(project.schemas_dir / name)}.yaml{hint}"


def _shared_columns(name: str, project: Project) -> tuple[list[Column] | None, list[SpecError]]:
    """Columns from schemas/<name>.yaml (a mapping with a `columns:` list)."""
    path = project.schemas_dir / f"{name}.yaml"
    file = project.display(path)
    try:
        data, positions = load_yaml(path.read_text(encoding="utf-8"), file)
    except SpecErrors as exc:
        return None, exc.errors
    try:
        return SharedColumns.model_validate(data).columns, []
    except ValidationError as exc:
        return None, convert(exc, file, data, SharedColumns, (), positions)


def load_project(project: Project, paths: list[Path] | None = None) -> list[ResolvedSource]:
    """Validate the given files (default: every file in sources/); raise SpecErrors with all problems."""
    files = paths if paths else project.source_files()
    sources: list[ResolvedSource] = []
    errors: list[SpecError] = []
    for path in files:
        try:
            sources.append(load_source(Path(path), project))
        except SpecErrors as exc:
            errors += exc.errors
    errors += _cross_source_problems(sources)
    errors += _trigger_loops(sources, project)
    if errors:
        raise SpecErrors(errors)
    return sources


def _cross_source_problems(sources: list[ResolvedSource]) -> list[SpecError]:
    errors = []
    names: dict[str, str] = {}
    tables: dict[str, str] = {}
    for src in sources:
        if src.name in names:
            errors.append(SpecError(src.file, 1, 1, "source.name",
                                    f"source name '{src.name}' is also used by {names[src.name]}"))
        names.setdefault(src.name, src.file)
        target = f"{src.definition.redshift.schema_}.{src.definition.redshift.table}".lower()
        if target in tables:
            errors.append(SpecError(src.file, 1, 1, "source.redshift.table",
                                    f"table {target} is also loaded by {tables[target]}"))
        tables.setdefault(target, src.file)
    return errors


PREFIX_PATH = ("source", "config", "prefix")


def _trigger_loops(sources: list[ResolvedSource], project: Project) -> list[SpecError]:
    """A trigger prefix overlapping a folder Onboard writes (any source's) would re-trigger its connector."""
    from framework.runtime.lake import lake_areas

    triggers = []
    for src in sources:
        config = getattr(src.definition, "config", None)
        prefix, bucket = getattr(config, "prefix", None), getattr(config, "bucket", None)
        if isinstance(prefix, str) and isinstance(bucket, str):
            triggers.append(prefixes.Trigger(src.name, bucket, prefix))
    written = [area for src in sources for area in prefixes.written_areas(
        src.name, lake_areas(src.name, src.definition.destination.bucket, src.definition.destination.prefix))]
    by_name = {src.name: src for src in sources}
    errors = []
    for trigger, area in prefixes.trigger_conflicts(triggers, written):
        file = by_name[trigger.source].file
        _, positions = load_yaml((project.root / file).read_text(encoding="utf-8"), file)
        line, col = positions.of_value(PREFIX_PATH)
        errors.append(SpecError(file, line, col, format_path(PREFIX_PATH), prefixes.conflict_message(trigger, area)))
    return errors


__all__ = ["ResolvedColumn", "ResolvedSource", "load_project", "load_source"]
