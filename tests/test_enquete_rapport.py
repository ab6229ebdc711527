"""End to end: a survey export dropped in ``data/territoires/<slug>/enquetes/`` of a test workspace gives the
section « Besoins et attentes des professionnels » in HTML, PDF and Word, the ``Enquête`` sheet and the contract
rows; no identity value reaches any file under ``reports/``; a refused file leaves the rest written and
``--strict`` makes it an error. (The exports are hand-made fixtures: tests/fixtures/README.md.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

from conftest import FIXTURES, new_workspace, run_cli

sys.path.insert(0, str(FIXTURES))
import fabriquer_enquetes as F  # noqa: E402

SLUG = "cpts-centre-saone-et-loire"


def _texte_de(path) -> str:
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    if path.suffix in (".html", ".csv", ".json", ".svg"):
        return path.read_text(encoding="utf-8-sig", errors="replace")
    return ""


@pytest.fixture(scope="module")
def rapport(tmp_path_factory, built_workspace, mirror_url):
    ws = new_workspace(tmp_path_factory.mktemp("enquete") / "ws")
    for part in ("raw", "processed"):
        shutil.copytree(built_workspace / "data" / part, ws / "data" / part, copy_function=os.link)
    d = ws / "data" / "territoires" / SLUG / "enquetes"
    d.mkdir(parents=True)
    for nom in ("limesurvey_reponses_completes.csv", "google_forms.csv", "google_forms.toml", "microsoft_forms.xlsx",
                "framaforms.csv"):  # names (MS Forms « Nom », Framaforms « Username »), e-mails, IP addresses
        shutil.copy(FIXTURES / "enquetes" / nom, d / nom)
    shutil.copy(FIXTURES / "local" / "indicateurs_locaux.csv", d / "pas_une_enquete.csv")  # refused
    proc = run_cli(ws, "run", SLUG, mirror=mirror_url)
    return ws, proc


def test_section_in_html_pdf_and_word(rapport):
    ws, proc = rapport
    out = ws / "reports" / SLUG
    besoins = pd.Series([b for r in F.REPONDANTS for b in r[F.Q_BESOINS]]).value_counts()
    for f in ("diagnostic.html", "diagnostic.pdf", "diagnostic.docx"):
        t = " ".join(_texte_de(out / f).split())
        assert "Besoins et attentes des professionnels" in t, f
        assert "Coordination ville-hôpital, parcours" in t, f
        assert "21 réponses reçues du 2 mars 2026 au 21 mars 2026 (LimeSurvey) : 19 complètes et 2 partielles" in t, f
        assert "la somme des parts dépasse 100 %" in t, f
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    n = int(besoins["Coordination ville-hôpital, parcours"])
    assert f"« Coordination ville-hôpital, parcours » est cité par {n} des 19 répondants" in html
    assert (out / "graphiques" / "enquete_limesurvey_reponses_completes_communes.png").is_file()
    # synthesis: the most cited needs, with the count behind them
    assert f"Besoins prioritaires : Coordination ville-hôpital, parcours</strong> : cité par {n} des 19 répondants" in html


def test_xlsx_sheet_and_contract_rows(rapport):
    ws, _ = rapport
    out = ws / "reports" / SLUG
    feuille = pd.read_excel(out / "indicateurs.xlsx", sheet_name="Enquête", dtype=str)
    ls = feuille[feuille["Enquête"].str.contains("limesurvey_reponses_completes")]
    coord = pd.Series([r[F.Q_COORD] for r in F.REPONDANTS]).value_counts()
    row = ls[(ls["Réponse"] == "Plutôt d'accord") & (ls["Groupe"] == "Ensemble")]
    assert len(row) == 1 and int(row["Répondants"].iloc[0]) == int(coord["Plutôt d'accord"])
    csv = pd.read_csv(out / "indicateurs.csv", dtype=str)
    enq = csv[csv["indicateur"].str.startswith("enquete_")]
    assert set(enq["territoire_type"]) == {"perimetre"} and enq["source"].str.contains("CPTS Centre Saône-et-Loire").all()
    kine = enq[enq["indicateur"] == "enquete_google_forms__participation__masseur_kinesitherapeute"]
    assert kine["statut"].tolist() == ["secret"] and kine["valeur"].isna().all()
    assert not enq.duplicated("indicateur").any()


def test_no_identity_value_reaches_reports(rapport):
    ws, _ = rapport
    textes = {p: _texte_de(p) for p in (ws / "reports").rglob("*") if p.is_file()}
    assert any(p.suffix == ".pdf" for p in textes) and any(p.suffix == ".docx" for p in textes)
    for p, t in textes.items():
        for ident in F.IDENTITES + ["marc.durand@exemple.fr", "06 12 34 56 78", "10101234567"]:
            assert ident not in t, (p.name, ident)


def test_communes_of_practice_matched_to_the_cog(rapport):
    from diagnostic import enquetes, warehouse
    from diagnostic.config import Workspace
    from diagnostic.territoire import resolve

    ws, _ = rapport
    w = Workspace(ws)
    with warehouse.connect(w) as con:
        t = resolve(SLUG, con, w.territoires)
        e = enquetes.lire_enquete(FIXTURES / "enquetes" / "limesurvey_reponses_completes.csv", 5, con, t.selection(con))
    codes = {"Le Creusot": "71153", "Montceau-les-Mines": "71306", "71486": "71486", "Torcy": "71540", "Blanzy": "71040"}
    attendu = pd.Series([codes[r[F.Q_COMMUNE]] for r in F.REPONDANTS + F.INCOMPLETS if r[F.Q_COMMUNE]]).value_counts()
    c = e.communes.set_index("code")
    assert set(c.index) == set(attendu.index)
    for code, n in attendu.items():
        if n >= 5:
            assert c.loc[code, "repondants"] == n or c.loc[code, "statut"] == "secret"
        else:
            assert c.loc[code, "statut"] == "secret"
    assert not (c["statut"] == "secret").sum() == 1  # never a lone masked cell beside a published total


def test_refused_file_warns_and_strict_fails(rapport, mirror_url):
    ws, proc = rapport
    assert "Enquête refusée : Fichier pas_une_enquete.csv, ligne 1 : ce fichier n'est pas un export" in " ".join(proc.stderr.split())
    assert (ws / "reports" / SLUG / "diagnostic.html").is_file()
    strict = run_cli(ws, "run", SLUG, "--strict", "--sans-pdf", mirror=mirror_url, check=False)
    assert strict.returncode == 1
    assert "un fichier d'enquête est refusé" in strict.stderr
