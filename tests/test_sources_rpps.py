"""Parser of the Annuaire Santé extraction (PS_LibreAcces personne-activité) on a hand-made fixture in the
official format: pipe-separated, UTF-8, one header row, trailing `|` (tests/fixtures/rpps, invented); the
56-column header of 2026 and the older 52-column one, both seen in third-party code."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from diagnostic.sources import SelectionVide, SourceFormatError, rpps

from conftest import FIXTURES

FILE = FIXTURES / "rpps" / "ps-libreacces-personne-activite.txt"


@pytest.fixture(scope="module")
def activite():
    return rpps.parse(FILE.parent, {"savoir_faire_mg": ["SM26", "SM53", "SM54"]})["stg_rpps_activite"]


def test_keeps_the_six_professions_and_every_row(activite):
    assert len(activite) == 17  # 18 rows (one duplicated), the optician left out
    assert sorted(activite["code_profession"].unique()) == ["10", "21", "40", "50", "60", "70"]
    assert list(activite.columns)[:8] == ["identifiant", "code_profession", "code_type_savoir_faire", "code_savoir_faire",
                                          "savoir_faire_mg", "code_mode_exercice", "code_secteur", "code_commune"]
    assert list(activite.columns) == list(rpps.tables()["stg_rpps_activite"].columns)


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
    assert len(df) == 17


def test_malformed_commune_code_names_file_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    text = FILE.read_text(encoding="utf-8").replace("|75102|Paris|", "|7510|Paris|")  # the sage-femme, line 16
    (tmp_path / "raw" / "ps.txt").write_text(text, encoding="utf-8")
    with pytest.raises(SourceFormatError) as err:
        rpps.parse(tmp_path / "raw", {})
    assert "ps.txt mal formé" in str(err.value) and "ligne 16" in str(err.value) and "'code_commune'" in str(err.value)


def test_missing_column_is_a_french_error(tmp_path):
    (tmp_path / "raw").mkdir()
    text = FILE.read_text(encoding="utf-8").replace("Code commune (coord. structure)", "Commune")
    (tmp_path / "raw" / "ps.txt").write_text(text, encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"absente\(s\) : Code commune \(coord. structure\)"):
        rpps.parse(tmp_path / "raw", {})


def test_savoir_faire_moved_elsewhere_is_detected(tmp_path):
    (tmp_path / "raw").mkdir()
    shutil.copy(FILE, tmp_path / "raw" / "ps.txt")
    with pytest.raises(SelectionVide, match="aucun médecin avec un savoir-faire de médecine générale") as err:
        rpps.parse(tmp_path / "raw", {"savoir_faire_mg": ["XX99"]})
    assert "savoir-faire des médecins présents : SM04 ; SM26 ; SM53 ; SM54" in str(err.value)


def test_no_kept_profession_is_an_error_listing_the_codes(tmp_path):
    (tmp_path / "raw").mkdir()
    lines = FILE.read_text(encoding="utf-8").split("\n")
    only_optician = [lines[0]] + [line for line in lines[1:] if "|28|Opticien-Lunetier|" in line]
    (tmp_path / "raw" / "ps.txt").write_text("\n".join(only_optician), encoding="utf-8")
    with pytest.raises(SelectionVide, match="aucune profession ne correspond aux codes 10, 21, 40, 50, 60, 70 ; "
                                            "codes profession présents : 28"):
        rpps.parse(tmp_path / "raw", {})


def test_a_kept_profession_missing_from_the_extract_is_an_error(tmp_path):
    """The extract is national: a profession code that no row carries means the codes changed, never zero nurses."""
    (tmp_path / "raw").mkdir()
    lines = FILE.read_text(encoding="utf-8").split("\n")
    sans_infirmiers = [lines[0]] + [line for line in lines[1:] if line.split("|")[9:10] != ["60"]]
    (tmp_path / "raw" / "ps.txt").write_text("\n".join(sans_infirmiers), encoding="utf-8")
    with pytest.raises(SelectionVide, match=r"aucune ligne de la profession infirmier \(code 60\) ; "
                                            r"codes profession présents : 10 ; 21 ; 28 ; 40 ; 50 ; 70\."):
        rpps.parse(tmp_path / "raw", {})


def test_the_older_52_column_layout_reads_the_same(tmp_path, activite):
    """Third-party code shows a 52-column header ending « Libellé section tableau pharmaciens| » and verbatim
    rows of 52 fields + trailing `|`: the fixture without its last four columns."""
    lines = [line for line in FILE.read_text(encoding="utf-8").split("\n") if line]
    assert all(len(line.split("|")) == 57 for line in lines)  # 56 fields + the trailing `|`
    older = ["|".join(line.split("|")[:52]) + "|" for line in lines]
    assert older[0].endswith("|Code section tableau pharmaciens|Libellé section tableau pharmaciens|")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "ps.txt").write_text("\n".join(older) + "\n", encoding="utf-8")
    pd.testing.assert_frame_equal(rpps.parse(tmp_path / "raw", {})["stg_rpps_activite"], activite)


def test_a_row_with_a_shifted_field_count_is_refused(tmp_path):
    lines = FILE.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3] + "EN TROP|"
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "ps.txt").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"ps.txt, ligne 4 : 58 champs au lieu de 57"):
        rpps.parse(tmp_path / "raw", {})


def test_directory_fields(activite):
    martin = activite[activite["identifiant"] == "810000000001"].set_index("code_commune")
    assert martin.at["71153", "raison_sociale_site"] == "CABINET MEDICAL FICTIF"
    assert martin.at["71153", "adresse"] == "3 Rue FICTIVE" and martin.at["71153", "telephone"] == "0300000001"
    assert martin.at["71134", "adresse"] == "1 B Place IMAGINAIRE" and martin.at["71153", "code_postal"] == "71200"
    assert (martin.at["71153", "nom"], martin.at["71153", "libelle_mode_exercice"]) == ("MARTIN", "Libéral")
    assert activite.loc[activite["identifiant"] == "810000000006", "adresse"].dropna().tolist() == ["1 B Place IMAGINAIRE, BP 0"]
