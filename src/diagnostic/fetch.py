"""Download layer: the single place where the project talks HTTP.

Files land in ``dest`` only after a complete, validated download (temp file in the
same folder + atomic ``os.replace``). Each folder keeps a ``manifest.json`` recording
where and when every file was obtained, with its size and SHA-256.
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import json
import os
import random
import re
import socket
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterator
from urllib.parse import unquote, urlsplit

import httpx

__all__ = [
    "EXPECT_KINDS",
    "FetchError",
    "Probe",
    "Fetched",
    "fetch",
    "probe",
    "mirror_location",
    "read_manifest",
]

EXPECT_KINDS = ("json", "geojson", "xlsx", "zip", "csv", "json.gz")
MANIFEST_NAME = "manifest.json"
UNKNOWN_SOURCE = "inconnu (fichier déjà présent)"
OFFLINE_HINT = (
    "hôte injoignable (pas d'accès réseau ?). Hors ligne, utilisez un miroir : "
    "make diagnostic MIRROR=../shared/opendata ou DIAGNOSTIC_MIRROR=<dossier>"
)

_CHUNK = 1 << 16
_PROGRESS_MIN_BYTES = 5_000_000
_JSON_PARSE_MAX_BYTES = 50_000_000
_SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_READ = 1 << 20
_HTML_MARKERS = (b"<!doctype html", b"<html")
def _timeout() -> httpx.Timeout:
    """Connect/read timeouts; `DIAGNOSTIC_HTTP_TIMEOUT` (seconds) shortens them (tests, slow links)."""
    read = float(os.environ.get("DIAGNOSTIC_HTTP_TIMEOUT", 60))
    return httpx.Timeout(connect=min(10.0, read), read=read, write=30, pool=10)

# h11 message when the connection closes before Content-Length bytes arrived.
_INCOMPLETE_RE = re.compile(r"received (?P<got>\d+) bytes, expected (?P<expected>\d+)")

_manifest_lock = threading.Lock()


class FetchError(Exception):
    """Download failure, with a French message meant for analysts."""

    def __init__(self, url: str, cause: str):
        self.url = url
        self.cause = cause
        super().__init__(f"Échec du téléchargement de {url} : {cause}")

    def __reduce__(self):
        return (type(self), (self.url, self.cause))


@dataclass(frozen=True)
class Fetched:
    path: Path  # final file
    url: str  # official URL
    fetched_from: str  # URL or local path actually used (mirror-mapped)
    retrieved_at: str  # ISO 8601 UTC, seconds precision
    bytes: int
    sha256: str
    downloaded: bool  # False when the file was already there and kept


class _Retryable(Exception):
    """Transient failure: the attempt may be repeated."""

    def __init__(self, cause: str, retry_after: float | None = None, unreachable: bool = False, final: bool = False):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.final = final  # not worth another attempt (a host name that does not resolve)


# --------------------------------------------------------------------------- helpers


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        v = version("diagnostic")
    except Exception:
        v = "dev"
    return f"diagnostic/{v} (+https://github.com/)"


def _utc_from_timestamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_http(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def _sha256_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


# --------------------------------------------------------------------------- mirror


def mirror_location(url: str, mirror: str | None) -> str:
    """Map ``https://HOST/PATH?query`` to ``<mirror>/HOST/PATH`` (query and fragment dropped).

    ``mirror`` is a local folder (path segments are url-decoded) or an http(s) base URL
    (path kept url-quoted). ``None`` or ``""`` returns ``url`` unchanged.
    """
    if not mirror:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if not parts.scheme or not host:
        raise ValueError(f"URL absolue attendue : {url!r}")
    path = parts.path or "/"
    if _is_http(mirror):
        return f"{mirror.rstrip('/')}/{host}{path}"
    if mirror.startswith("file://"):
        mirror = mirror[len("file://"):]
    segments = [unquote(s) for s in path.split("/") if s]
    if any(s in (".", "..") or "/" in s or "\x00" in s for s in segments):
        raise ValueError(f"chemin d'URL non utilisable pour un miroir : {url!r}")
    return str(Path(os.path.expanduser(mirror), host, *segments))


# --------------------------------------------------------------------------- manifest


def read_manifest(folder: Path) -> dict:
    """Return the manifest of ``folder`` ({} when absent or unreadable)."""
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_manifest(folder: Path, name: str, record: dict) -> None:
    folder = Path(folder)
    with _manifest_lock:
        manifest = read_manifest(folder)
        manifest[name] = record
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{MANIFEST_NAME}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(manifest, f, sort_keys=True, indent=2, ensure_ascii=False)
                f.write("\n")
            os.replace(tmp, folder / MANIFEST_NAME)
        finally:
            _remove_quietly(tmp)


def _record(url: str, fetched_from: str, retrieved_at: str, size: int, sha: str) -> dict:
    return {
        "url": url,
        "fetched_from": fetched_from,
        "retrieved_at": retrieved_at,
        "bytes": size,
        "sha256": sha,
    }


def _from_record(dest: Path, rec: dict, downloaded: bool) -> Fetched:
    return Fetched(
        path=dest,
        url=rec["url"],
        fetched_from=rec["fetched_from"],
        retrieved_at=rec["retrieved_at"],
        bytes=int(rec["bytes"]),
        sha256=rec["sha256"],
        downloaded=downloaded,
    )


# --------------------------------------------------------------------------- validation


def _validate(path: Path, expect: str, url: str, json_keys: tuple[str, ...] = ()) -> None:
    """Sniff and check the downloaded file; raise FetchError (never retried). ``json_keys``: top-level keys a
    JSON object must hold (json, json.gz)."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        raise FetchError(url, f"fichier vide (un fichier {expect} était attendu)")
    start = head[len(_BOM):] if head.startswith(_BOM) else head
    start = start.lstrip()
    if start[:32].lower().startswith(_HTML_MARKERS):
        raise FetchError(url, f"le serveur a renvoyé une page HTML au lieu d'un fichier {expect}")

    if expect in ("xlsx", "zip"):
        if not head.startswith(_ZIP_MAGIC):
            raise FetchError(url, f"fichier {expect} invalide (signature ZIP absente)")
        try:
            with zipfile.ZipFile(path) as zf:
                zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise FetchError(url, f"fichier {expect} corrompu (archive ZIP illisible : {e})") from None
    elif expect in ("json", "geojson"):
        if not start[:1] in (b"{", b"["):
            raise FetchError(url, f"fichier {expect} invalide (ne commence ni par « {{ » ni par « [ »)")
        if path.stat().st_size < _JSON_PARSE_MAX_BYTES:
            try:
                with open(path, "rb") as f:
                    data = json.load(f)
            except (ValueError, UnicodeDecodeError) as e:
                raise FetchError(url, f"JSON invalide : {e}") from None
            if expect == "geojson" and not (isinstance(data, dict) and "type" in data):
                raise FetchError(url, "GeoJSON invalide : objet sans clé « type »")
            _require_keys(url, expect, set(data) if isinstance(data, dict) else set(), json_keys)
    elif expect == "json.gz" and head.startswith(_GZIP_MAGIC):
        # the format is detected by its signature: a gzip file is read in full as gzipped JSON; a file without it
        # (FINESS: the `;` extraction the same parser reads) is left, once known not to be HTML, to the `check`
        _validate_gzip_json(path, url, json_keys)


def _require_keys(url: str, expect: str, found: set, json_keys: tuple[str, ...]) -> None:
    missing = [k for k in json_keys if k not in found]
    if missing:
        raise FetchError(url, f"fichier {expect} sans la ou les clés attendues : {', '.join(missing)} (clés trouvées : "
                              f"{', '.join(sorted(found)[:12]) or 'aucune'})")


def _validate_gzip_json(path: Path, url: str, json_keys: tuple[str, ...]) -> None:
    """The whole gzip stream is read (a truncated or corrupt archive fails its length or CRC check), its content
    must start as JSON, and hold the keys ``json_keys``: parsed in full when small, else each key looked for as
    ``"key":`` in the stream (the parser's own check reads the structure afterwards)."""
    pattern = re.compile(rb'"(' + b"|".join(re.escape(k.encode()) for k in json_keys) + rb')"\s*:') if json_keys else None
    keep = max((len(k) for k in json_keys), default=0) + 64
    first, tail, size, found, small = None, b"", 0, set(), bytearray()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(_GZIP_READ):
                if first is None:
                    stripped = chunk.lstrip(_BOM + b" \t\r\n")
                    first = stripped[:1] or None
                    if first is not None and first not in (b"{", b"["):
                        raise FetchError(url, "fichier json.gz invalide : le contenu décompressé n'est pas du JSON "
                                              f"(commence par {stripped[:40]!r})")
                size += len(chunk)
                if size < _JSON_PARSE_MAX_BYTES:
                    small += chunk
                if pattern is not None:
                    buf = tail + chunk
                    found.update(m.group(1).decode() for m in pattern.finditer(buf))
                    tail = buf[-keep:]
    except (OSError, EOFError, zlib.error) as e:
        raise FetchError(url, f"archive gzip corrompue ou tronquée : {e}") from None
    if first is None:
        raise FetchError(url, "fichier json.gz invalide : archive vide une fois décompressée")
    if size < _JSON_PARSE_MAX_BYTES:
        try:
            data = json.loads(bytes(small).decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as e:
            raise FetchError(url, f"JSON compressé invalide : {e}") from None
        found = set(data) if isinstance(data, dict) else set()
    _require_keys(url, "json.gz", found, json_keys)


# --------------------------------------------------------------------------- transfer


class _Sink:
    """Write chunks to the temp file while hashing and enforcing max_bytes."""

    def __init__(self, f: BinaryIO, url: str, max_bytes: int, advance: Callable[[int], None]):
        self.f = f
        self.url = url
        self.max_bytes = max_bytes
        self.advance = advance
        self.h = hashlib.sha256()
        self.size = 0

    def write_all(self, chunks: Iterator[bytes]) -> None:
        for chunk in chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise FetchError(self.url, f"taille maximale dépassée ({self.max_bytes} octets)")
            self.f.write(chunk)
            self.h.update(chunk)
            self.advance(len(chunk))


class _Progress:
    """Transient rich progress bar, or a no-op."""

    def __init__(self, enabled: bool, label: str, total: int | None):
        self._progress = None
        self._task = None
        if not (enabled and _total_is_big(total) and _stderr_is_tty()):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _total_is_big(total: int | None) -> bool:
    return total is None or total > _PROGRESS_MIN_BYTES


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _parse_retry_after(value: str | None, max_wait: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), max_wait)


def _copy_local(source: str, tmp: Path, url: str, max_bytes: int, progress: bool) -> tuple[int, str]:
    src = Path(source)
    if not src.is_file():
        raise FetchError(url, f"fichier absent du miroir {source}")
    bar = _Progress(progress, src.name, src.stat().st_size)
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            sink = _Sink(fout, url, max_bytes, bar.advance)
            sink.write_all(iter(lambda: fin.read(1 << 20), b""))
    except OSError as e:
        raise FetchError(url, f"lecture du miroir impossible ({source}) : {e}") from None
    finally:
        bar.close()
    return sink.size, sink.h.hexdigest()


def _http_once(
    client: httpx.Client,
    source: str,
    tmp: Path,
    url: str,
    max_bytes: int,
    max_wait: float,
    progress: bool,
    headers: dict | None,
) -> tuple[int, str]:
    """One GET attempt into ``tmp``. Raise _Retryable or FetchError."""
    try:
        with client.stream("GET", source, headers=headers, follow_redirects=True) as r:
            status = r.status_code
            if status == 429 or status >= 500:
                wait = None
                if status in (429, 503):
                    wait = _parse_retry_after(r.headers.get("Retry-After"), max_wait)
                label = "trop de requêtes" if status == 429 else "erreur du serveur"
                raise _Retryable(f"{label} (HTTP {status})", retry_after=wait)
            if status == 404 or status == 410:
                raise FetchError(url, f"fichier introuvable (HTTP {status})")
            if status in (401, 403):
                raise FetchError(url, f"accès refusé par le serveur (HTTP {status})")
            if not 200 <= status < 300:
                raise FetchError(url, f"réponse inattendue du serveur (HTTP {status})")

            announced: int | None
            try:
                announced = int(r.headers["Content-Length"])
            except (KeyError, ValueError):
                announced = None
            if announced is not None and announced > max_bytes:
                raise FetchError(url, f"taille maximale dépassée ({max_bytes} octets)")

            name = urlsplit(url).path.rsplit("/", 1)[-1] or url
            bar = _Progress(progress, name, announced)
            try:
                with open(tmp, "wb") as f:
                    sink = _Sink(f, url, max_bytes, bar.advance)
                    sink.write_all(r.iter_bytes(_CHUNK))
            finally:
                bar.close()
            # Content-Length counts bytes on the wire (possibly compressed).
            received = r.num_bytes_downloaded
            if announced is not None and received != announced:
                raise _Retryable(
                    f"réponse tronquée : {received} octets reçus sur {announced} annoncés"
                )
            return sink.size, sink.h.hexdigest()
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as e:
        raise FetchError(url, f"requête impossible : {e}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        if _unresolved(e):
            host = urlsplit(source).hostname or source
            raise _Retryable(f"nom d'hôte introuvable ({host} : {e})", unreachable=True, final=True) from None
        raise _Retryable(f"connexion impossible ({e})", unreachable=True) from None
    except httpx.ReadTimeout:
        raise _Retryable("délai de lecture dépassé") from None
    except httpx.RemoteProtocolError as e:
        m = _INCOMPLETE_RE.search(str(e))
        if m:
            raise _Retryable(
                f"réponse tronquée : {m['got']} octets reçus sur {m['expected']} annoncés"
            ) from None
        raise _Retryable(f"connexion interrompue par le serveur ({e})") from None
    except (httpx.ReadError, httpx.WriteError) as e:
        raise _Retryable(f"connexion interrompue ({e})") from None
    except httpx.TransportError as e:
        raise _Retryable(f"erreur réseau ({type(e).__name__}: {e})") from None
    except httpx.DecodingError as e:
        raise _Retryable(f"contenu compressé illisible ({e})") from None
    except httpx.TooManyRedirects:
        raise FetchError(url, "trop de redirections") from None
    except OSError as e:
        raise FetchError(url, f"écriture impossible sur le disque : {e}") from None


# Host name -> (monotonic time, cause) of a failed name resolution: the other files of that host, in this
# process, fail at once instead of asking the resolver again (without network each lookup may take seconds).
_unresolved_hosts: dict[str, tuple[float, str]] = {}
UNRESOLVED_TTL = 120.0


def _unresolved(exc: BaseException) -> bool:
    """True when a connection error comes from a failed name resolution (socket.gaierror in its chain):
    not a transient error, retrying cannot help."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, socket.gaierror):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@functools.cache
def _ssl_context():
    """httpx's default TLS context (certifi's CA bundle), built once per process: loading the bundle takes
    about 30 ms, and every download makes its own client."""
    return httpx.create_ssl_context()


def _http_download(
    source: str,
    tmp: Path,
    url: str,
    *,
    client: httpx.Client | None,
    has_mirror: bool,
    max_bytes: int,
    retries: int,
    backoff: float,
    max_wait: float,
    progress: bool,
) -> tuple[int, str]:
    own_client = client is None
    if own_client:
        client = httpx.Client(
            timeout=_timeout(),
            follow_redirects=True,
            headers={"User-Agent": _user_agent()},
            verify=_ssl_context(),
        )
    headers = None
    if not client.headers.get("User-Agent", "").startswith("diagnostic/"):
        headers = {"User-Agent": _user_agent()}
    slept = 0.0
    attempt = 0
    host = urlsplit(source).hostname or ""
    try:
        while True:
            known = _unresolved_hosts.get(host)
            if known and time.monotonic() - known[0] < UNRESOLVED_TTL:
                failure = _Retryable(known[1] + " (déjà constaté, pas de nouvel essai)", unreachable=True, final=True)
                break
            try:
                return _http_once(client, source, tmp, url, max_bytes, max_wait, progress, headers)
            except _Retryable as e:
                failure = e
            if failure.final:
                _unresolved_hosts[host] = (time.monotonic(), failure.cause)
                break
            remaining = max_wait - slept
            if attempt >= retries or remaining <= 0:
                break
            if failure.retry_after is not None:
                delay = failure.retry_after
            else:
                base = backoff * (2**attempt)
                delay = base + random.uniform(0, base * 0.1)
            delay = min(delay, remaining)
            time.sleep(delay)
            slept += delay
            attempt += 1
    finally:
        if own_client:
            client.close()

    tries = attempt + 1
    suffix = f" ({tries} tentative{'s' if tries > 1 else ''})"
    if failure.unreachable:
        if has_mirror:
            cause = f"miroir injoignable ({source}) : {failure.cause}{suffix}"
        else:
            cause = f"{OFFLINE_HINT} — {failure.cause}{suffix}"
    else:
        cause = failure.cause + suffix
        if has_mirror:
            cause += f" via {source}"
    raise FetchError(url, cause)


# --------------------------------------------------------------------------- public entry point


def fetch(
    url: str,
    dest: Path,
    *,
    expect: str,
    refresh: bool = False,
    mirror: str | None = None,
    max_bytes: int = 500_000_000,
    client: httpx.Client | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    max_wait: float = 60.0,
    progress: bool = True,
    check: "Callable[[Path], None] | None" = None,
    tmp_dir: Path | None = None,
    json_keys: tuple[str, ...] = (),
) -> Fetched:
    """Download ``url`` to ``dest`` (validated as ``expect``) and record it in the manifest.

    ``check`` (optional) is called on the downloaded temporary file before it replaces ``dest``: any
    exception it raises refuses the file (FetchError naming the URL), so a file whose content changed
    format never replaces a good one. ``tmp_dir`` (default: beside ``dest``) holds the partial download;
    its name carries the process id, so `clean_stale_parts` can remove what a killed process left.
    ``json_keys``: top-level keys the JSON (``json``, or gzipped ``json.gz``) must hold.

    An existing ``dest`` is kept unless ``refresh``. ``mirror`` (default: env
    ``DIAGNOSTIC_MIRROR``) redirects the download to a local folder or an http(s) base.
    Raise FetchError on failure; ``dest`` is then left untouched.
    """
    if expect not in EXPECT_KINDS:
        raise ValueError(f"expect doit valoir l'un de {EXPECT_KINDS}, pas {expect!r}")
    dest = Path(dest)
    if mirror is None:
        mirror = os.environ.get("DIAGNOSTIC_MIRROR")
    mirror = mirror or None
    folder = dest.parent

    if dest.is_file() and not refresh:
        rec = read_manifest(folder).get(dest.name)
        if isinstance(rec, dict) and _record_ok(rec):
            # The record says what the file must be: a file that no longer matches it is altered, and is
            # never recorded as it is now (`integrite` checks it and heals it before it is parsed).
            return _from_record(dest, rec, downloaded=False)
        size, sha = _sha256_file(dest)
        mtime = _utc_from_timestamp(dest.stat().st_mtime)
        rec = _record(url, UNKNOWN_SOURCE, mtime, size, sha)
        update_manifest(folder, dest.name, rec)
        return _from_record(dest, rec, downloaded=False)

    source = mirror_location(url, mirror)
    folder.mkdir(parents=True, exist_ok=True)
    tmp_folder = Path(tmp_dir) if tmp_dir else folder
    tmp_folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_folder, prefix=f".{dest.name}.{os.getpid()}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if _is_http(source):
            size, sha = _http_download(
                source,
                tmp,
                url,
                client=client,
                has_mirror=mirror is not None,
                max_bytes=max_bytes,
                retries=max(0, retries),
                backoff=backoff,
                max_wait=max_wait,
                progress=progress,
            )
        else:
            size, sha = _copy_local(source, tmp, url, max_bytes, progress)
        _validate(tmp, expect, url, tuple(json_keys))
        if check is not None:
            try:
                check(tmp)
            except Exception as exc:  # the parser's own French message names what is wrong
                raise FetchError(url, f"contenu refusé, le fichier précédent est conservé : {exc}") from exc
        now = int(time.time())
        retrieved_at = _utc_from_timestamp(now)
        os.utime(tmp, (now, now))  # the file's mtime is its retrieval time, as the manifest says
        os.replace(tmp, dest)
    finally:
        _remove_quietly(tmp)

    rec = _record(url, source, retrieved_at, size, sha)
    update_manifest(folder, dest.name, rec)
    return _from_record(dest, rec, downloaded=True)


def clean_stale_parts(folder: Path) -> list[Path]:
    """Remove partial downloads (``.*.<pid>.*.part``) left in ``folder`` by processes that no longer run."""
    removed = []
    for part in Path(folder).glob(".*.part") if Path(folder).is_dir() else []:
        pid = part.name.split(".")[-3]  # .<name>.<pid>.<random>.part
        if pid.isdigit() and _alive(int(pid)):
            continue
        _remove_quietly(part)
        removed.append(part)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _record_ok(rec: dict) -> bool:
    return all(k in rec for k in ("url", "fetched_from", "retrieved_at", "bytes", "sha256"))


# --------------------------------------------------------------------------- partial reads (format check)


@dataclass(frozen=True)
class Probe:
    """A small part of a remote file, read by `probe` (the format check, `diagnostic verifier`)."""

    url: str  # official URL
    status: int  # HTTP status (a local mirror answers 200/206, or 404 for a missing file)
    data: bytes  # the range asked for when `ranged`, else the first bytes of the whole body
    ranged: bool  # the server honoured the Range request (206), or the mirror is a local folder
    total: int | None  # size of the whole file when known


def probe(url: str, *, start: int = 0, end: int | None = None, suffix: int | None = None, max_bytes: int = 65536,
          mirror: str | None = None, client: httpx.Client | None = None) -> Probe:
    """Read bytes `start`..`end` (or the last `suffix` bytes) of `url` without downloading the file: an HTTP
    `Range` request; a server that ignores it sends the whole body, of which the first `max_bytes` are read
    before the stream is closed (`ranged` False). Same mirror mapping (`DIAGNOSTIC_MIRROR`), timeouts, TLS
    context and User-Agent as `fetch`. An HTTP error is returned as its status; a network failure raises
    FetchError (French cause)."""
    if mirror is None:
        mirror = os.environ.get("DIAGNOSTIC_MIRROR") or None
    source = mirror_location(url, mirror)
    if suffix is not None:
        wanted, span = f"bytes=-{suffix}", suffix
    else:
        end = start + max_bytes - 1 if end is None else end
        wanted, span = f"bytes={start}-{end}", end - start + 1
    if not _is_http(source):
        path = Path(source)
        if not path.is_file():
            return Probe(url, 404, b"", True, None)
        size = path.stat().st_size
        first = max(size - span, 0) if suffix is not None else start
        with open(path, "rb") as f:
            f.seek(first)
            return Probe(url, 206, f.read(span), True, size)
    own = client is None
    client = client or httpx.Client(timeout=_timeout(), follow_redirects=True, headers={"User-Agent": _user_agent()},
                                    verify=_ssl_context())
    try:
        with client.stream("GET", source, headers={"Range": wanted, "Accept-Encoding": "identity"}) as r:
            limit = span if r.status_code == 206 else max_bytes
            chunks, got = [], 0
            for chunk in r.iter_bytes(_CHUNK):
                chunks.append(chunk)
                got += len(chunk)
                if got >= limit:
                    break
            data = b"".join(chunks)[:limit]
            total = None
            if r.status_code == 206:
                m = re.search(r"/(\d+)\s*$", r.headers.get("Content-Range", ""))
                total = int(m.group(1)) if m else None
            elif r.headers.get("Content-Length", "").isdigit():
                total = int(r.headers["Content-Length"])
            return Probe(url, r.status_code, data, r.status_code == 206, total)
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        cause = f"miroir injoignable ({source}) : {e}" if mirror else f"{OFFLINE_HINT} — connexion impossible ({e})"
        raise FetchError(url, cause) from None
    except httpx.TimeoutException:
        raise FetchError(url, "délai de lecture dépassé") from None
    except httpx.TooManyRedirects:
        raise FetchError(url, "trop de redirections") from None
    except (httpx.TransportError, httpx.DecodingError) as e:
        raise FetchError(url, f"erreur réseau ({type(e).__name__}: {e})") from None
    finally:
        if own:
            client.close()
