"""Each threshold is read from one place, `pipelines/diagnostic.toml`: a changed setting changes the figures
(masking, share of the population under the APL threshold) and every sentence that states it."""

from __future__ import annotations

import io
import tomllib

import duckdb
import openpyxl
import pandas as pd
import pytest

from conftest import APL_WORKBOOK, PROJECT, run_cli
from diagnostic import seuils, warehouse
from diagnostic.report.maps import textes_medecins

SLUG = "cpts-centre-saone-et-loire"
REGLAGES = """[secret_statistique]
professionnels = 3
patients = 13

[seuils]
apl_sous_densite = 3.5
synthese_marge_relative = 8
synthese_marge_points = 4
synthese_marge_evolution = 0.2
"""
MARGES = {"synthese_marge_relative": 10.0, "synthese_marge_points": 5.0, "synthese_marge_evolution": 0.1}


@pytest.fixture
def reglages(tmp_path):
    path = tmp_path / "diagnostic.toml"
    path.write_text(REGLAGES, encoding="utf-8")
    return path


def test_settings_file_gives_every_threshold(reglages, tmp_path):
    assert seuils.lire(reglages) == {"professionnels": 3, "patients": 13, "apl_sous_densite": 3.5, "deces_min": 20,
                                     "icm_couverture_min": 99, "synthese_marge_relative": 8.0, "synthese_marge_points": 4.0,
                                     "synthese_marge_evolution": 0.2}
    assert seuils.lire(tmp_path / "absent.toml") == {"professionnels": 5, "patients": 11, "apl_sous_densite": 2.5,
                                                      "deces_min": 20, "icm_couverture_min": 99, **MARGES}
    assert seuils.lire(PROJECT / "pipelines" / "diagnostic.toml") == seuils.DEFAUTS
    assert warehouse.catalogue(seuils.lire(reglages)).set_index("indicateur").loc[
        "part_pop_apl_mg_inf_2_5", "libelle"].endswith("inférieure à 3,5")


def test_synthesis_margins_come_from_the_settings(reglages):
    """The gap to the département beyond which an indicator enters the synthesis, and the sentence stating it."""
    from diagnostic.report.synthese import _ecart, marges_texte

    s = seuils.lire(reglages)
    assert marges_texte(s) == ("Un écart est retenu quand la valeur du territoire s'écarte de celle du département de "
                               "plus de 8\u202f% (en valeur relative), de plus de 4 points pour une part exprimée en "
                               "pourcentage, ou de plus de 0,2 pour une évolution.")
    assert "plus de 10\u202f% (en valeur relative), de plus de 5 points" in marges_texte(seuils.lire(None))
    assert _ecart(54.5, 50.0, "%", s) == (True, "+4,5 points") and _ecart(54.5, 50.0, "%", None)[0] is False
    assert _ecart(109.0, 100.0, "médecins", s) == (True, "+9\u202f%") and _ecart(109.0, 100.0, "médecins", None)[0] is False
    assert _ecart(0.15, 0.0, "points", s)[0] is False and _ecart(0.15, 0.0, "points", None)[0] is True


def test_secret_threshold_changes_the_masking(reglages):
    """The fixture warehouse of test_indicateurs_sante: 3 GPs practise in France (75056: 1, 71134 and 71153: 2,
    one of them in both)."""
    from test_indicateurs_sante import META, MODULES, SPECS, FIXTURES, base_staging

    def nb_mg_france(s):
        staged = base_staging()
        for sid, module in MODULES.items():
            staged[sid] = module.parse(FIXTURES / sid, SPECS.get(sid, {}))
        db = duckdb.connect()
        warehouse.run_models(db, staged, META, warehouse.BuildReport(rebuilt=True), s)
        return db.execute("SELECT valeur, statut FROM mart_indicateurs WHERE territoire_type = 'france' "
                          "AND indicateur = 'nb_mg'").fetchone()

    assert nb_mg_france(seuils.lire(reglages)) == (3.0, "ok")  # 3 >= 3
    assert nb_mg_france(seuils.lire(None))[1] == "secret"  # 3 < 5


def test_gp_map_states_the_secret_threshold(reglages):
    sous_titre, etiquette = textes_medecins(seuils.lire(reglages)["professionnels"], 40, 2)
    assert sous_titre == "40 médecins dans les communes du territoire qui en comptent au moins 3 ; 2 communes du territoire en comptent de 1 à 2"
    assert etiquette == "1 à 2 médecins (effectif non diffusé, secret statistique)"
    assert textes_medecins(5, 0, 1) == ("Aucune commune du territoire ne compte 5 médecins ou plus ; 1 commune du "
                                        "territoire en compte de 1 à 4",
                                        "1 à 4 médecins (effectif non diffusé, secret statistique)")


def test_changed_settings_change_every_sentence(copied_workspace, mirror_url, reglages):
    (copied_workspace / "pipelines" / "diagnostic.toml").write_text(reglages.read_text(encoding="utf-8"), encoding="utf-8")
    run_cli(copied_workspace, "run", SLUG, "--sans-pdf", mirror=mirror_url)
    out = copied_workspace / "reports" / SLUG

    # the figure: share of the population under 3.5, recomputed from the workbook read with openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(APL_WORKBOOK.read_bytes()), read_only=True)
    apl = pd.DataFrame([r[:6] for r in wb["APL 2023"].iter_rows(min_row=11, values_only=True) if r[0]],
                       columns=["code", "nom", "apl", "apl65", "popstd", "poptot"])
    perimetre = tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text(encoding="utf-8"))["communes"]
    rows = apl[apl.code.isin(perimetre)]
    csv = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    part = csv[(csv.territoire_type == "perimetre") & (csv.indicateur == "part_pop_apl_mg_inf_2_5")].iloc[0]
    assert part.numerateur == rows.loc[rows.apl < 3.5, "poptot"].sum()
    assert part.valeur == pytest.approx(100 * rows.loc[rows.apl < 3.5, "poptot"].sum() / rows.poptot.sum(), rel=1e-12)
    assert part.libelle.endswith("inférieure à 3,5")

    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    assert "seuil de diffusion (3 pour les professionnels de santé, 13 pour les patients)" in html
    assert "est inférieure à 3,5 consultations par habitant et par an" in html  # Lecture of the Offre de soins section
    assert "ont une APL inférieure à 3,5 consultations par habitant et par an" in html  # Lecture of the APL map
    assert "la population sous le seuil de 3,5 est défavorable" in html  # synthesis
    assert "est inférieure à 3,5 consultations par an et par habitant, rapportée" in html  # definition (annex)
    assert "ou de plus de 0,2 pour une évolution" in html and "de plus de 4 points pour une part" in html  # synthesis margins
    for ancien in ("inférieure à 2,5", "seuil de 2,5", "5 pour les professionnels", "11 pour les patients",
                   "de plus de 5 points", "ou de plus de 0,1 pour"):
        assert ancien not in html, ancien
