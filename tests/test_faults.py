"""Faults during ingestion, against a loopback server that serves the real mirror and breaks on demand.
For each fault the run either recovers by retrying, or fails that source with a French message naming
the URL and the cause, keeps the previous good raw file and the warehouse, and `--strict` exits non-zero.
Retries are bounded (count and time); the fault tests run in seconds."""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import time

import duckdb
import openpyxl
import pytest

from conftest import OPENDATA, FaultyMirror, run_cli

APL_URL = ("https://data.drees.solidarites-sante.gouv.fr/api/explore/v2.1/catalog/datasets/"
           "530_l-accessibilite-potentielle-localisee-apl/attachments/"
           "indicateur_d_accessibilite_potentielle_localisee_apl_aux_medecins_generalistes_xlsx")
APL_PATH = "/" + APL_URL.removeprefix("https://")
FAST = {"DIAGNOSTIC_FETCH_RETRIES": "2", "DIAGNOSTIC_FETCH_BACKOFF": "0.05", "DIAGNOSTIC_FETCH_MAX_WAIT": "5",
        "DIAGNOSTIC_HTTP_TIMEOUT": "1"}


# --- scripted answers ------------------------------------------------------------------------------
def status(code, body=b"", headers=None):
    def answer(h):
        h.send_response(code)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return answer


def reset(h):
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def slow(h):
    time.sleep(2.5)  # longer than DIAGNOSTIC_HTTP_TIMEOUT
    status(200, b"PK\x03\x04 too late")(h)


def truncated(h):
    h.send_response(200)
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b"PK\x03\x04" + b"\0" * 10)
    h.wfile.flush()
    h.connection.shutdown(socket.SHUT_RDWR)
    h.close_connection = True


HTML = b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>"


def renamed_columns_workbook() -> bytes:
    """Hand-made workbook in the DREES APL layout (8 metadata rows, header row 9, units row 10), whose
    APL column was renamed: what a new vintage with a changed format looks like. Invented figures."""
    wb = openpyxl.Workbook()
    for sheet in ("APL 2022", "APL 2023"):
        ws = wb.create_sheet(sheet)
        ws.append([f"Indicateur d'accessibilité potentielle localisée (APL) {sheet[-4:]} (fixture)"])
        for _ in range(7):
            ws.append([])
        ws.append(["Code commune INSEE", "Commune", "APL MG", "APL aux médecins généralistes de moins de 65 ans",
                   "Population standardisée 2021 pour la médecine générale", "Population totale 2021"])
        ws.append([None, None, "unités", "unités", "unités", "unités"])
        ws.append(["71153", "Le Creusot", 9.9, 9.9, 100.0, 100])
    del wb["Sheet"]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ws(copied_workspace):
    return copied_workspace


def apl_file(root):
    return root / "data" / "raw" / "apl_mg" / "2023" / APL_URL.rsplit("/", 1)[-1]


RECOVER = {
    "503 puis succès": [status(503)],
    "500 puis succès": [status(500), status(502)],
    "429 Retry-After puis succès": [status(429, headers={"Retry-After": "1"})],
    "connexion réinitialisée puis succès": [reset],
    "délai de lecture dépassé puis succès": [slow],
    "réponse tronquée puis succès": [truncated],
}


@pytest.mark.parametrize("script", RECOVER.values(), ids=RECOVER.keys())
def test_transient_faults_recovered(ws, script):
    with FaultyMirror(OPENDATA) as m:
        m.faults[APL_PATH] = list(script)
        proc = run_cli(ws, "ingest", "apl_mg", "--refresh", mirror=m.url, env=FAST)
        assert m.requests.count(APL_PATH) == len(script) + 1
    assert "1 téléchargé" in proc.stderr
    assert sha(apl_file(ws)) == sha(OPENDATA / APL_PATH.lstrip("/"))


FAIL = {
    "503 permanent": ([status(503)] * 3, "HTTP 503"),
    "404": ([status(404)], "404"),
    "délai de lecture toujours dépassé": ([slow] * 3, "délai"),
    "réponse toujours tronquée": ([truncated] * 3, "tronquée"),
    "page HTML avec statut 200": ([status(200, HTML, {"Content-Type": "text/html"})], "page HTML"),
    "classeur corrompu": ([status(200, b"PK\x03\x04" + b"garbage" * 100)], "xlsx"),
    "colonnes renommées": ([status(200, renamed_columns_workbook())], "APL aux médecins généralistes"),
}


@pytest.mark.parametrize("script, cause", FAIL.values(), ids=FAIL.keys())
def test_failures_keep_previous_file(ws, script, cause):
    before = sha(apl_file(ws))
    manifest_before = (apl_file(ws).parent / "manifest.json").read_text()
    start = time.monotonic()
    with FaultyMirror(OPENDATA) as m:
        m.faults[APL_PATH] = list(script)
        proc = run_cli(ws, "ingest", "apl_mg", "--refresh", mirror=m.url, env=FAST, check=False)
        assert m.requests.count(APL_PATH) <= 3  # bounded retries
    assert time.monotonic() - start < 30  # bounded in time
    assert proc.returncode == 1
    assert APL_URL in proc.stderr and cause.lower() in proc.stderr.lower(), proc.stderr
    assert "Traceback" not in proc.stderr
    assert sha(apl_file(ws)) == before
    assert (apl_file(ws).parent / "manifest.json").read_text() == manifest_before
    assert not list((ws / "data" / "raw").rglob("*.part"))


def test_run_with_failed_refresh_keeps_figures_and_strict_fails(ws, built_workspace):
    """A raw file lost that cannot be obtained again: the run does not rebuild without its figures, it stops and
    keeps the warehouse (issue 17); only --accepter-perte builds without the source: the report is written from
    the other files, the APL said unavailable, and --strict exits 1."""
    good = (built_workspace / "reports" / "cpts-centre-saone-et-loire" / "indicateurs.csv").read_text()
    warehouse = ws / "data" / "processed" / "diagnostic.duckdb"
    before = sha(warehouse)
    with FaultyMirror(OPENDATA) as m:
        m.faults[APL_PATH] = [status(200, HTML), status(200, HTML)]
        # Only the APL file is asked for again: the others are already held and unchanged.
        apl_file(ws).unlink()
        refused = run_cli(ws, "run", "cpts-centre-saone-et-loire", "--strict", mirror=m.url, env=FAST, check=False)
        assert refused.returncode == 2
        assert "Reconstruction de l'entrepôt refusée" in refused.stderr and "apl_mg" in refused.stderr
        assert "--accepter-perte" in refused.stderr
        assert APL_URL in refused.stderr and "page HTML" in refused.stderr  # why it could not be fetched again
        assert sha(warehouse) == before
        proc = run_cli(ws, "run", "cpts-centre-saone-et-loire", "--strict", "--accepter-perte", mirror=m.url, env=FAST,
                       check=False)
    assert proc.returncode == 1
    assert "Source indisponible (apl_mg)" in proc.stderr and APL_URL in proc.stderr and "page HTML" in proc.stderr
    report = ws / "reports" / "cpts-centre-saone-et-loire"
    assert (report / "diagnostic.html").exists() and (report / "indicateurs.csv").exists()
    csv = (report / "indicateurs.csv").read_text()
    assert "apl_mg" in csv and "non_disponible" in csv
    # the population figures are unchanged
    pop = [line for line in good.splitlines() if ",population," in line]
    assert all(line in csv for line in pop)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM int_commune").fetchone()[0] > 30000


def test_new_vintage_with_renamed_columns_falls_back(ws):
    """The registry lists a newer vintage whose workbook changed format: it is refused, the previous
    vintage's file and figures stay in use, and the run says so."""
    registry = ws / "pipelines" / "sources.toml"
    text = registry.read_text()
    new_url = APL_URL + "_2024"
    text = text.replace('latest = "2023"', 'latest = "2024"', 1)
    text += f'\n[apl_mg.vintages."2024"]\nsheets = ["APL 2022", "APL 2023"]\nmillesimes = {{ apl_mg_prec = "2022" }}\n\n[apl_mg.vintages."2024".files]\nworkbook = "{new_url}"\n'
    registry.write_text(text)
    with FaultyMirror(OPENDATA) as m:
        m.faults["/" + new_url.removeprefix("https://")] = [status(200, renamed_columns_workbook())]
        proc = run_cli(ws, "build", mirror=m.url, env=FAST, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "millésime 2024" in proc.stderr and "millésime 2023 utilisé" in proc.stderr
    with duckdb.connect(str(ws / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        assert con.sql("SELECT millesime FROM meta_source WHERE cle = 'apl_mg'").fetchone()[0] == "2023"
        assert con.sql("SELECT count(*) FROM stg_apl_mg").fetchone()[0] > 60000
    assert not (ws / "data" / "raw" / "apl_mg" / "2024" / new_url.rsplit("/", 1)[-1]).exists()
