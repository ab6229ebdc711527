"""Batch reports with their PDF (`diagnostic rapports --pdf`, issue 16): an ARS sends each territory its
document. Runs on the session's built workspace (real mirror files: COG 2026, contours, GP APL)."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
from PIL import Image

from conftest import copied_workspace, run_cli  # noqa: F401 - fixture
from diagnostic.config import Workspace
from diagnostic.report.maps import DPI, FIG_WIDTH

EPCI = "247100290"  # CU Le Creusot Montceau-les-Mines (Saône-et-Loire)
AUTRE = "200040350"  # an EPCI of the Ain


def test_batch_reports_with_pdf(copied_workspace, mirror_url):
    ws = Workspace(copied_workspace)
    proc = run_cli(copied_workspace, "rapports", "--kind", "epci", "--code", EPCI, "--code", AUTRE, "--pdf", mirror=mirror_url)
    assert "2 rapports écrits" in proc.stderr
    lot = ws.reports / "_rapports" / "epci"
    for code in (EPCI, AUTRE):
        dossier = lot / f"epci-{code}"
        files = sorted(str(p.relative_to(dossier)) for p in dossier.rglob("*") if p.is_file())
        assert files == ["cartes/apl_mg.png", "cartes/situation.png", "diagnostic.html", "diagnostic.pdf", "indicateurs.csv",
                         "indicateurs.xlsx", "indicateurs_excel.csv", "provenance.json"]  # no Word, no SVG
        with Image.open(dossier / "cartes" / "situation.png") as im:
            assert im.width == round(FIG_WIDTH * DPI)  # print resolution for the PDF
        info = subprocess.run(["pdfinfo", str(dossier / "diagnostic.pdf")], capture_output=True, text=True, check=True).stdout
        assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) >= 5
        texte = subprocess.run(["pdftotext", str(dossier / "diagnostic.pdf"), "-"], capture_output=True, text=True,
                               check=True).stdout
        ind = pd.read_csv(dossier / "indicateurs.csv", dtype=str)
        nom = ind.loc[ind["territoire_type"] == "perimetre", "territoire_nom"].iloc[0]
        assert all(mot in texte for mot in re.split(r"[\s-]+", nom) if mot), nom  # the territory's own document
