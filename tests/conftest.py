"""Shared fixtures. No test reaches the internet: the real open-data mirror `../shared/opendata` is
served from a loopback HTTP server, so the real download code runs."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
OPENDATA = Path(os.environ.get("DIAGNOSTIC_TEST_OPENDATA", PROJECT.parent / "shared" / "opendata"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DECOUPAGE = OPENDATA / "unpkg.com" / "@etalab" / "decoupage-administratif@6.0.0" / "data"
APL_WORKBOOK = (
    OPENDATA / "data.drees.solidarites-sante.gouv.fr" / "api" / "explore" / "v2.1" / "catalog" / "datasets"
    / "530_l-accessibilite-potentielle-localisee-apl" / "attachments"
    / "indicateur_d_accessibilite_potentielle_localisee_apl_aux_medecins_generalistes_xlsx"
)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def opendata() -> Path:
    if not (OPENDATA / "MANIFEST.md").is_file():
        pytest.fail(f"Miroir de données ouvertes introuvable : {OPENDATA} (../shared/opendata à côté du projet).")
    return OPENDATA


@pytest.fixture(scope="session")
def mirror_url(opendata):
    """http://127.0.0.1:PORT serving ../shared/opendata."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(opendata)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def one(df, **keys):
    """The single row of `df` whose columns equal `keys` (fails when there are none or several)."""
    mask = True
    for k, v in keys.items():
        mask = mask & df[k].eq(v)
    rows = df[mask]
    assert len(rows) == 1, (keys, rows)
    return rows.iloc[0]


def miroir_lie(dest: Path) -> Path:
    """`dest` holding a link to every file of the offline mirror (OPENDATA) at the same path: a mirror to which
    a test adds files without touching the shared one."""
    for src in OPENDATA.rglob("*"):
        if src.is_file():
            target = dest / src.relative_to(OPENDATA)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src.resolve(), target)
    return dest


def au_registre(miroir: Path, source: str, fichier: str) -> Path:
    """The path of the registry's URL of `fichier` (of `source`'s latest vintage) in the mirror `miroir`, its
    folder created."""
    from diagnostic.fetch import mirror_location
    from diagnostic.registry import load_registry

    url = load_registry(PROJECT / "pipelines" / "sources.toml")[source].files()[fichier]
    path = Path(mirror_location(url, str(miroir)))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def new_workspace(root: Path) -> Path:
    """A project folder with the registry and the perimeters, empty data/ and reports/."""
    (root / "pipelines").mkdir(parents=True)
    shutil.copy(PROJECT / "pipelines" / "sources.toml", root / "pipelines" / "sources.toml")
    shutil.copytree(PROJECT / "data" / "territoires", root / "data" / "territoires")
    return root


def projet_complet(ws: Path) -> Path:
    """A project folder at `ws` with the whole `pipelines/` (registry and settings) and the perimeters, empty
    data/: what a test that runs the pipeline on its own mirror starts from."""
    (ws / "data").mkdir(parents=True)
    shutil.copytree(PROJECT / "pipelines", ws / "pipelines")
    shutil.copytree(PROJECT / "data" / "territoires", ws / "data" / "territoires")
    return ws


def cli_env(workspace: Path, mirror: str | None = None, **extra: str) -> dict:
    return {**os.environ, "DIAGNOSTIC_HOME": str(workspace), "DIAGNOSTIC_MIRROR": mirror or "", "COLUMNS": "200", **extra}


def run_cli(workspace: Path, *args: str, mirror: str | None = None, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    env = cli_env(workspace, mirror, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "diagnostic.cli", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"diagnostic {' '.join(args)} a échoué ({proc.returncode}) :\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory, mirror_url) -> Path:
    """A workspace where the CPTS Centre Saône-et-Loire diagnostic ran cold, through the loopback mirror."""
    ws = new_workspace(tmp_path_factory.mktemp("workspace"))
    run_cli(ws, "run", "cpts-centre-saone-et-loire", mirror=mirror_url)
    return ws


@pytest.fixture
def copied_workspace(tmp_path, built_workspace) -> Path:
    """A workspace holding good raw files and a built warehouse, copied from the session's cold run.
    Hard links: raw files and the warehouse are only ever replaced (os.replace), never modified in place."""
    root = new_workspace(tmp_path / "ws")
    for part in ("raw", "processed"):
        shutil.copytree(built_workspace / "data" / part, root / "data" / part, copy_function=os.link)
    return root


class FaultyMirror:
    """A loopback server that serves the mirror, except for paths given a script of faults.

    `faults[path]` is a list consumed one request at a time; each item is a callable(handler) that answers
    (or breaks the connection). When the list is empty, the mirror's file is served."""

    def __init__(self, root: Path):
        self.root = root
        self.faults: dict[str, list] = {}
        self.requests: list[str] = []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                mirror.requests.append(self.path)
                script = mirror.faults.get(self.path)
                if script:
                    return script.pop(0)(self)
                return super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
