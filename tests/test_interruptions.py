"""Interrupted and concurrent runs, with real subprocesses: a process killed during a download or a
build leaves no partial file in data/raw/ and a warehouse holding the previous consistent state; the
next run completes; two runs at once in one folder both succeed."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from conftest import OPENDATA, FaultyMirror, cli_env, run_cli
from test_faults import APL_PATH, apl_file

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def ws(copied_workspace):
    return copied_workspace


def dribble(h):
    """Serve a long body a few bytes at a time, so the client is killed mid-download."""
    h.send_response(200)
    h.send_header("Content-Length", str(10_000_000))
    h.end_headers()
    try:
        h.wfile.write(b"PK\x03\x04")
        for _ in range(600):
            h.wfile.write(b"\0" * 1000)
            h.wfile.flush()
            time.sleep(0.02)
    except OSError:
        pass


def start(ws, *args, mirror):
    return subprocess.Popen([sys.executable, "-m", "diagnostic.cli", *args], cwd=ws, env=cli_env(ws, mirror),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def fingerprint(ws):
    with duckdb.connect(str(ws / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        return con.sql("SELECT valeur FROM meta_build WHERE cle = 'fingerprint'").fetchone()[0]


def test_killed_during_download(ws):
    good = hashlib.sha256(apl_file(ws).read_bytes()).hexdigest()
    with FaultyMirror(OPENDATA) as m:
        m.faults[APL_PATH] = [dribble]
        proc = start(ws, "ingest", "apl_mg", "--refresh", mirror=m.url)
        assert wait_for(lambda: list((ws / "data" / "tmp").glob("*.part")))  # the download is under way
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not [p for p in (ws / "data" / "raw").rglob("*") if p.name.endswith(".part")]
    assert hashlib.sha256(apl_file(ws).read_bytes()).hexdigest() == good
    # the next run cleans the dead process's partial file and completes normally
    with FaultyMirror(OPENDATA) as m:
        run_cli(ws, "ingest", "apl_mg", "--refresh", mirror=m.url)
    assert not list((ws / "data" / "tmp").glob("*.part"))
    assert hashlib.sha256(apl_file(ws).read_bytes()).hexdigest() == good


def test_killed_during_build(ws):
    before = fingerprint(ws)
    with FaultyMirror(OPENDATA) as m:
        proc = start(ws, "build", "--force", mirror=m.url)
        assert wait_for(lambda: list((ws / "data" / "processed").glob(".diagnostic.duckdb.*.tmp")), timeout=60)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # the warehouse still opens and holds the previous consistent state
        assert fingerprint(ws) == before
        with duckdb.connect(str(ws / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
            assert con.sql("SELECT count(*) FROM mart_indicateurs WHERE territoire_type = 'france'").fetchone()[0] > 0
        run_cli(ws, "build", "--force", mirror=m.url)
    assert not list((ws / "data" / "processed").glob(".diagnostic.duckdb.*.tmp*"))
    assert fingerprint(ws) == before  # same inputs, same fingerprint


def test_two_runs_at_once(ws):
    (ws / "data" / "processed" / "diagnostic.duckdb").unlink()  # both must wait for one build
    with FaultyMirror(OPENDATA) as m:
        a = start(ws, "run", "cpts-centre-saone-et-loire", mirror=m.url)
        b = start(ws, "run", "dep:71", mirror=m.url)
        out_a, out_b = a.communicate(timeout=600), b.communicate(timeout=600)
    assert a.returncode == 0, out_a[1]
    assert b.returncode == 0, out_b[1]
    assert "attente" in out_a[1] + out_b[1]  # the second one waited, and said so
    for slug in ("cpts-centre-saone-et-loire", "dep-71"):
        assert (ws / "reports" / slug / "indicateurs.csv").exists()
    assert not list((ws / "reports").glob(".*"))
