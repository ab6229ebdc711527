"""Local data a CPTS brings itself (diagnostic.local): the documented long CSV and an ARS zonage workbook as
published, harmonised through int_cog_passage on the tiny warehouse of tests/test_indicateurs_sante.py.
Fixtures tests/fixtures/local/* are hand-made (invented figures)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from diagnostic import local

from conftest import FIXTURES
from test_indicateurs_sante import fixture_warehouse

LOCAL = FIXTURES / "local"


@pytest.fixture(scope="module")
def con():
    yield fixture_warehouse()


def selection(con, communes=("71153", "71134")) -> pd.DataFrame:
    perim = pd.DataFrame({"territoire_type": "perimetre", "territoire_code": "cpts-test", "territoire_nom": "CPTS Test",
                          "commune": list(communes)})
    comp = con.sql("SELECT * FROM int_territoire_commune WHERE territoire_type IN ('departement', 'region', 'france')").df()
    return pd.concat([perim, comp], ignore_index=True)


def folder_with(tmp_path, *names, edit=None):
    d = tmp_path / "cpts-test" / "local"
    d.mkdir(parents=True)
    for n in names:
        if edit:
            (d / n).write_text(edit((LOCAL / n).read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copy(LOCAL / n, d / n)
    return d


def value(out, ttype, ind):
    code = {"departement": "71", "region": "27", "france": "FR", "perimetre": "cpts-test"}[ttype]
    ind_ = out.indicateurs
    rows = ind_[(ind_["territoire_type"] == ttype) & (ind_["territoire_code"] == code) & (ind_["indicateur"] == ind)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_no_local_folder_gives_nothing(con, tmp_path):
    out = local.charger(con, selection(con), local.dossier(tmp_path, "absent"))
    assert out.indicateurs.empty and out.catalogue.empty and out.sources == []


def test_long_format_counts_and_rates_with_former_codes(con, tmp_path):
    out = local.charger(con, selection(con), folder_with(tmp_path, "indicateurs_locaux.csv"), "CPTS Test")
    p = value(out, "perimetre", "patients_sans_mt")
    assert (p.valeur, p.statut, p.millesime, p.unite) == (65.0, "ok", "2025", "patients")  # 71304 -> 71134
    r = value(out, "perimetre", "part_vaccines_grippe_local")
    assert r.valeur == pytest.approx(100 * 40.5 / 100) and (r.numerateur, r.denominateur) == (40.5, 100.0)
    # the fixture's département 71 is made of these two communes: covered whole, so it gets a value;
    # France (Paris, Ajaccio missing from the file) does not
    assert value(out, "departement", "patients_sans_mt").valeur == 65.0
    assert value(out, "france", "patients_sans_mt").statut == "non_disponible"
    assert p.source == "local_indicateurs_locaux"
    src = out.sources[0]
    assert src["source"] == "local_indicateurs_locaux" and "CPTS Test" in src["titre"] and "CPAM" in src["producteur"]
    assert len(src["sha256"]) == 64
    cat = out.catalogue.set_index("indicateur")
    assert cat.loc["patients_sans_mt", "theme"] == "Accès aux soins" and cat.loc["patients_sans_mt", "niveau"] == "commune"
    assert cat.loc["patients_sans_mt", "secret"] == "patients"


def test_small_local_count_is_masked(con, tmp_path):
    d = folder_with(tmp_path, "indicateurs_locaux.csv", edit=lambda t: t.replace(";40;patients", ";1;patients").replace(";25;patients", ";2;patients"))
    out = local.charger(con, selection(con), d)
    p = value(out, "perimetre", "patients_sans_mt")
    assert p.statut == "secret" and p.valeur != p.valeur


def test_perimeter_commune_missing_from_file_gives_no_value_and_a_warning(con, tmp_path):
    out = local.charger(con, selection(con, ("71153", "71134", "2A004")), folder_with(tmp_path, "indicateurs_locaux.csv"))
    assert value(out, "perimetre", "patients_sans_mt").statut == "non_disponible"
    assert any("sans valeur pour le territoire" in w for w in out.avertissements)


def test_zonage_workbook_as_published(con, tmp_path):
    out = local.charger(con, selection(con), folder_with(tmp_path, "zonage_medecins_2025.xlsx"), "CPTS Test")
    # population municipale: 71153 = 200 (ZIP, its QPV row ZAC is weaker), 71134 = 300 (ZAC, via 71304/71055)
    zip_ = value(out, "perimetre", "part_pop_zonage_zip")
    assert (zip_.valeur, zip_.numerateur, zip_.denominateur, zip_.millesime) == (40.0, 200.0, 500.0, "2025")
    assert value(out, "perimetre", "part_pop_zonage_zac").valeur == 60.0
    assert value(out, "perimetre", "part_pop_zonage_zar").valeur == 0.0
    assert "zone d'intervention prioritaire (ZIP)" in zip_.libelle
    assert value(out, "france", "part_pop_zonage_zip").statut == "non_disponible"


def test_malformed_value_names_file_row_and_column(con, tmp_path):
    d = folder_with(tmp_path, "indicateurs_locaux.csv", edit=lambda t: t.replace(";25;patients", ";vingt-cinq;patients"))
    with pytest.raises(local.LocalDataError) as err:
        local.charger(con, selection(con), d)
    assert "indicateurs_locaux.csv, ligne 3, colonne 'valeur'" in str(err.value)


@pytest.mark.parametrize("old, new, message", [
    ("71304;", "7130A;", r"ligne 3, colonne 'code_commune'"),
    ("71134;", "71999;", r"ligne 5, colonne 'code_commune' : code commune '71999' inconnu"),
    ("%;2025;", "%;l'an dernier;", r"ligne 4, colonne 'annee'"),
    (";source;", ";origine;", r"colonne\(s\) obligatoire\(s\) absente\(s\) : source"),
], ids=["code", "code inconnu", "annee", "colonne absente"])
def test_malformed_code_year_and_missing_column(con, tmp_path, old, new, message):
    d = folder_with(tmp_path, "indicateurs_locaux.csv", edit=lambda t: t.replace(old, new))
    with pytest.raises(local.LocalDataError, match=message):
        local.charger(con, selection(con), d)


def test_malformed_zonage_value_names_row_and_column(con, tmp_path):
    import openpyxl

    d = folder_with(tmp_path, "zonage_medecins_2025.xlsx")
    wb = openpyxl.load_workbook(d / "zonage_medecins_2025.xlsx")
    wb.active["D6"] = "Zone blanche"
    wb.save(d / "zonage_medecins_2025.xlsx")
    with pytest.raises(local.LocalDataError) as err:
        local.charger(con, selection(con), d)
    assert "zonage_medecins_2025.xlsx mal formé : ligne 6, colonne 'Zonage 2025'" in str(err.value)
    assert "ZIP, ZAC, ZAR, ZV, HZ" in str(err.value)
