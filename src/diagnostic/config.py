"""Workspace paths and settings.

The package is the engine; the project folder (the one holding `pipelines/sources.toml`) is the
workspace it runs in. `DIAGNOSTIC_HOME` points to another workspace (the tests use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REGISTRY = Path("pipelines") / "sources.toml"


class DiagnosticError(Exception):
    """An error an analyst can act on; its message is in French and is shown without a traceback."""


def find_root(start: Path | None = None) -> Path:
    env = os.environ.get("DIAGNOSTIC_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / REGISTRY).is_file():
            return folder
    raise DiagnosticError(
        f"Dossier de projet introuvable : aucun {REGISTRY} dans {here} ni ses parents. "
        "Lancez la commande depuis le dossier du projet ou définissez DIAGNOSTIC_HOME."
    )


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "Workspace":
        return cls(find_root(start))

    @property
    def registry(self) -> Path:
        return self.root / REGISTRY

    @property
    def settings(self) -> Path:
        """Project settings an analyst may change (secret statistique thresholds)."""
        return self.root / "pipelines" / "diagnostic.toml"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def warehouse(self) -> Path:
        return self.processed / "diagnostic.duckdb"

    @property
    def territoires(self) -> Path:
        return self.root / "data" / "territoires"

    @property
    def reports(self) -> Path:
        return self.root / "reports"


def mirror() -> str | None:
    """The offline mirror (`DIAGNOSTIC_MIRROR`), or None."""
    return os.environ.get("DIAGNOSTIC_MIRROR") or None
