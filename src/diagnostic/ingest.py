"""Ingestion jobs: one per source, each downloading the files of one vintage into
`data/raw/<source>/<vintage>/` through the one download layer (`fetch`).

A downloaded file replaces the previous one only after its parser accepted it (`check_file` of the
parser module, when it has one). Partial downloads live in `data/tmp/`, never in `data/raw/`; two
processes ingesting the same source take turns (file lock)."""

from __future__ import annotations

import fcntl
import functools
import importlib
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .config import Workspace
from .fetch import Fetched, FetchError, clean_stale_parts, fetch
from .registry import Source

log = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 500_000_000


def raw_folder(ws: Workspace, source: Source, vintage: str | None = None) -> Path:
    return ws.raw / source.id / (vintage or source.latest)


def tmp_folder(ws: Workspace) -> Path:
    return ws.root / "data" / "tmp"


@contextmanager
def source_lock(ws: Workspace, source: Source):
    folder = ws.raw / source.id
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("Source %s : un autre traitement la télécharge ; attente…", source.id)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def retry_settings() -> dict:
    """Bounded retries: count, first backoff and total waiting time (seconds), overridable by environment."""
    env = os.environ
    return {
        "retries": int(env.get("DIAGNOSTIC_FETCH_RETRIES", 4)),
        "backoff": float(env.get("DIAGNOSTIC_FETCH_BACKOFF", 0.5)),
        "max_wait": float(env.get("DIAGNOSTIC_FETCH_MAX_WAIT", 60)),
    }


def file_check(source: Source, vintage: str | None = None):
    """The parser's check of one downloaded file, or None when the parser has none."""
    module = importlib.import_module(f"diagnostic.sources.{source.parser}")
    check = getattr(module, "check_file", None)
    return functools.partial(check, spec=source.vintage(vintage)) if check else None


def resolved_urls(ws: Workspace, source: Source, vintage: str | None = None) -> dict[str, str]:
    """File name -> URL to download. A source whose dataset id may be provisional (`motif_id` and
    `dataset_id` in the registry, Odissé) has its id checked in the portal's catalogue first: when the
    registry's id is gone, the one id matching the pattern replaces it; the manifest then records the URL
    actually used. If the catalogue cannot be read, the registry's id is used and a warning says so."""
    spec, urls = source.vintage(vintage), source.files(vintage)
    motif, registre = spec.get("motif_id"), spec.get("dataset_id")
    if not (motif and registre):
        return urls
    from .sources import SourceFormatError
    from .sources.odisse import resoudre_id, url_catalogue

    first = urlsplit(next(iter(urls.values())))
    query = url_catalogue(f"{first.scheme}://{first.netloc}", f'startswith(dataset_id, "{motif.lstrip("^")}")')
    try:
        got = fetch(query, tmp_folder(ws) / f"catalogue-{source.id}.json", expect="json", refresh=True,
                    tmp_dir=tmp_folder(ws), **retry_settings())
        dataset_id = resoudre_id(json.loads(got.path.read_text(encoding="utf-8")), motif, registre)
    except (FetchError, SourceFormatError, ValueError) as exc:
        log.warning("Source %s : identifiant du jeu de données non vérifié (%s) ; identifiant du registre utilisé.", source.id, exc)
        return urls
    if dataset_id != registre:
        log.warning("Source %s : le jeu %s n'existe plus au catalogue ; %s utilisé à la place.", source.id, registre, dataset_id)
    return {name: url.replace(registre, dataset_id) for name, url in urls.items()}


def ingest(ws: Workspace, source: Source, vintage: str | None = None, *, refresh: bool = False) -> list[Fetched]:
    """Download every file of `source` for `vintage` (latest by default) that is not already there.

    Raises `FetchError` on the first file that cannot be obtained; files already fetched stay in place.
    """
    folder = raw_folder(ws, source, vintage)
    tmp = tmp_folder(ws)
    clean_stale_parts(tmp)
    check = file_check(source, vintage)
    with source_lock(ws, source):
        folder.mkdir(parents=True, exist_ok=True)
        missing = refresh or any(not (folder / name).is_file() for name in source.files(vintage))
        urls = resolved_urls(ws, source, vintage) if missing else source.files(vintage)
        return [
            fetch(
                url,
                folder / name,
                expect=source.format,
                refresh=refresh,
                max_bytes=int(source.vintage(vintage).get("max_octets", DEFAULT_MAX_BYTES)),
                check=(lambda path, name=name: check(path, name=name)) if check else None,
                tmp_dir=tmp,
                **retry_settings(),
            )
            for name, url in urls.items()
        ]
