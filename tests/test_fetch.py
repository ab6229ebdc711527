"""Tests for diagnostic.fetch against a scripted loopback HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import socket
import struct
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from diagnostic.fetch import FetchError, Fetched, fetch, mirror_location, read_manifest

FAST = dict(backoff=0.01, progress=False)
JSON_BODY = json.dumps({"données": [1, 2, 3], "nom": "Évreux"}, ensure_ascii=False).encode()
OFFICIAL = "https://www.data.gouv.fr/fr/datasets/r/abc.json"


# --------------------------------------------------------------------------- scripted server


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    content_length: bool = True


@dataclass
class Reset:
    """Close the socket (RST) without sending anything."""


@dataclass
class Sleep:
    seconds: float
    then: Reply = field(default_factory=Reply)


@dataclass
class Truncate:
    announced: int = 1000
    body: bytes = b"{" + b" " * 9


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        srv: ScriptedServer = self.server.scripted
        path = urlsplit(self.path).path
        action = srv.next_action(path, dict(self.headers))
        try:
            self._perform(action)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _perform(self, action):
        if isinstance(action, Reset):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if isinstance(action, Sleep):
            time.sleep(action.seconds)
            action = action.then
        if isinstance(action, Truncate):
            self.send_response(200)
            self.send_header("Content-Length", str(action.announced))
            self.end_headers()
            self.wfile.write(action.body)
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(action.status)
        for k, v in action.headers.items():
            self.send_header(k, v)
        if action.content_length:
            self.send_header("Content-Length", str(len(action.body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(action.body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # client timeouts etc. are expected
        pass


class ScriptedServer:
    """path -> list of actions consumed in order (the last one repeats)."""

    def __init__(self):
        self.scripts: dict[str, list] = {}
        self.counts: dict[str, int] = {}
        self.request_headers: list[dict] = []
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.scripted = self
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def script(self, path: str, *actions) -> str:
        with self.lock:
            self.scripts[path] = list(actions)
            self.counts[path] = 0
        return self.base + path

    def count(self, path: str) -> int:
        with self.lock:
            return self.counts.get(path, 0)

    def next_action(self, path: str, headers: dict):
        with self.lock:
            self.request_headers.append(headers)
            self.counts[path] = self.counts.get(path, 0) + 1
            actions = self.scripts.get(path)
            if not actions:
                return Reply(404, b"not found")
            return actions.pop(0) if len(actions) > 1 else actions[0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(2.0)) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_env_mirror(monkeypatch):
    monkeypatch.delenv("DIAGNOSTIC_MIRROR", raising=False)


def assert_no_part(folder: Path):
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    assert leftovers == []


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_xlsx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


# --------------------------------------------------------------------------- 1. plain download + cache


def test_plain_json_download_manifest_and_cache(server, client, tmp_path):
    url = server.script("/data/a.json", Reply(body=JSON_BODY, headers={"Content-Type": "application/json"}))
    dest = tmp_path / "raw" / "src" / "2024" / "a.json"

    res = fetch(url, dest, expect="json", client=client, **FAST)

    assert isinstance(res, Fetched)
    assert res.downloaded is True
    assert dest.read_bytes() == JSON_BODY
    assert res.bytes == len(JSON_BODY) and res.sha256 == sha(JSON_BODY)
    assert res.url == url and res.fetched_from == url
    assert len(res.retrieved_at) == 20 and res.retrieved_at.endswith("Z")
    manifest = read_manifest(dest.parent)
    assert manifest == {
        "a.json": {
            "url": url,
            "fetched_from": url,
            "retrieved_at": res.retrieved_at,
            "bytes": len(JSON_BODY),
            "sha256": sha(JSON_BODY),
        }
    }
    text = (dest.parent / "manifest.json").read_text(encoding="utf-8")
    assert text.startswith('{\n  "a.json": {\n    "bytes"')  # indent 2, sorted keys
    assert server.count("/data/a.json") == 1
    assert_no_part(dest.parent)

    # Second call: served from disk + manifest, no request.
    again = fetch(url, dest, expect="json", client=client, **FAST)
    assert again.downloaded is False
    assert again.sha256 == res.sha256 and again.retrieved_at == res.retrieved_at
    assert server.count("/data/a.json") == 1

    # refresh=True downloads again.
    new_body = b'[{"v": 2}]'
    server.script("/data/a.json", Reply(body=new_body))
    fresh = fetch(url, dest, expect="json", client=client, refresh=True, **FAST)
    assert fresh.downloaded is True
    assert server.count("/data/a.json") == 1
    assert dest.read_bytes() == new_body
    assert read_manifest(dest.parent)["a.json"]["sha256"] == sha(new_body)
    assert_no_part(dest.parent)


def test_user_agent_and_own_client(server, tmp_path):
    url = server.script("/ua.json", Reply(body=b"{}"))
    fetch(url, tmp_path / "ua.json", expect="json", **FAST)  # fetch creates its own client
    ua = {k.lower(): v for k, v in server.request_headers[-1].items()}["user-agent"]
    assert ua.startswith("diagnostic/") and "(+https://github.com/)" in ua


def test_existing_file_without_manifest_is_recorded(server, client, tmp_path):
    dest = tmp_path / "b.json"
    dest.write_bytes(JSON_BODY)
    url = server.script("/b.json", Reply(body=b"{}"))
    res = fetch(url, dest, expect="json", client=client, **FAST)
    assert res.downloaded is False
    assert server.count("/b.json") == 0
    rec = read_manifest(tmp_path)["b.json"]
    assert rec["fetched_from"] == "inconnu (fichier déjà présent)"
    assert rec["sha256"] == sha(JSON_BODY) and rec["bytes"] == len(JSON_BODY)
    assert rec["url"] == url


def test_redirect_followed(server, client, tmp_path):
    server.script("/final.json", Reply(body=JSON_BODY))
    url = server.script("/moved.json", Reply(302, headers={"Location": "/final.json"}))
    res = fetch(url, tmp_path / "m.json", expect="json", client=client, **FAST)
    assert res.sha256 == sha(JSON_BODY)


# --------------------------------------------------------------------------- 2. 5xx retries


def test_503_then_200_succeeds(server, client, tmp_path):
    url = server.script("/r.json", Reply(503, b"busy"), Reply(body=JSON_BODY))
    res = fetch(url, tmp_path / "r.json", expect="json", client=client, **FAST)
    assert res.downloaded and res.sha256 == sha(JSON_BODY)
    assert server.count("/r.json") == 2
    assert_no_part(tmp_path)


def test_persistent_500_gives_up_after_retries(server, client, tmp_path):
    url = server.script("/e.json", Reply(500, b"boom"))
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "e.json", expect="json", client=client, retries=4, **FAST)
    assert ei.value.url == url
    assert url in str(ei.value) and "HTTP 500" in str(ei.value)
    assert str(ei.value).startswith(f"Échec du téléchargement de {url} : ")
    assert server.count("/e.json") == 5
    assert not (tmp_path / "e.json").exists()
    assert read_manifest(tmp_path) == {}
    assert_no_part(tmp_path)


def test_total_wait_is_bounded(server, client, tmp_path):
    url = server.script("/slow.json", Reply(500))
    t0 = time.monotonic()
    with pytest.raises(FetchError):
        fetch(url, tmp_path / "s.json", expect="json", client=client,
              retries=10, backoff=10, max_wait=0.05, progress=False)
    assert time.monotonic() - t0 < 2
    assert server.count("/slow.json") == 2  # one retry, then the sleep budget is spent


# --------------------------------------------------------------------------- 3. 429 + Retry-After


def test_429_retry_after_is_honoured(server, client, tmp_path):
    url = server.script("/t.json", Reply(429, headers={"Retry-After": "1"}), Reply(body=JSON_BODY))
    t0 = time.monotonic()
    res = fetch(url, tmp_path / "t.json", expect="json", client=client, **FAST)
    assert time.monotonic() - t0 >= 0.95
    assert res.downloaded and server.count("/t.json") == 2


def test_retry_after_capped_by_max_wait(server, client, tmp_path):
    url = server.script("/c.json", Reply(503, headers={"Retry-After": "3600"}), Reply(body=JSON_BODY))
    t0 = time.monotonic()
    fetch(url, tmp_path / "c.json", expect="json", client=client, max_wait=0.1, **FAST)
    assert time.monotonic() - t0 < 2


# --------------------------------------------------------------------------- 4./5. transport errors


def test_connection_reset_then_200(server, client, tmp_path):
    url = server.script("/reset.json", Reset(), Reply(body=JSON_BODY))
    res = fetch(url, tmp_path / "reset.json", expect="json", client=client, **FAST)
    assert res.downloaded and (tmp_path / "reset.json").read_bytes() == JSON_BODY
    assert server.count("/reset.json") == 2
    assert_no_part(tmp_path)


def test_read_timeout_retried_then_error(server, tmp_path):
    url = server.script("/sleepy.json", Sleep(0.6, Reply(body=JSON_BODY)))
    with httpx.Client(timeout=httpx.Timeout(2.0, read=0.15)) as c:
        with pytest.raises(FetchError) as ei:
            fetch(url, tmp_path / "z.json", expect="json", client=c, retries=2, **FAST)
    assert "délai de lecture" in ei.value.cause
    assert server.count("/sleepy.json") == 3
    assert not (tmp_path / "z.json").exists()
    assert_no_part(tmp_path)


# --------------------------------------------------------------------------- 6. truncated body


def test_truncated_then_complete(server, client, tmp_path):
    url = server.script("/tr.json", Truncate(), Reply(body=JSON_BODY))
    res = fetch(url, tmp_path / "tr.json", expect="json", client=client, **FAST)
    assert res.sha256 == sha(JSON_BODY)
    assert server.count("/tr.json") == 2
    assert_no_part(tmp_path)


def test_always_truncated_keeps_previous_file(server, client, tmp_path):
    dest = tmp_path / "keep.json"
    url = server.script("/keep.json", Reply(body=JSON_BODY))
    first = fetch(url, dest, expect="json", client=client, **FAST)
    old_manifest = read_manifest(tmp_path)

    server.script("/keep.json", Truncate())
    with pytest.raises(FetchError) as ei:
        fetch(url, dest, expect="json", client=client, refresh=True, retries=2, **FAST)
    assert "réponse tronquée : 10 octets reçus sur 1000 annoncés" in ei.value.cause
    assert server.count("/keep.json") == 3
    assert dest.read_bytes() == JSON_BODY
    assert read_manifest(tmp_path) == old_manifest
    assert read_manifest(tmp_path)["keep.json"]["sha256"] == first.sha256
    assert_no_part(tmp_path)


# --------------------------------------------------------------------------- 7./8. validation


@pytest.mark.parametrize("expect", ["xlsx", "json", "geojson", "csv"])
def test_html_page_rejected_previous_file_kept(server, client, tmp_path, expect):
    dest = tmp_path / f"f.{expect}"
    good = {
        "xlsx": make_xlsx_like(),
        "json": b'{"a": 1}',
        "geojson": b'{"type": "FeatureCollection", "features": []}',
        "csv": b"code;nom\n27229;\xc3\x89vreux\n",
    }[expect]
    url = server.script("/f", Reply(body=good))
    fetch(url, dest, expect=expect, client=client, **FAST)
    old_manifest = read_manifest(tmp_path)

    html = b"\xef\xbb\xbf\n  <!DOCTYPE HTML><html><body>Maintenance</body></html>"
    server.script("/f", Reply(body=html, headers={"Content-Type": "text/html"}))
    with pytest.raises(FetchError) as ei:
        fetch(url, dest, expect=expect, client=client, refresh=True, **FAST)
    assert "page HTML" in str(ei.value) and expect in ei.value.cause
    assert server.count("/f") == 1  # validation failures are not retried
    assert dest.read_bytes() == good
    assert read_manifest(tmp_path) == old_manifest
    assert_no_part(tmp_path)


def test_corrupt_zip_rejected_for_xlsx(server, client, tmp_path):
    url = server.script("/bad.xlsx", Reply(body=b"PK\x03\x04" + b"garbage" * 100))
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "bad.xlsx", expect="xlsx", client=client, **FAST)
    assert "xlsx" in ei.value.cause
    assert server.count("/bad.xlsx") == 1
    assert not (tmp_path / "bad.xlsx").exists()
    assert_no_part(tmp_path)


def test_valid_xlsx_and_zip_accepted(server, client, tmp_path):
    body = make_xlsx_like()
    url = server.script("/ok.xlsx", Reply(body=body))
    assert fetch(url, tmp_path / "ok.xlsx", expect="xlsx", client=client, **FAST).sha256 == sha(body)
    assert fetch(url, tmp_path / "ok.zip", expect="zip", client=client, **FAST).bytes == len(body)


def test_invalid_json_rejected(server, client, tmp_path):
    url = server.script("/broken.json", Reply(body=b'{"a": '))
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "broken.json", expect="json", client=client, **FAST)
    assert "JSON invalide" in ei.value.cause
    assert_no_part(tmp_path)


def test_unknown_expect_rejected(tmp_path):
    with pytest.raises(ValueError):
        fetch("https://example.org/x", tmp_path / "x", expect="pdf", progress=False)


# --------------------------------------------------------------------------- 9./10. 404, size limit


def test_404_not_retried(server, client, tmp_path):
    url = server.base + "/missing.json"
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "m.json", expect="json", client=client, **FAST)
    assert ei.value.cause == "fichier introuvable (HTTP 404)"
    assert server.count("/missing.json") == 1
    assert_no_part(tmp_path)


@pytest.mark.parametrize("content_length", [True, False])
def test_max_bytes_exceeded(server, client, tmp_path, content_length):
    body = b"[" + b"1," * 5000 + b"1]"
    url = server.script("/big.json", Reply(body=body, content_length=content_length))
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "big.json", expect="json", client=client, max_bytes=1000, **FAST)
    assert ei.value.cause == "taille maximale dépassée (1000 octets)"
    assert server.count("/big.json") == 1
    assert not (tmp_path / "big.json").exists()
    assert_no_part(tmp_path)


def test_body_without_content_length_ok(server, client, tmp_path):
    url = server.script("/nolen.json", Reply(body=JSON_BODY, content_length=False))
    assert fetch(url, tmp_path / "n.json", expect="json", client=client, **FAST).bytes == len(JSON_BODY)


# --------------------------------------------------------------------------- 11. mirrors


def test_mirror_location_mapping():
    assert mirror_location("https://unpkg.com/a/b.json?x=1", "/m") == "/m/unpkg.com/a/b.json"
    assert (
        mirror_location("https://unpkg.com/a/b%20c.json?x=1", "http://127.0.0.1:8765")
        == "http://127.0.0.1:8765/unpkg.com/a/b%20c.json"
    )
    assert (
        mirror_location("https://h.fr/p/x.json", "http://127.0.0.1:8765/")
        == "http://127.0.0.1:8765/h.fr/p/x.json"
    )
    assert mirror_location("https://h.fr/a%20b.csv", "/m") == "/m/h.fr/a b.csv"
    assert mirror_location("https://h.fr/x", None) == "https://h.fr/x"
    assert mirror_location("https://h.fr/x", "") == "https://h.fr/x"
    with pytest.raises(ValueError):
        mirror_location("https://h.fr/a/../../etc/passwd", "/m")


def test_local_folder_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    src = mirror / "unpkg.com" / "pkg" / "b.json"
    src.parent.mkdir(parents=True)
    src.write_bytes(JSON_BODY)
    dest = tmp_path / "raw" / "b.json"
    url = "https://unpkg.com/pkg/b.json?v=3"

    res = fetch(url, dest, expect="json", mirror=str(mirror), **FAST)
    assert res.downloaded and dest.read_bytes() == JSON_BODY
    assert res.url == url and res.fetched_from == str(src)
    rec = read_manifest(dest.parent)["b.json"]
    assert rec["url"] == url and rec["fetched_from"] == str(src) and rec["sha256"] == sha(JSON_BODY)
    assert_no_part(dest.parent)


def test_local_mirror_missing_file(tmp_path):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(FetchError) as ei:
        fetch("https://unpkg.com/nope.json", tmp_path / "out" / "nope.json", expect="json",
              mirror=str(tmp_path / "mirror"), **FAST)
    assert "fichier absent du miroir" in ei.value.cause
    assert str(tmp_path / "mirror" / "unpkg.com" / "nope.json") in ei.value.cause
    assert not (tmp_path / "out" / "nope.json").exists()
    assert_no_part(tmp_path / "out")


def test_local_mirror_from_env_and_validation(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "h.fr").mkdir(parents=True)
    (mirror / "h.fr" / "page.json").write_bytes(b"<html><body>oops</body></html>")
    monkeypatch.setenv("DIAGNOSTIC_MIRROR", str(mirror))
    with pytest.raises(FetchError) as ei:
        fetch("https://h.fr/page.json", tmp_path / "page.json", expect="json", **FAST)
    assert "page HTML" in ei.value.cause
    assert_no_part(tmp_path)


def test_http_mirror_via_loopback(server, client, tmp_path):
    server.script("/www.data.gouv.fr/fr/datasets/r/abc.json", Reply(body=JSON_BODY))
    res = fetch(OFFICIAL + "?format=json", tmp_path / "abc.json", expect="json", client=client,
                mirror=server.base, **FAST)
    assert res.url == OFFICIAL + "?format=json"
    assert res.fetched_from == server.base + "/www.data.gouv.fr/fr/datasets/r/abc.json"
    assert read_manifest(tmp_path)["abc.json"]["fetched_from"] == res.fetched_from


# --------------------------------------------------------------------------- 12. no network


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_mentions_mirror(client, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/x.json"
    with pytest.raises(FetchError) as ei:
        fetch(url, tmp_path / "x.json", expect="json", client=client, retries=1, **FAST)
    msg = str(ei.value)
    assert "MIRROR" in msg and "DIAGNOSTIC_MIRROR" in msg and "pas d'accès réseau" in msg
    assert url in msg
    assert_no_part(tmp_path)


# --------------------------------------------------------------------------- interruption, misc


class _ExplodingStream(httpx.SyncByteStream):
    def __iter__(self):
        yield b'{"partial": '
        raise KeyboardInterrupt


def test_keyboard_interrupt_cleans_temp_and_keeps_previous(tmp_path):
    dest = tmp_path / "k.json"
    dest.write_bytes(b"{}")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=_ExplodingStream()))
    with httpx.Client(transport=transport) as c:
        with pytest.raises(KeyboardInterrupt):
            fetch("https://example.org/k.json", dest, expect="json", client=c, refresh=True, **FAST)
    assert dest.read_bytes() == b"{}"
    assert_no_part(tmp_path)


def test_fetch_error_message_and_pickle():
    e = FetchError("https://x.fr/a", "fichier introuvable (HTTP 404)")
    assert str(e) == "Échec du téléchargement de https://x.fr/a : fichier introuvable (HTTP 404)"
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.url, e2.cause, str(e2)) == (e.url, e.cause, str(e))
