"""Parsers of the INSEE census by age and sex (legacy base-cc-evol-struct-pop file; Melodi DS_RP_POPULATION_PRINC and
DS_RP_TD_POPULATION_AGESEX_PRINC) and of the populations légales (ensemble.zip), on hand-made fixtures in the
official format (tests/fixtures, invented figures), and on the genuine PL 2023 files of ../shared/realdata."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile

import duckdb
import pytest

from diagnostic.sources import SelectionVide, SourceFormatError, poplegale, rp_pop

from conftest import DECOUPAGE, FIXTURES, PROJECT, one as value

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


# ------------------------------------------------------------------------------------ populations légales
def test_poplegale_exact_values_arrondissements_and_vintage():
    df = poplegale.parse(PL_ZIP.parent, PL_SPEC)["stg_poplegale_commune"]
    assert len(df) == 6  # donnees_departements.csv in the same zip is not read
    assert "75056" not in set(df["code"])  # as in the genuine file: Paris only as its arrondissements
    arr = value(df, code="75101")
    assert (arr.pmun, arr.pcap, arr.ptot) == (400, 5, 405)
    assert (arr.millesime, arr.en_vigueur, arr.departement) == ("2023", "2026", "75")
    assert value(df, code="2A004").pmun == 500
    assert str(df["pmun"].dtype) == "Int64"


def test_poplegale_malformed_count_names_file_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(PL_ZIP, tmp_path / "raw" / "ensemble.zip", "donnees_communes.csv",
                lambda t: t.replace("Le Creusot;200;", "Le Creusot;deux cents;"))
    with pytest.raises(SourceFormatError) as err:
        poplegale.parse(tmp_path / "raw", PL_SPEC)
    assert "donnees_communes.csv, ligne 6, colonne 'PMUN'" in str(err.value)


def test_poplegale_needs_the_vintage_in_the_registry():
    with pytest.raises(SourceFormatError, match="annee"):
        poplegale.parse(PL_ZIP.parent, {})


# ---------------------------------------------------------------- populations légales, genuine PL 2023 file
REEL_PL = PROJECT.parent / "shared" / "realdata" / "poplegale-2023"
COG_COMMUNES = DECOUPAGE / "communes.json"


@pytest.fixture(scope="module")
def pl_reel():
    if not REEL_PL.is_dir():
        pytest.skip("fichiers réels absents (../shared/realdata/poplegale-2023)")
    path = REEL_PL / "donnees_communes.csv"
    return poplegale.parse_csv(path.read_bytes(), path.name, "2023", "2026")


def test_poplegale_genuine_file_saone_et_loire(pl_reel):
    sl = pl_reel[pl_reel["departement"] == "71"]
    assert len(sl) == 563
    assert int(sl["pmun"].sum()) == 550_310
    assert int(sl["ptot"].sum()) == 564_938
    with open(REEL_PL / "donnees_departements.csv", encoding="utf-8", newline="") as fh:
        dep = [r for r in csv.DictReader(fh, delimiter=";") if r["DEP"] == "71"]
    assert [(int(r["NBCOM"]), int(r["PMUN"]), int(r["PTOT"])) for r in dep] == [(563, 550_310, 564_938)]


def test_poplegale_genuine_file_shape(pl_reel):
    codes = set(pl_reel["code"])
    assert not codes & {"75056", "69123", "13055"}  # Paris, Lyon, Marseille only as arrondissements
    assert sum(c[:3] in ("751", "693", "132") for c in codes) == 45
    assert not any(c.startswith("976") for c in codes)  # Mayotte absent
    assert {c[:3] for c in codes if c.startswith("97")} == {"971", "972", "973", "974"}


def test_poplegale_pmun_equals_the_cog_population_of_every_commune(pl_reel):
    """PMUN of each row equals the `population` of the COG communes file (an arrondissement's own figure), and
    summed by commune of the target COG (arrondissements mapped to their commune) it equals the commune's."""
    cog = json.loads(COG_COMMUNES.read_text(encoding="utf-8"))
    par_code = {(c["code"], c["type"]): c for c in cog}
    commune_de = {c["code"]: c["commune"] for c in cog if c["type"] == "arrondissement-municipal"}
    ecarts, sommes = [], {}
    for code, pmun in zip(pl_reel["code"], pl_reel["pmun"]):
        ligne = par_code.get((code, "commune-actuelle")) or par_code.get((code, "arrondissement-municipal"))
        if ligne is None or ligne.get("population") != int(pmun):
            ecarts.append((code, pmun, ligne and ligne.get("population")))
        commune = commune_de.get(code, code)
        sommes[commune] = sommes.get(commune, 0) + int(pmun)
    assert ecarts == [] and len(pl_reel) == 34_900
    actuelles = {c["code"]: c.get("population") for c in cog if c["type"] == "commune-actuelle"}
    assert {k: actuelles[k] for k in sommes} == sommes
    assert sommes["75056"] == actuelles["75056"] == 2_103_778
    # what the COG file holds beyond the populations légales: Mayotte (17 communes) and the collectivités d'outre-mer
    absentes = {k[:3] for k in actuelles if k not in sommes}
    assert absentes == {"976", "975", "977", "978", "984", "986", "987", "988", "989"}


# ------------------------------------------------------------------------------- RP, Melodi (2023 onwards)
MELODI_CSV = FIXTURES / "rp_pop" / "melodi"
MELODI_PARQUET = FIXTURES / "rp_pop" / "melodi_parquet"
MELODI_MEMBER = "DS_RP_POPULATION_PRINC_2023_data.csv"


@pytest.fixture(scope="module")
def melodi():
    return rp_pop.parse(MELODI_CSV, {})


def test_melodi_long_csv_gives_the_staging_tables(melodi):
    age, commune = melodi["stg_rp_pop_age_sexe"], melodi["stg_rp_pop_commune"]
    assert sorted(commune["annee"].unique()) == ["2017", "2023"]
    assert set(commune["code"]) == {"75056", "75101", "75102", "2A004", "71134", "71153"}  # the DEP row left out
    row = value(commune, annee="2023", code="71153")
    assert (row.population, row.pop_0019, row.pop_65p) == (347.0, 77.0, 67.0)  # 170.5 + 176.5
    assert value(commune, annee="2017", code="71153").population == 352.0
    assert sorted(age["tranche_age"].unique()) == ["00-14", "15-24", "25-39", "40-54", "55-64", "65-79", "80+"]
    assert value(age, annee="2023", code="71153", sexe="H", tranche_age="00-14").population == 30.5
    assert value(age, annee="2023", code="75101", sexe="F", tranche_age="80+").population == 2.0
    assert set(age["sexe"]) == {"H", "F"} and len(age) == 6 * 2 * 2 * 7


def test_melodi_bands_add_up_to_the_population(melodi):
    sums = melodi["stg_rp_pop_age_sexe"].groupby(["annee", "code"])["population"].sum().sort_index()
    pops = melodi["stg_rp_pop_commune"].set_index(["annee", "code"])["population"].sort_index()
    assert (sums == pops).all()


def test_melodi_parquet_member_gives_the_same_tables_and_drops_status_k(melodi):
    out = rp_pop.parse(MELODI_PARQUET, {})
    for name, df in melodi.items():
        keys = [c for c in df.columns if c != "population" and df[c].dtype == "string"]
        a = df.sort_values(keys).reset_index(drop=True)
        b = out[name].sort_values(keys).reset_index(drop=True)
        assert a.equals(b), name
    assert "71304" not in set(out["stg_rp_pop_commune"]["code"])  # OBS_STATUS K: included in another commune


def test_melodi_missing_age_class_is_an_error_listing_the_classes(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(MELODI_CSV / "DS_RP_POPULATION_PRINC_2023_CSV_FR", tmp_path / "raw" / "melodi.zip", MELODI_MEMBER,
                lambda t: t.replace("Y_GE80;", "Y80T89;"))
    with pytest.raises(SelectionVide) as err:
        rp_pop.parse(tmp_path / "raw", {})
    message = str(err.value)
    assert "« Y_GE80 »" in message and "Y80T89" in message and "classes d'âge présentes" in message


def test_melodi_malformed_value_names_file_line_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(MELODI_CSV / "DS_RP_POPULATION_PRINC_2023_CSV_FR", tmp_path / "raw" / "melodi.zip", MELODI_MEMBER,
                lambda t: t.replace("Y_LT15;71153;COM;POP;M;2023;30.5", "Y_LT15;71153;COM;POP;M;2023;trente"))
    lines = zipfile.ZipFile(MELODI_CSV / "DS_RP_POPULATION_PRINC_2023_CSV_FR").read(MELODI_MEMBER).decode().split("\n")
    ligne = lines.index("Y_LT15;71153;COM;POP;M;2023;30.5") + 1
    with pytest.raises(SourceFormatError, match=rf"{MELODI_MEMBER}, ligne {ligne}, colonne 'OBS_VALUE' : valeur non numérique 'trente'"):
        rp_pop.parse(tmp_path / "raw", {})


def test_melodi_missing_column_is_a_french_error(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(MELODI_CSV / "DS_RP_POPULATION_PRINC_2023_CSV_FR", tmp_path / "raw" / "melodi.zip", MELODI_MEMBER,
                lambda t: t.replace("RP_MEASURE", "MESURE", 1))
    with pytest.raises(SourceFormatError, match=r"colonne\(s\) attendue\(s\) absente\(s\) : RP_MEASURE"):
        rp_pop.parse(tmp_path / "raw", {})


# the 2023 vintage as the registry lists it: single years of age (latest census) + PRINC (earlier censuses)
PAIRE = FIXTURES / "rp_pop" / "melodi_paire"
TD_ZIP, TD_MEMBER = PAIRE / "DS_RP_TD_POPULATION_AGESEX_PRINC_2023_CSV_FR", "DS_RP_TD_POPULATION_AGESEX_PRINC_2023_data.csv"


def td_values() -> dict:
    """(code, SEX, age in years) -> value, read from the fixture with the csv module (independent of the parser)."""
    import io

    text = zipfile.ZipFile(TD_ZIP).read(TD_MEMBER).decode("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(text), delimiter=";"):
        if r["GEO_OBJECT"] in ("COM", "ARM") and r["SEX"] in ("M", "F") and r["AGE"] != "_T":
            out[(r["GEO"], r["SEX"], 100 if r["AGE"] == "Y_GE100" else int(r["AGE"][1:]))] = float(r["OBS_VALUE"])
    return out


def test_melodi_pair_gives_the_legacy_bands_from_single_years():
    out = rp_pop.parse(PAIRE, {})
    age, commune = out["stg_rp_pop_age_sexe"], out["stg_rp_pop_commune"]
    assert sorted(age["tranche_age"].unique()) == sorted(rp_pop.BANDES.values())  # the models' 15-year bands
    assert set(age["annee"]) == {"2023"} and set(commune["annee"]) == {"2023", "2017"}
    v = td_values()
    attendu = sum(v[("71153", "F", a)] for a in range(75, 90))
    assert round(value(age, annee="2023", code="71153", sexe="F", tranche_age="75-89").population, 9) == round(attendu, 9)
    attendu = v[("75101", "M", 90)] + sum(v[("75101", "M", a)] for a in range(91, 101))
    assert round(value(age, annee="2023", code="75101", sexe="H", tranche_age="90+").population, 9) == round(attendu, 9)
    row = value(commune, annee="2023", code="2A004")
    assert round(row.pop_0019, 9) == round(sum(v[("2A004", s, a)] for s in "MF" for a in range(20)), 9)
    assert round(row.pop_65p, 9) == round(sum(v[("2A004", s, a)] for s in "MF" for a in range(65, 101)), 9)
    assert round(row.population, 9) == round(sum(x for (c, _, _), x in v.items() if c == "2A004"), 9)
    # the earlier census from PRINC (same figures as the PRINC file read alone)
    assert value(commune, annee="2017", code="71153").population == 352.0
    assert "71" not in set(commune["code"])  # the DEP rows left out


def test_melodi_pair_missing_single_year_is_an_error(tmp_path):
    (tmp_path / "raw").mkdir()
    rewrite_zip(TD_ZIP, tmp_path / "raw" / TD_ZIP.name, TD_MEMBER, lambda t: t.replace('"Y37"', '"Y37T38"'))
    shutil.copy(PAIRE / "DS_RP_POPULATION_PRINC_2023_CSV_FR", tmp_path / "raw")
    with pytest.raises(SelectionVide, match="aucun âge ne correspond à « Y37 »"):
        rp_pop.parse(tmp_path / "raw", {})


def test_melodi_pair_needs_both_files(tmp_path):
    (tmp_path / "raw").mkdir()
    shutil.copy(TD_ZIP, tmp_path / "raw")
    shutil.copy(RP_ZIP, tmp_path / "raw")
    with pytest.raises(SourceFormatError, match="une archive DS_RP_TD_POPULATION_AGESEX_PRINC et une archive"):
        rp_pop.parse(tmp_path / "raw", {})


def test_registry_2023_vintage_is_the_melodi_pair():
    import tomllib

    registre = tomllib.loads((PROJECT / "pipelines" / "sources.toml").read_text(encoding="utf-8"))["rp_pop"]
    urls = registre["vintages"]["2023"]["files"]
    assert {u.rsplit("/", 1)[-1] for u in urls.values()} == {p.name for p in PAIRE.iterdir()}
    assert registre["vintages"]["2023"]["millesimes"] == {"rp_pop_prec": "2017"}


def test_melodi_pair_feeds_the_models_as_the_legacy_file_does():
    """The 2023 vintage staged in a tiny warehouse (fixture COG) with rp_pop = 2023 and rp_pop_prec = 2017: the age
    indicators and the change between censuses come out of the same models, from the single years."""
    import duckdb as ddb

    from diagnostic import warehouse
    from test_indicateurs_sante import EPCI, META, base_staging, mart

    meta = [m for m in META if m[0] not in ("rp_pop", "rp_pop_prec")] + [("rp_pop", "rp_pop", "2023"),
                                                                          ("rp_pop_prec", "rp_pop", "2017")]
    db = ddb.connect()
    warehouse.run_models(db, base_staging() | {"rp_pop": rp_pop.parse(PAIRE, {})}, meta,
                         warehouse.BuildReport(rebuilt=True), {"professionnels": 1, "patients": 1})
    v = td_values()
    communes = ("71134", "71153")  # the CC of the fixture COG
    p75 = sum(x for (c, _, a), x in v.items() if c in communes and a >= 75)
    pop = sum(x for (c, _, _), x in v.items() if c in communes)
    r = mart(db, "epci", EPCI, "part_75_ans_et_plus")
    assert (round(r["numerateur"], 9), round(r["denominateur"], 9), r["millesime"]) == (round(p75, 9), round(pop, 9), "2023")
    evol = mart(db, "epci", EPCI, "evol_population_rp")
    assert evol["millesime"] == "2017-2023" and round(evol["denominateur"], 9) == 32.5 + 352.0  # PRINC 2017 totals
