"""Parser of the Annuaire Santé extraction (PS_LibreAcces personne-activité) on a hand-made fixture in the
official format: pipe-separated, UTF-8, one header row, trailing `|` (tests/fixtures/rpps, invented)."""

from __future__ import annotations

import shutil

import pytest

from diagnostic.sources import SourceFormatError, rpps

from conftest import FIXTURES

FILE = FIXTURES / "rpps" / "ps-libreacces-personne-activite.txt"


@pytest.fixture(scope="module")
def activite():
    return rpps.parse(FILE.parent, {"savoir_faire_mg": ["SM26", "SM53", "SM54"]})["stg_rpps_activite"]


def test_keeps_the_six_professions_and_every_row(activite):
    assert len(activite) == 16  # 17 rows, the optician left out
    assert sorted(activite["code_profession"].unique()) == ["10", "21", "40", "50", "60", "70"]
    assert list(activite.columns) == ["identifiant", "code_profession", "code_type_savoir_faire", "code_savoir_faire",
                                      "savoir_faire_mg", "code_mode_exercice", "code_secteur", "code_commune"]


def test_exact_values(activite):
    martin = activite[activite["identifiant"] == "810000000001"]
    assert martin["code_commune"].tolist() == ["71153", "71134"]
    assert martin["savoir_faire_mg"].all() and set(martin["code_mode_exercice"]) == {"L"}
    adeli = activite[activite["identifiant"] == "0719876543"].iloc[0]
    assert (adeli.code_profession, adeli.code_commune) == ("60", "71153")
    no_site = activite[activite["identifiant"] == "810000000007"].iloc[0]
    assert no_site.code_commune is None or str(no_site.code_commune) == "<NA>"  # empty stays missing
    assert not activite.loc[activite["code_savoir_faire"].eq("SM04"), "savoir_faire_mg"].any()
    assert activite["code_commune"].dropna().str.fullmatch(r"\d{5}|2[AB]\d{3}").all()


def test_latin1_extraction_is_read(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "ps.txt").write_bytes(FILE.read_text(encoding="utf-8").encode("latin-1"))
    df = rpps.parse(tmp_path / "raw", {})["stg_rpps_activite"]
    assert len(df) == 16


def test_malformed_commune_code_names_file_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    text = FILE.read_text(encoding="utf-8").replace("|75102|Paris|", "|7510|Paris|")  # the sage-femme, line 15
    (tmp_path / "raw" / "ps.txt").write_text(text, encoding="utf-8")
    with pytest.raises(SourceFormatError) as err:
        rpps.parse(tmp_path / "raw", {})
    assert "ps.txt mal formé" in str(err.value) and "ligne 15" in str(err.value) and "'code_commune'" in str(err.value)


def test_missing_column_is_a_french_error(tmp_path):
    (tmp_path / "raw").mkdir()
    text = FILE.read_text(encoding="utf-8").replace("Code commune (coord. structure)", "Commune")
    (tmp_path / "raw" / "ps.txt").write_text(text, encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"absente\(s\) : Code commune \(coord. structure\)"):
        rpps.parse(tmp_path / "raw", {})


def test_savoir_faire_moved_elsewhere_is_detected(tmp_path):
    (tmp_path / "raw").mkdir()
    shutil.copy(FILE, tmp_path / "raw" / "ps.txt")
    with pytest.raises(SourceFormatError, match="aucun médecin avec un savoir-faire de médecine générale"):
        rpps.parse(tmp_path / "raw", {"savoir_faire_mg": ["XX99"]})
