"""The establishments map's caption names the FINESS file actually read: the vintage's `nature_fichier` of the
registry, carried by the provenance, with the extraction date of the indicators."""

from __future__ import annotations

import pandas as pd

from diagnostic import provenance
from diagnostic.config import Workspace
from diagnostic.registry import load_registry
from diagnostic.report.source_finess import source_finess

from conftest import PROJECT


def ctx_for(vintage: str, tmp_path, millesime: str):
    sources = {"finess": load_registry(PROJECT / "pipelines" / "sources.toml")["finess"]}
    entries = provenance.files(Workspace(tmp_path), sources, {"finess": vintage})
    ind = pd.DataFrame({"indicateur": ["nb_etab_hopital"], "millesime": [millesime]})
    return type("Ctx", (), {"sources": entries, "indicateurs": ind})()


def test_caption_names_the_flux_or_the_former_extraction(tmp_path):
    assert source_finess(ctx_for("2026-08", tmp_path, "2026-08-13")) == (
        "FINESS, flux FINESS+ des structures (Agence du numérique en santé) du 13 août 2026")
    assert source_finess(ctx_for("2026-05-12", tmp_path, "2026-05-12")) == (
        "FINESS, extraction géolocalisée (DREES, ministère chargé de la santé) du 12 mai 2026")
    empty = type("Ctx", (), {"sources": [], "indicateurs": pd.DataFrame(columns=["indicateur", "millesime"])})()
    assert source_finess(empty) == "FINESS"


def test_the_map_module_holds_no_fixed_finess_wording():
    maps = (PROJECT / "src" / "diagnostic" / "report" / "maps.py").read_text(encoding="utf-8")
    assert "extraction géolocalisée" not in maps and "source_finess(ctx)" in maps


def test_the_establishments_list_names_the_same_file(tmp_path):
    from diagnostic.report import etablissements

    ctx = ctx_for("2026-08", tmp_path, "2026-08-13")
    # one invented row, as models/etablissements_perimetre.sql returns them
    ctx.etablissements = pd.DataFrame([{"groupe": "hopital", "groupe_libelle": "Hôpital", "nom": "CH", "libcategetab": "",
                                        "nom_commune": "Le Creusot", "code_commune": "71153"}])
    assert etablissements.liste(ctx)["source"] == (
        "Source : FINESS, flux FINESS+ des structures (Agence du numérique en santé) du 13 août 2026, établissements "
        "ouverts dont l'adresse géographique est dans le territoire.")
