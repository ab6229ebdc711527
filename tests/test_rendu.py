"""Rendering checks, looked at as a person would: the PDF printed to PNG (page count, maps present,
no text outside the printable area) and the HTML opened in headless Chromium (no missing image,
no console error). Run on the hand-made fixture and on the real CPTS Centre Saône-et-Loire report.

Needs Debian ``poppler-utils`` and ``chromium`` (``make system-deps``); a missing tool fails the
test, it is never skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from diagnostic.report import write_report
from test_report import make_ctx

MM = 72 / 25.4  # PDF points per millimetre
MARGES_MM = {"haut": 20, "droite": 15, "bas": 18, "gauche": 15}  # the template's @page margins
CHROMIUM = "/usr/bin/chromium"


def outil(nom: str) -> str:
    path = shutil.which(nom) or (nom if Path(nom).is_file() else None)
    if not path:
        pytest.fail(f"`{nom}` introuvable : `make system-deps` installe poppler-utils et chromium.")
    return path


# --- PDF -------------------------------------------------------------------------------------

def pdf_pages(pdf: Path) -> int:
    out = subprocess.run([outil("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def pdf_en_png(pdf: Path, dossier: Path, dpi: int = 30) -> list[Path]:
    subprocess.run([outil("pdftoppm"), "-r", str(dpi), "-png", str(pdf), str(dossier / "page")], check=True)
    return sorted(dossier.glob("page-*.png"))


def pdf_images(pdf: Path) -> list[tuple[int, int, int]]:
    """(page, width, height) of every image drawn in the PDF (``pdfimages -list``)."""
    out = subprocess.run([outil("pdfimages"), "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        f = line.split()
        if len(f) > 4 and f[2] == "image":
            rows.append((int(f[0]), int(f[3]), int(f[4])))
    return rows


class _Mots(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pages: list[dict] = []
        self._mot: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.pages.append({"w": float(a["width"]), "h": float(a["height"]), "mots": []})
        elif tag == "word":
            self._mot = {k: float(a[k]) for k in ("xmin", "ymin", "xmax", "ymax")} | {"t": ""}

    def handle_data(self, data):
        if self._mot is not None:
            self._mot["t"] += data

    def handle_endtag(self, tag):
        if tag == "word" and self._mot is not None:
            self.pages[-1]["mots"].append(self._mot)
            self._mot = None


def pdf_mots(pdf: Path) -> list[dict]:
    """Pages with their word boxes (``pdftotext -bbox``), in points from the top left corner."""
    out = subprocess.run([outil("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    p = _Mots()
    p.feed(out)
    return p.pages


def debordements(pages: list[dict], tolerance: float = 1.5) -> list[str]:
    """Words outside the printable area: content and margin boxes stay within the side margins,
    and nothing comes closer than 6 mm to the top or bottom edge."""
    out = []
    for n, page in enumerate(pages, start=1):
        x0, x1 = MARGES_MM["gauche"] * MM - tolerance, page["w"] - MARGES_MM["droite"] * MM + tolerance
        y0, y1 = 6 * MM, page["h"] - 6 * MM
        for m in page["mots"]:
            if m["xmin"] < x0 or m["xmax"] > x1 or m["ymin"] < y0 or m["ymax"] > y1:
                out.append(f"page {n} : « {m['t']} » en ({m['xmin']:.0f}, {m['ymin']:.0f})–({m['xmax']:.0f}, {m['ymax']:.0f})")
    return out


def verifier_pdf(out: Path, tmp: Path, min_pages: int, max_pages: int) -> list[dict]:
    pdf = out / "diagnostic.pdf"
    n = pdf_pages(pdf)
    assert min_pages <= n <= max_pages, f"{n} pages"
    pngs = pdf_en_png(pdf, tmp)
    assert len(pngs) == n
    for png in pngs:  # every page printed something (a page of annex B holds only grey small print: min ~129)
        with Image.open(png) as im:
            assert im.convert("L").getextrema()[0] < 200, f"{png.name} est blanche"
    # every map is drawn, at its full resolution
    tailles = {(w, h) for _, w, h in pdf_images(pdf)}
    for carte in sorted((out / "cartes").glob("*.png")):
        with Image.open(carte) as im:
            assert im.size in tailles, f"carte {carte.name} {im.size} absente du PDF ({sorted(tailles)})"
    pages = pdf_mots(pdf)
    assert len(pages) == n
    hors = debordements(pages)
    assert not hors, "texte hors de la zone imprimable :\n" + "\n".join(hors[:20])
    return pages


def texte_page(page: dict) -> str:
    return " ".join(m["t"] for m in page["mots"])


# --- Chromium --------------------------------------------------------------------------------

def ouvrir_dans_chromium(html: Path, timeout: float = 60.0) -> dict:
    """Load ``html`` in headless Chromium through the DevTools protocol.

    Returns {"images": [(alt, src head, complete, naturalWidth)], "erreurs": [console errors,
    exceptions, failed loads]}.
    """
    import websocket

    binaire = outil(CHROMIUM)
    # Chromium's helper processes (zygote, crash handler) may outlive the browser for a moment and still
    # write into the profile: the browser runs in its own process group, killed whole at the end.
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profil:
        proc = subprocess.Popen(
            [binaire, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profil}", "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            port_file = Path(profil) / "DevToolsActivePort"
            fin = time.monotonic() + timeout
            while not (port_file.is_file() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > fin:
                    raise AssertionError(f"Chromium n'a pas démarré (code {proc.poll()})")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            cibles = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
            page = next(c for c in cibles if c["type"] == "page")
            ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
            try:
                return _charger(ws, html, fin)
            finally:
                ws.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            if _groupe_vivant(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _groupe_vivant(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _charger(ws, html: Path, fin: float) -> dict:
    ids = iter(range(1, 10_000))
    erreurs: list[str] = []

    def envoyer(method: str, **params) -> int:
        i = next(ids)
        ws.send(json.dumps({"id": i, "method": method, "params": params}))
        return i

    def attendre(pred) -> dict:
        while time.monotonic() < fin:
            msg = json.loads(ws.recv())
            m = msg.get("method")
            p = msg.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                erreurs.append("console : " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
            elif m == "Runtime.exceptionThrown":
                erreurs.append("exception : " + p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                erreurs.append(f"log : {p['entry'].get('text', '')} {p['entry'].get('url', '')}".strip())
            elif m == "Network.loadingFailed" and not p.get("canceled"):
                erreurs.append(f"chargement : {p.get('errorText', '')}")
            if pred(msg):
                return msg
        raise AssertionError("Chromium : délai dépassé")

    for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
        i = envoyer(method)
        attendre(lambda msg, i=i: msg.get("id") == i)
    envoyer("Page.navigate", url=html.resolve().as_uri())
    attendre(lambda msg: msg.get("method") == "Page.loadEventFired")
    expr = ("JSON.stringify(Array.from(document.images).map(i => [i.alt, i.getAttribute('src').slice(0, 30), "
            "i.complete, i.naturalWidth]))")
    i = envoyer("Runtime.evaluate", expression=expr, returnByValue=True)
    rep = attendre(lambda msg: msg.get("id") == i)
    images = [tuple(x) for x in json.loads(rep["result"]["result"]["value"])]
    # let late errors arrive
    i = envoyer("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))", awaitPromise=True)
    attendre(lambda msg: msg.get("id") == i)
    return {"images": images, "erreurs": erreurs}


def verifier_html(html: Path, n_images: int) -> None:
    r = ouvrir_dans_chromium(html)
    manquantes = [im for im in r["images"] if not im[2] or im[3] == 0]
    assert not manquantes, f"images non chargées : {manquantes}"
    assert len(r["images"]) == n_images, r["images"]
    assert not r["erreurs"], r["erreurs"]


# --- fixture context -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendu_fixture(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendu")
    write_report(make_ctx(), out)
    return out


def test_pdf_fixture(rendu_fixture, tmp_path):
    pages = verifier_pdf(rendu_fixture, tmp_path, min_pages=8, max_pages=16)
    couverture = texte_page(pages[0])
    assert "CPTS Fixture Saône" in couverture and "3 communes" in couverture and "24 novembre 2026" in couverture
    assert "Page" not in couverture  # no running header/footer on the cover
    sommaire = texte_page(pages[1])
    assert "Sommaire" in sommaire and "Synthèse" in sommaire
    assert re.search(r"Territoire[ .]+\d+", sommaire), sommaire  # dotted leader and page number
    n = len(pages)
    for k, page in enumerate(pages[1:], start=2):
        t = texte_page(page)
        assert f"Page {k} sur {n}" in t, (k, t[-200:])
        assert t.startswith("CPTS Fixture Saône"), t[:80]  # running header


def test_html_fixture_chromium(rendu_fixture):
    verifier_html(rendu_fixture / "diagnostic.html", n_images=2)


def test_chromium_detects_missing_image_and_errors(tmp_path):
    page = tmp_path / "casse.html"
    page.write_text('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>t</title></head><body>'
                    '<img src="cartes/absente.png" alt="absente"><script>console.error("boum")</script></body></html>',
                    encoding="utf-8")
    r = ouvrir_dans_chromium(page)
    assert r["images"] and r["images"][0][3] == 0
    assert any("boum" in e for e in r["erreurs"])
    with pytest.raises(AssertionError):
        verifier_html(page, n_images=1)


def test_overflow_detected():
    page = {"w": 595.0, "h": 842.0, "mots": [{"xmin": 60.0, "ymin": 100.0, "xmax": 590.0, "ymax": 110.0, "t": "large"}]}
    assert debordements([page])


# --- the real report -------------------------------------------------------------------------

def test_rendu_cpts_centre_saone_et_loire(built_workspace, tmp_path):
    out = built_workspace / "reports" / "cpts-centre-saone-et-loire"
    pages = verifier_pdf(out, tmp_path, min_pages=10, max_pages=40)  # 33 pages in 2026-12 (annexes A and B grew with the sources)
    assert "CPTS Centre Saône-et-Loire" in texte_page(pages[0]) and "34 communes" in texte_page(pages[0])
    verifier_html(out / "diagnostic.html", n_images=2)
    # every figure of the PDF's section tables matches indicateurs.csv (rounded as printed)
    import pandas as pd

    from diagnostic.report import fmt

    df = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str})
    perim = df[df["territoire_type"] == "perimetre"].set_index("indicateur")
    texte = " ".join(texte_page(p) for p in pages).replace("\u202f", " ")
    for ind, dec in (("population", 0), ("densite_population", 1), ("apl_mg", 1), ("part_pop_apl_mg_inf_2_5", 1)):
        assert fmt.nombre(perim.loc[ind, "valeur"], dec).replace("\u202f", " ") in texte, ind
