"""Where a project's folders are: sources/, schemas/, generated/ and the local state in .onboard/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None = None) -> Project:
        return cls(Path(root or os.getcwd()).resolve())

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    @property
    def datasets_dir(self) -> Path:
        """Curated datasets: one `datasets/<name>.yaml` per SQL view over the sources' tables."""
        return self.root / "datasets"

    @property
    def schemas_dir(self) -> Path:
        return self.root / "schemas"

    @property
    def generated_dir(self) -> Path:
        return self.root / "generated"

    @property
    def state_dir(self) -> Path:
        """Local lake and warehouse; ONBOARD_HOME overrides the default `.onboard/`."""
        override = os.environ.get("ONBOARD_HOME")
        return Path(override).resolve() if override else self.root / ".onboard"

    @property
    def lake_dir(self) -> Path:
        return self.state_dir / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    @property
    def ledger_path(self) -> Path:
        """The local run ledger (incremental state of REST sources)."""
        return self.state_dir / "ledger.sqlite"

    @property
    def secrets_file(self) -> Path:
        """Local values of `${SECRET:name}` references: `{"name": "value"}`; git-ignored."""
        return self.root / ".secrets.json"

    def source_files(self) -> list[Path]:
        if not self.sources_dir.is_dir():
            return []
        return sorted(p for p in self.sources_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())

    def dataset_files(self) -> list[Path]:
        if not self.datasets_dir.is_dir():
            return []
        return sorted(p for p in self.datasets_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())

    def display(self, path: Path) -> str:
        """A path as the user should read it in messages: relative to the project when inside it."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)
