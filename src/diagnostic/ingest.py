"""Ingestion jobs: one per source, each downloading the files of one vintage into
`data/raw/<source>/<vintage>/` through the one download layer (`fetch`)."""

from __future__ import annotations

from pathlib import Path

from .config import Workspace
from .fetch import Fetched, fetch
from .registry import Source


def raw_folder(ws: Workspace, source: Source, vintage: str | None = None) -> Path:
    return ws.raw / source.id / (vintage or source.latest)


def ingest(ws: Workspace, source: Source, vintage: str | None = None, *, refresh: bool = False) -> list[Fetched]:
    """Download every file of `source` for `vintage` (latest by default) that is not already there.

    Raises `FetchError` on the first file that cannot be obtained; files already fetched stay in place.
    """
    folder = raw_folder(ws, source, vintage)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        fetch(url, folder / name, expect=source.format, refresh=refresh)
        for name, url in source.files(vintage).items()
    ]
