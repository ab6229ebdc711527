"""The source registry (`pipelines/sources.toml`): publisher, licence, format and URL per vintage."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .config import DiagnosticError


@dataclass(frozen=True)
class Source:
    id: str
    titre: str
    producteur: str
    licence: str
    page: str
    format: str
    parser: str
    latest: str
    note: str = ""
    vintages: dict = field(default_factory=dict)

    def files(self, vintage: str | None = None) -> dict[str, str]:
        """File name on disk -> official URL, for one vintage (the latest by default)."""
        spec = self.vintage(vintage)
        urls = dict(spec.get("files", {}))
        template = spec.get("template")
        if template:
            urls.update({key: template.format(key=key) for key in spec.get("keys", [])})
        return {local_name(url): url for url in urls.values()}

    def vintage(self, vintage: str | None = None) -> dict:
        vintage = vintage or self.latest
        try:
            return self.vintages[vintage]
        except KeyError:
            raise DiagnosticError(
                f"Millésime {vintage!r} inconnu pour la source {self.id} "
                f"(millésimes du registre : {', '.join(sorted(self.vintages))})."
            ) from None


def local_name(url: str) -> str:
    """The file name a URL is stored under: the last segment of its path."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def load_registry(path: Path) -> dict[str, Source]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DiagnosticError(f"Registre des sources illisible ({path}) : {exc}") from exc
    sources = {}
    for sid, spec in data.items():
        try:
            sources[sid] = Source(id=sid, **spec)
        except TypeError as exc:
            raise DiagnosticError(f"Entrée {sid!r} du registre {path} invalide : {exc}") from exc
    return sources
