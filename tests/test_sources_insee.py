"""Parsers of the INSEE census by age and sex (base-cc-evol-struct-pop) and of the populations légales
(ensemble.zip), on hand-made fixtures in the official format (tests/fixtures, invented figures)."""

from __future__ import annotations

import zipfile

import duckdb
import pytest

from diagnostic.sources import SourceFormatError, poplegale, rp_pop

from conftest import FIXTURES, one as value

RP_ZIP = FIXTURES / "rp_pop" / "base-cc-evol-struct-pop-2022_csv.zip"
RP_MEMBER = "base-cc-evol-struct-pop-2022.CSV"
PL_ZIP = FIXTURES / "poplegale" / "ensemble.zip"
PL_SPEC = {"annee": "2023", "en_vigueur": "2026"}


def rewrite_zip(src, dest, member, edit):
    """Copy of the zip `src` with `member` passed through `edit(text) -> text` (other members kept)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, edit(data.decode("utf-8")).encode("utf-8") if name == member else data)




# ------------------------------------------------------------------------------------------------ RP
@pytest.fixture(scope="module")
def rp():
    return rp_pop.parse(RP_ZIP.parent, {})


def test_rp_reads_every_census_year_of_the_file(rp):
    age, commune = rp["stg_rp_pop_age_sexe"], rp["stg_rp_pop_commune"]
    assert sorted(commune["annee"].unique()) == ["2011", "2016", "2022"]
    assert len(commune) == 7 * 3  # 7 codes (Paris, 2 arrondissements, 4 communes) x 3 censuses
    assert len(age) == 7 * 3 * 2 * 7  # x 2 sexes x 7 bands
    assert sorted(age["tranche_age"].unique()) == ["00-14", "15-29", "30-44", "45-59", "60-74", "75-89", "90+"]


def test_rp_exact_values_and_codes_as_strings(rp):
    age, commune = rp["stg_rp_pop_age_sexe"], rp["stg_rp_pop_commune"]
    assert value(age, annee="2022", code="75101", sexe="H", tranche_age="90+").population == 0.5
    assert value(age, annee="2022", code="71153", sexe="F", tranche_age="75-89").population == 25.0
    assert value(age, annee="2016", code="71153", sexe="H", tranche_age="00-14").population == 40.5
    row = value(commune, annee="2022", code="2A004")
    assert (row.population, row.pop_0019, row.pop_65p) == (228.0, 52.0, 36.0)
    assert value(commune, annee="2016", code="71153").population == 364.0
    assert str(age["code"].dtype) == "string"


def test_rp_bands_add_up_to_the_population(rp):
    age, commune = rp["stg_rp_pop_age_sexe"], rp["stg_rp_pop_commune"]
    sums = age.groupby(["annee", "code"])["population"].sum()
    pops = commune.set_index(["annee", "code"])["population"]
    assert (sums.sort_index() == pops.sort_index()).all()


def test_rp_detects_latin1_encoding(tmp_path):
    (tmp_path / "raw").mkdir()
    with zipfile.ZipFile(RP_ZIP) as zin, zipfile.ZipFile(tmp_path / "raw" / "rp.zip", "w") as zout:
        text = zin.read(RP_MEMBER).decode("utf-8")
        # a latin-1 file whose header carries an accented extra column (encoding must be detected)
        lines = text.split("\r\n")
        lines[0] += ";LIBELLÉ"
        lines[1:-1] = [line + ";é" for line in lines[1:-1]]
        zout.writestr(RP_MEMBER, "\r\n".join(lines).encode("latin-1"))
    out = rp_pop.parse(tmp_path / "raw", {})
    assert value(out["stg_rp_pop_commune"], annee="2022", code="75056").population == 117.0


def test_rp_malformed_cell_names_file_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    # 71153 is the 8th line of the file (header + 6 rows before it); its 2022 population of women 45-59
    rewrite_zip(RP_ZIP, tmp_path / "raw" / "rp.zip", RP_MEMBER, lambda t: t.replace("71153;354;", "71153;354,5x;"))
    with pytest.raises(SourceFormatError) as err:
        rp_pop.parse(tmp_path / "raw", {})
    message = str(err.value)
    assert "base-cc-evol-struct-pop-2022.CSV" in message and "ligne 8" in message and "'P22_POP'" in message
    assert "valeur non numérique" in message


def test_rp_missing_column_is_a_french_error(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(RP_ZIP, tmp_path / "raw" / "rp.zip", RP_MEMBER, lambda t: t.replace("P22_F90P", "P22_F90PLUS"))
    with pytest.raises(SourceFormatError, match=r"colonne\(s\) attendue\(s\) absente\(s\) : P22_F90P"):
        rp_pop.parse(tmp_path / "raw", {})


def test_rp_zip_without_the_csv(tmp_path):
    (tmp_path / "raw").mkdir()
    with zipfile.ZipFile(tmp_path / "raw" / "rp.zip", "w") as zout:
        zout.writestr("autre.csv", "x")
    with pytest.raises(SourceFormatError, match="base-cc-evol-struct-pop"):
        rp_pop.parse(tmp_path / "raw", {})


def test_rp_empty_tables_have_the_staging_columns():
    for name, df in rp_pop.empty().items():
        assert df.empty
    con = duckdb.connect()
    con.register("t", rp_pop.empty()["stg_rp_pop_age_sexe"])
    assert con.sql("SELECT column_type FROM (DESCRIBE t)").fetchall() == [("VARCHAR",)] * 4 + [("DOUBLE",)]


# ------------------------------------------------------------------------------------ populations légales
def test_poplegale_exact_values_thousand_separators_and_vintage():
    df = poplegale.parse(PL_ZIP.parent, PL_SPEC)["stg_poplegale_commune"]
    assert len(df) == 5  # donnees_departements.csv in the same zip is not read
    paris = value(df, code="75056")
    assert (paris.pmun, paris.pcap, paris.ptot) == (1000, 12, 1012)  # "1 000" read as 1000
    assert (paris.millesime, paris.en_vigueur, paris.departement) == ("2023", "2026", "75")
    assert value(df, code="2A004").pmun == 500
    assert str(df["pmun"].dtype) == "Int64"


def test_poplegale_malformed_count_names_file_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(PL_ZIP, tmp_path / "raw" / "ensemble.zip", "donnees_communes.csv",
                lambda t: t.replace("Le Creusot;200;", "Le Creusot;deux cents;"))
    with pytest.raises(SourceFormatError) as err:
        poplegale.parse(tmp_path / "raw", PL_SPEC)
    assert "donnees_communes.csv, ligne 5, colonne 'PMUN'" in str(err.value)


def test_poplegale_needs_the_vintage_in_the_registry():
    with pytest.raises(SourceFormatError, match="annee"):
        poplegale.parse(PL_ZIP.parent, {})
