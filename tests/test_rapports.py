"""Batch reports (`diagnostic rapports`): each EPCI's report equals its single diagnostic, without PDF or Word.

Runs on the session's built workspace (real mirror files: COG 2026, contours, GP APL)."""

from __future__ import annotations

import json

import pandas as pd
from PIL import Image

from conftest import run_cli
from diagnostic.config import Workspace
from diagnostic.report.maps import DPI_ECRAN, FIG_WIDTH

EPCI = "247100290"  # CU Le Creusot Montceau-les-Mines (Saône-et-Loire, Bourgogne-Franche-Comté)
AUTRE = "200040350"  # an EPCI of the Ain (Auvergne-Rhône-Alpes): other département, other région


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"territoire_code": str, "millesime": str}, float_precision="round_trip",
                       keep_default_na=False, na_values=[""])


def test_batch_reports_equal_single_diagnostics(built_workspace, mirror_url):
    ws = Workspace(built_workspace)
    proc = run_cli(built_workspace, "rapports", "--kind", "epci", "--code", AUTRE, "--code", EPCI, mirror=mirror_url)
    assert "2 rapports écrits" in proc.stderr
    lot = ws.reports / "_rapports" / "epci"
    assert sorted(p.name for p in lot.iterdir()) == [f"epci-{AUTRE}", f"epci-{EPCI}"]  # no temporary folder left
    for code in (EPCI, AUTRE):
        dossier = lot / f"epci-{code}"
        files = sorted(str(p.relative_to(dossier)) for p in dossier.rglob("*") if p.is_file())
        assert files == ["cartes/apl_mg.png", "cartes/situation.png", "diagnostic.html", "indicateurs.csv",
                         "indicateurs.xlsx", "indicateurs_excel.csv", "provenance.json"]  # no PDF, Word, SVG
        with Image.open(dossier / "cartes" / "situation.png") as im:
            assert im.width == round(FIG_WIDTH * DPI_ECRAN)
        run_cli(built_workspace, "run", f"epci:{code}", "--sans-pdf", mirror=mirror_url)
        single = read(ws.reports / f"epci-{code}" / "indicateurs.csv")
        batch = read(dossier / "indicateurs.csv")
        pd.testing.assert_frame_equal(batch, single, check_exact=True)  # same rows, same order, same bits
        html = (dossier / "diagnostic.html").read_text(encoding="utf-8")
        assert (ws.reports / f"epci-{code}" / "diagnostic.html").read_text(encoding="utf-8").count("<table") == html.count("<table")
        prov = json.loads((dossier / "provenance.json").read_text(encoding="utf-8"))
        assert prov["territoire"] == f"epci-{code}"
    assert set(read(lot / f"epci-{AUTRE}" / "indicateurs.csv").query("territoire_type == 'departement'").territoire_code) == {"01"}


def test_batch_reports_unknown_code_is_a_french_error(built_workspace, mirror_url):
    proc = run_cli(built_workspace, "rapports", "--kind", "epci", "--code", "123456789", mirror=mirror_url, check=False)
    assert proc.returncode == 2
    assert "EPCI « 123456789 » inconnu" in proc.stderr and "Traceback" not in proc.stderr
