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
    actually used. If the catalogue cannot be read, the registry's id is used and a warning says so.

    A source whose files are attachments listed in the dataset's metadata (`metadonnees` and `pieces_jointes`
    in the registry, DREES APL) has each file looked up there first (`attachment_urls`)."""
    return _resolved(ws, source, vintage)[0]


def _resolved(ws: Workspace, source: Source, vintage: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(file name -> URL to download, file name -> metadata URL the download URL was found in)."""
    spec = source.vintage(vintage)
    if spec.get("metadonnees") and spec.get("pieces_jointes"):
        return attachment_urls(ws, source, vintage)
    return _odisse_urls(ws, source, vintage), {}


def attachment_urls(ws: Workspace, source: Source, vintage: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Files found in the dataset's metadata (registry `metadonnees`: the record listing its attachments, fetched
    through the download layer and its mirror mapping): each registry key with a pattern in `pieces_jointes`
    takes the one xlsx attachment matching it (`diagnostic.sources.catalogue.urls_des_pieces_jointes`). None or
    several: a warning, and the registry's URL. Metadata that cannot be fetched (offline mirror without it): the
    registry's URLs, said in the log. The file keeps the registry's name on disk; the manifest records the URL
    used and, for a file found in the metadata, `resolved_from` (the metadata URL)."""
    from .registry import local_name
    from .sources import SourceFormatError
    from .sources.catalogue import urls_des_pieces_jointes

    spec, urls = source.vintage(vintage), source.files(vintage)
    registre = dict(spec.get("files", {}))  # registry key (profession) -> URL
    listing = spec["metadonnees"]
    try:
        got = fetch(listing, tmp_folder(ws) / f"metadonnees-{source.id}.json", expect="json", refresh=True,
                    tmp_dir=tmp_folder(ws), **retry_settings())
        choisies, avertissements = urls_des_pieces_jointes(
            json.loads(got.path.read_text(encoding="utf-8-sig")), dict(spec["pieces_jointes"]), registre)
    except FetchError as exc:
        log.debug("Source %s : métadonnées du jeu non lues (%s) ; URL du registre utilisées.", source.id, exc)
        return urls, {}
    except (SourceFormatError, ValueError) as exc:
        log.warning("Source %s : métadonnées du jeu illisibles (%s) ; URL du registre utilisées.", source.id, exc)
        return urls, {}
    for message in avertissements:
        log.warning("Source %s, %s ; URL du registre utilisée.", source.id, message)
    out, origines = dict(urls), {}
    for key, url in choisies.items():
        name = local_name(registre[key])
        if url != registre[key]:
            log.warning("Source %s, %s : pièce jointe %s trouvée dans les métadonnées du jeu (le registre indique %s).",
                        source.id, key, local_name(url), name)
        out[name], origines[name] = url, listing
    return out, origines


def _odisse_urls(ws: Workspace, source: Source, vintage: str | None = None) -> dict[str, str]:
    spec, urls = source.vintage(vintage), source.files(vintage)
    motif, registre = spec.get("motif_id"), spec.get("dataset_id")
    if not (motif and registre):
        return urls
    from .sources import SourceFormatError
    from .sources.catalogue import resoudre_id, url_catalogue

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


def ingest(ws: Workspace, source: Source, vintage: str | None = None, *, refresh: bool = False,
           journal: list | None = None) -> list[Fetched]:
    """Download every file of `source` for `vintage` (latest by default) that is not already there.

    Files already there are first checked against their manifest and healed when altered (`integrite`); the
    events are appended to `journal`. Raises `FetchError` on the first file that cannot be obtained; files
    already fetched stay in place.
    """
    from . import integrite

    folder = raw_folder(ws, source, vintage)
    tmp = tmp_folder(ws)
    clean_stale_parts(tmp)
    with source_lock(ws, source):
        folder.mkdir(parents=True, exist_ok=True)
        if not refresh:  # with --refresh every file is downloaded again anyway
            events = integrite.controler_avant_ingestion(
                folder, source.files(vintage), source_id=source.id, vintage=vintage or source.latest,
                expect=source.format_of(vintage), tmp=tmp, reprises=retry_settings(), root=ws.root,
                check_for=lambda name: functools.partial(_check_download, source, vintage, name=name))
            if journal is not None:
                journal.extend(events)
        missing = refresh or any(not (folder / name).is_file() for name in source.files(vintage))
        urls, origines = _resolved(ws, source, vintage) if missing else (source.files(vintage), {})
        got = []
        for name, url in urls.items():
            done = fetch(
                url,
                folder / name,
                expect=source.format_of(vintage),
                json_keys=source.json_keys(vintage),
                refresh=refresh,
                max_bytes=int(source.vintage(vintage).get("max_octets", DEFAULT_MAX_BYTES)),
                check=functools.partial(_check_download, source, vintage, name=name),
                tmp_dir=tmp,
                **retry_settings(),
            )
            if done.downloaded and name in origines:
                _note_origin(folder, name, origines[name])
            got.append(done)
        return got


def _check_download(source: Source, vintage: str | None, path: Path, *, name: str) -> None:
    """The parser's check of a file just downloaded (the parser, and pandera, are imported only then)."""
    check = file_check(source, vintage)
    if check:
        check(path, name=name)


def _note_origin(folder: Path, name: str, origin: str) -> None:
    """Add to the manifest record of `name` the metadata URL its download URL was found in."""
    from .fetch import update_manifest, read_manifest

    rec = read_manifest(folder).get(name)
    if isinstance(rec, dict):
        update_manifest(folder, name, {**rec, "resolved_from": origin})
