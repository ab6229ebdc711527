"""Parser of the FINESS geolocated extraction (etalab-cs1100507) on a hand-made fixture in the official layout
(tests/fixtures/finess, invented establishments « ÉTABLISSEMENT FICTIF n »), and the establishment models
(075_int_etablissements.sql, 98_mart_indicateurs_etablissements.sql, etablissements_perimetre.sql) on the
tiny warehouse of tests/test_indicateurs_sante.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from diagnostic import warehouse
from diagnostic.registry import load_registry
from diagnostic.sources import SourceFormatError, finess

from conftest import FIXTURES, PROJECT
from test_indicateurs_sante import base_staging, build

FILE = FIXTURES / "finess" / "98f3161f-79ff-4f16-8f6a-6d571a80fea2"
GROUPES = ["hopital", "clinique", "clcc", "ehpad", "centre_sante", "msp", "pharmacie", "laboratoire"]


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """IGN algorithms ALG0004 / ALG0001 (inverse Lambert conformal conic, GRS80), written from the IGN
    constants of Lambert-93 and independent of pyproj. RGF93 and WGS84 agree to a few centimetres."""
    n, c, xs, ys = 0.7256077650532670, 11754255.4261, 700000.0, 12655612.0499
    e, lon0 = 0.0818191910428158, math.radians(3.0)
    dx, dy = x - xs, y - ys
    r = math.hypot(dx, dy)
    gamma = math.atan(dx / -dy)
    lon = lon0 + gamma / n
    iso = -math.log(abs(r / c)) / n
    lat = 2 * math.atan(math.exp(iso)) - math.pi / 2
    for _ in range(20):
        s = e * math.sin(lat)
        lat = 2 * math.atan(((1 + s) / (1 - s)) ** (e / 2) * math.exp(iso)) - math.pi / 2
    return math.degrees(lon), math.degrees(lat)


@pytest.fixture(scope="module")
def etab() -> pd.DataFrame:
    return finess.parse(FILE.parent)["stg_finess_etablissement"].set_index("nofinesset")


# ------------------------------------------------------------------------------------------------ parser
def test_one_row_per_establishment_with_the_schema_columns(etab):
    assert len(etab) == 10  # the geolocalisation row of an unknown establishment (710000086) is dropped
    assert list(etab.reset_index().columns) == list(finess.tables()["stg_finess_etablissement"].columns)
    assert set(etab["date_extraction"]) == {"2026-05-12"}


def test_insee_code_is_built_from_departement_and_commune(etab):
    codes = etab["code_commune"].to_dict()
    assert codes["710000011"] == "71153"  # 71 + 153, Le Creusot
    assert codes["710000037"] == "71306"  # Montceau-les-Mines
    assert codes["710000045"] == "71304"  # a former commune code, kept as written
    assert codes["2A0000010"] == "2A004"  # Corse-du-Sud keeps its letter
    assert codes["970100020"] == "97101"  # 9A (Guadeloupe) + 101: 97 + 101
    assert codes["750000018"] == "75101"  # an arrondissement municipal
    assert finess.code_insee("9F", "611") == "97611"  # Mayotte
    assert finess.code_insee("9J", "613") == "98613"  # Wallis-et-Futuna
    assert finess.code_insee("1", "45") == "01045"  # leading zeros lost by a spreadsheet
    assert finess.code_insee("9Z", "101") == "9Z101"  # unknown: kept, refused by the schema below
    assert finess.code_insee("", "140") is None


def test_latin1_accents_and_quoted_fields(etab):
    assert etab.at["710000011", "rs"] == "ÉTABLISSEMENT FICTIF 1"
    assert etab.at["710000045", "rs"] == 'ÉTABLISSEMENT FICTIF 4 "LES TILLEULS"'  # quoted, quotes doubled
    assert etab.at["710000045", "libcategetab"] == "Etablissement d'hébergement pour personnes âgées dépendantes"
    assert pd.isna(etab.at["710000029", "rslongue"])  # empty field -> missing
    assert etab.at["710000011", "categetab"] == "355" and etab.at["710000011", "categagretab"] == "1102"
    assert etab.at["710000011", "dateouv"] == "1975-01-01"


def test_lambert93_points_are_converted_to_wgs84(etab):
    row = etab.loc["710000011"]
    assert (row.x, row.y, row.epsg) == (808782.1, 6634744.6, 2154)
    assert row.source_coord == "1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)"
    lon, lat = lambert93_to_wgs84(808782.1, 6634744.6)
    assert row.lon == pytest.approx(lon, abs=1e-6) and row.lat == pytest.approx(lat, abs=1e-6)
    assert (round(row.lon, 4), round(row.lat, 4)) == (4.4265, 46.804)  # Le Creusot
    corse = etab.loc["2A0000010"]
    assert (corse.lon, corse.lat) == pytest.approx(lambert93_to_wgs84(1176526.6, 6108263.0), abs=1e-6)


def test_other_projections_are_read_from_the_file():
    # Control values from third-party code (pyproj, 5 decimals): CH de Fleyriat in Lambert-93 and a
    # Guadeloupe site in RGAF09 / UTM 20N.
    x, y, epsg = pd.Series([870262.2, 657242.9]), pd.Series([6571540.8, 1795384.4]), pd.Series([2154, 5490], dtype="Int64")
    lon, lat = finess.to_wgs84(x, y, epsg)
    assert [round(v, 5) for v in lon] == [5.20918, -61.52874]
    assert [round(v, 5) for v in lat] == [46.22229, 16.234]
    assert lambert93_to_wgs84(870262.2, 6571540.8) == pytest.approx((5.20918, 46.22229), abs=1e-5)
    assert finess.epsg_of("2,ATLASANTE,100,BDADRESSE,EPSG:4471 RGM04/UTM zone 38S (Mayotte)") == 4471
    assert finess.epsg_of("2,ATLASANTE,90,BAN,WGS84/UTM zone 21N (St-Pierre-et-Miquelon)") == 32621
    assert finess.epsg_of("9,ATLASANTE,.,MAPS 06-11-2024,Projection inconnue") is None


def test_drom_unknown_projection_and_missing_coordinates(etab):
    gp = etab.loc["970100020"]
    assert gp.epsg == 5490 and (round(gp.lon, 5), round(gp.lat, 5)) == (-61.52874, 16.234)
    unknown = etab.loc["710000060"]  # coordinates kept, projection not recognised: no lon / lat
    assert (unknown.x, unknown.y) == (1.0, 2.0) and pd.isna(unknown.epsg) and pd.isna(unknown.lon)
    none = etab.loc["710000052"]  # no geolocalisation row
    assert pd.isna(none.x) and pd.isna(none.source_coord) and pd.isna(none.lat)


def test_utf8_and_mixed_encodings_are_read(tmp_path):
    text = FILE.read_bytes().decode("cp1252")
    (tmp_path / "utf8").mkdir()
    (tmp_path / "utf8" / "f.csv").write_text(text, encoding="utf-8")
    utf8 = finess.parse(tmp_path / "utf8")["stg_finess_etablissement"]
    pd.testing.assert_frame_equal(utf8, finess.parse(FILE.parent)["stg_finess_etablissement"])
    lines = text.splitlines()
    mixed = "\n".join(lines[:3]).encode("utf-8") + b"\n" + "\n".join(lines[3:]).encode("cp1252") + b"\n"
    (tmp_path / "mixte").mkdir()
    (tmp_path / "mixte" / "f.csv").write_bytes(mixed)
    df = finess.parse(tmp_path / "mixte")["stg_finess_etablissement"].set_index("nofinesset")
    assert df.at["710000011", "rs"] == "ÉTABLISSEMENT FICTIF 1" and df.at["710000045", "rs"].startswith("ÉTABLISSEMENT")


def test_check_file_accepts_the_fixture():
    finess.check_file(FILE, name="etalab-cs1100507.csv")


def refused(tmp_path, text: str) -> str:
    path = tmp_path / "etalab.csv"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(SourceFormatError) as err:
        finess.check_file(path, name="etalab.csv")
    return str(err.value)


def fixture_lines() -> list[str]:
    return FILE.read_bytes().decode("cp1252").splitlines()


def test_a_file_without_the_metadata_line_is_refused(tmp_path):
    lines = fixture_lines()
    msg = refused(tmp_path, "\n".join(["type;nofinesset;nofinessej"] + lines[1:]))
    assert "etalab.csv, ligne 1" in msg and "finess;etalab" in msg
    assert "ligne 1" in refused(tmp_path, "\n".join(lines[1:]))  # first line missing: a structureet row is not it


def test_a_structureet_row_with_a_missing_column_names_row_and_column(tmp_path):
    lines = fixture_lines()
    assert lines[2].startswith("structureet;710000029") and lines[2].endswith(";")
    lines[2] = lines[2][:-1]  # 31 fields: numuai missing
    msg = refused(tmp_path, "\n".join(lines))
    assert "etalab.csv, ligne 3, colonne 'numuai' : absente" in msg and "31 champs au lieu de 32" in msg


def test_a_row_with_an_extra_column_names_row_and_column(tmp_path):
    lines = fixture_lines()
    assert lines[11].startswith("geolocalisation;710000011")
    lines[11] += ";EN TROP"
    msg = refused(tmp_path, "\n".join(lines))
    assert "ligne 12, colonne 7 : inattendue" in msg and "« geolocalisation » de 7 champs au lieu de 6" in msg


def test_unknown_row_type_bad_coordinate_bad_code_are_refused(tmp_path):
    lines = fixture_lines()
    assert "ligne 5, colonne 'type'" in refused(tmp_path, "\n".join(lines[:4] + ["structurepj;x"] + lines[4:]))
    bad = [line.replace("808782.1", "808 782,1 m") for line in lines]
    assert "ligne 12, colonne 'coordxet' : coordonnée non numérique" in refused(tmp_path, "\n".join(bad))
    bad = [line.replace(";153;71;", ";15X;71;") if line.startswith("structureet;710000029") else line for line in lines]
    msg = refused(tmp_path, "\n".join(bad))
    assert "etalab.csv mal formé" in msg and "ligne 3, colonne 'code_commune'" in msg and "7115X" in msg


def test_the_extract_without_coordinates_is_refused(tmp_path):
    lines = [line for line in fixture_lines() if not line.startswith("geolocalisation")]
    assert "etalab-cs1100502" in refused(tmp_path, "\n".join(lines))


def test_registry_entry():
    source = load_registry(PROJECT / "pipelines" / "sources.toml")["finess"]
    assert source.parser == "finess" and source.format_of() == "json.gz" and source.format_of("2026-05-12") == "csv"
    assert source.latest == "2026-08" and list(source.files()) == ["finess-structures-mensuel-202608.json.gz"]
    assert list(source.files("2026-05-12")) == [FILE.name]  # the fixture is named as the pipeline stores the download
    assert int(source.vintage()["max_octets"]) >= 60_000_000
    assert source.preuve.niveau == "fichier réel" and source.preuve.verifie_le == "2026-12-01"


def test_grouped_categories_are_those_of_the_model_and_required(tmp_path):
    import re

    sql = (PROJECT / "src" / "diagnostic" / "models" / "intermediaire" / "075_int_etablissements.sql").read_text(encoding="utf-8")
    bloc = sql[sql.index("CREATE OR REPLACE TABLE int_categorie_etablissement"):]
    bloc = bloc[:bloc.index(") t(categetab, groupe)")]
    assert sorted(re.findall(r"\('(\d{3})', '\w+'\)", bloc)) == sorted(finess.CATEGORIES_GROUPEES)
    lines = fixture_lines()  # every category replaced by one no group holds: refused, the codes present listed
    autres = [";".join(f[:18] + ["999"] + f[19:]) if f[0] == "structureet" else line
              for line, f in ((line, line.split(";")) for line in lines)]
    msg = refused(tmp_path, "\n".join(autres))
    assert "aucun établissement d'une catégorie que le rapport regroupe" in msg and "catégories présentes : 999" in msg


def test_a_trailing_semicolon_on_every_row_of_a_section_is_accepted(tmp_path):
    """data.gouv's pipeline notes extracts with one more `;` per row (33 and 7 fields): same rows read."""
    lines = fixture_lines()
    longer = [line + ";" if line.startswith(("structureet", "geolocalisation")) else line for line in lines]
    (tmp_path / "plus").mkdir()
    (tmp_path / "plus" / "f.csv").write_bytes("\n".join(longer).encode("cp1252"))
    assert all(len(line.split(";")) in (33, 7) for line in longer[1:] if not line.startswith("structureet;710000045"))
    pd.testing.assert_frame_equal(finess.parse(tmp_path / "plus")["stg_finess_etablissement"],
                                  finess.parse(FILE.parent)["stg_finess_etablissement"])
    longer[11] += "X"  # the extra field is not empty: refused, row and column named
    assert "ligne 12, colonne 7 : inattendue" in refused(tmp_path, "\n".join(longer))


def test_directory_fields_of_the_extraction(etab):
    first = etab.loc["710000011"]
    assert (first.adresse, first.code_postal, first.ligne_acheminement) == ("1 R FICTIVE", "71200", "LE CREUSOT")
    assert pd.isna(first.nom_ej)


# ------------------------------------------------------------------------------------------------ models
@pytest.fixture(scope="module")
def con():
    staged = base_staging()
    staged["finess"] = finess.parse(FILE.parent)
    yield build(staged)


def counts(con, communes: list[str]) -> dict[str, float]:
    selection = pd.DataFrame({"territoire_type": "perimetre", "territoire_code": "p", "territoire_nom": "Périmètre",
                              "commune": communes})
    df = warehouse.indicateurs(con, selection)
    df = df[df["indicateur"].str.startswith("nb_etab_")]
    assert set(df["statut"]) == {"ok"} and set(df["source"]) == {"finess"} and set(df["millesime"]) == {"2026-05-12"}
    return dict(zip(df["indicateur"], df["valeur"]))


def test_establishments_are_harmonised_to_the_target_cog(con):
    rows = dict(con.sql("SELECT nofinesset, code || ' ' || groupe FROM int_etablissement").fetchall())
    assert rows == {"710000011": "71153 hopital", "710000029": "71153 pharmacie", "710000045": "71134 ehpad",
                    "2A0000010": "2A004 centre_sante", "750000018": "75056 laboratoire", "710000052": "71153 clcc",
                    "710000060": "71153 autre", "710000078": "71153 autre"}
    unknown = dict(con.sql("SELECT code, nb_etablissements FROM int_finess_codes_inconnus").fetchall())
    assert unknown == {"71306": 1, "97101": 1}  # not in the fixture COG: reported, not attached


def test_perimeter_counts_equal_the_sum_over_its_communes(con):
    communes = ["71153", "71134", "2A004", "75056"]
    total = counts(con, communes)
    assert total == {"nb_etab_hopital": 1, "nb_etab_clinique": 0, "nb_etab_clcc": 1, "nb_etab_ehpad": 1,
                     "nb_etab_centre_sante": 1, "nb_etab_msp": 0, "nb_etab_pharmacie": 1, "nb_etab_laboratoire": 1}
    per_commune = [counts(con, [c]) for c in communes]
    assert total == {k: sum(c[k] for c in per_commune) for k in total}


def test_mart_rows_for_every_territory(con):
    rows = con.sql("SELECT territoire_type, territoire_code, indicateur, valeur FROM mart_indicateurs "
                   "WHERE indicateur LIKE 'nb_etab_%'").df()
    assert sorted(rows["indicateur"].unique()) == sorted(f"nb_etab_{g}" for g in GROUPES)
    epci = rows[rows["territoire_type"].eq("epci")].set_index("indicateur")["valeur"]
    assert epci["nb_etab_hopital"] == 1 and epci["nb_etab_ehpad"] == 1 and epci["nb_etab_msp"] == 0
    france = rows[rows["territoire_type"].eq("france")]["valeur"].sum()
    assert france == 6  # 8 establishments in known communes, 2 of them 'autre'


def test_source_absent_gives_non_disponible():
    db = build(base_staging())  # no FINESS staged: its empty staging table comes from the parser's schema
    df = db.sql("SELECT statut, valeur FROM mart_indicateurs WHERE indicateur LIKE 'nb_etab_%'").df()
    assert len(df) and set(df["statut"]) == {"non_disponible"} and df["valeur"].isna().all()


def test_list_of_establishments_of_a_perimeter(con):
    selection = pd.DataFrame({"territoire_type": ["perimetre", "perimetre", "departement"],
                              "territoire_code": ["p", "p", "75"], "territoire_nom": ["P", "P", "Paris"],
                              "commune": ["71153", "71134", "75056"]})
    con.register("selection_territoire", selection)
    try:
        df = con.sql(warehouse.model_sql("etablissements_perimetre.sql")).df()
    finally:
        con.unregister("selection_territoire")
    assert set(df["territoire_code"]) == {"p"}  # the perimeter's rows only, keyed by the perimeter
    assert list(df.columns) == ["territoire_code", "nofinesset", "nom", "groupe", "groupe_libelle", "categetab", "libcategetab",
                                "code_commune", "nom_commune", "lon", "lat"]
    # groupe order, then commune, then name (text order: « … FICTIF 10 » before « … FICTIF 9 »)
    assert df["nofinesset"].tolist() == ["710000011", "710000052", "710000045", "710000029", "710000078", "710000060"]
    assert df["groupe"].tolist() == ["hopital", "clcc", "ehpad", "pharmacie", "autre", "autre"]
    first = df.iloc[0]
    assert (first.nom, first.code_commune, first.groupe_libelle) == ("ÉTABLISSEMENT FICTIF 1", "71153", "Hôpitaux")
    assert (round(first.lon, 4), round(first.lat, 4)) == (4.4265, 46.804)
    assert pd.isna(df.set_index("nofinesset").at["710000052", "lon"])
