"""The SQL models on hand-made fixtures (tests/fixtures, invented figures): a merged commune, a `2A`
code with its pre-1976 code, a Paris arrondissement, a collectivité d'outre-mer."""

from __future__ import annotations

import duckdb
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from diagnostic import warehouse
from diagnostic.sources import apl, cog

from conftest import FIXTURES

# Hand-made APL rows in the layout the parser produces (invented figures).
APL = pd.DataFrame(
    [
        # code, apl, pop standardisée, pop totale
        ("75101", 4.0, 100.0, 90.0),
        ("75102", 2.0, 300.0, 310.0),
        ("20004", 3.0, 50.0, 50.0),     # pre-1976 code of Ajaccio
        ("71055", 1.0, 10.0, 12.0),     # former commune, now in 71134
        ("71304", 3.0, 30.0, 28.0),     # former commune, now in 71134
        ("71153", 2.6, 200.0, 200.0),
        ("99999", 9.0, 1.0, 1.0),       # unknown code
    ],
    columns=["code", "apl_mg", "pop_standardisee", "pop_totale"],
).assign(millesime="2023", nom=None, apl_mg_moins_65=0.0, annee_population="2021")


@pytest.fixture(scope="module")
def con():
    staged_cog = cog.parse(FIXTURES / "decoupage")
    polygons = gpd.GeoDataFrame(  # 2018 polygons: 1 km squares in Lambert-93, former codes included
        {"code": ["75056", "20004", "71055", "71304", "71153"], "nom": list("abcde")},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000),
                  box(3000, 0, 4000, 1000), box(4000, 0, 5000, 1000)],
        crs=2154,
    ).to_crs(4326)
    deps = gpd.GeoDataFrame({"code": ["71"], "nom": ["Saône-et-Loire"]}, geometry=[box(0, 0, 5000, 1000)], crs=2154).to_crs(4326)
    staged = {
        "cog": staged_cog,
        "contours": {"geo_commune_2018": polygons, "geo_departement": deps},
        "apl_mg": {"stg_apl_mg": APL[list(apl.APL.columns)]},
    }
    db = duckdb.connect()
    report = warehouse.BuildReport(rebuilt=True)
    warehouse.run_models(db, staged, [("cog", "cog", "2026"), ("contours", "contours", "2018"),
                                       ("apl_mg", "apl_mg", "2023"), ("apl_mg_prec", "apl_mg", "2022")], report)
    yield db


def passage(con, code):
    return con.execute("SELECT code_commune, nature FROM int_cog_passage WHERE code_source = ?", [code]).fetchone()


def test_passage_rules(con):
    assert passage(con, "75101") == ("75056", "arrondissement municipal")
    assert passage(con, "20004") == ("2A004", "ancien code")
    assert passage(con, "2A004") == ("2A004", "commune")
    assert passage(con, "71055") == ("71134", "commune déléguée")  # déléguée wins over ancien code
    assert passage(con, "71304") == ("71134", "ancien code")
    assert passage(con, "99999") is None


def test_apl_harmonised_with_standardised_weights(con):
    rows = dict(con.sql("SELECT code, apl_mg FROM int_commune_apl").fetchall())
    assert rows["75056"] == pytest.approx((4 * 100 + 2 * 300) / 400)
    assert rows["71134"] == pytest.approx((1 * 10 + 3 * 30) / 40)
    assert rows["2A004"] == 3.0
    assert con.sql("SELECT code FROM int_apl_codes_inconnus").fetchall() == [("99999",)]


def test_share_under_threshold_counted_before_merging(con):
    # 71134 merges a commune under 2.5 (71055, 12 inhabitants) and one above (71304, 28):
    # its weighted APL is 2.5, yet 12 of its inhabitants live in a commune under the threshold.
    row = con.sql("SELECT apl_pop_inf_2_5, apl_pop_totale FROM int_commune WHERE code = '71134'").fetchone()
    assert row == (12.0, 40.0)


def test_merged_polygons_dissolved_and_area(con):
    rows = dict(con.sql("SELECT code, superficie_km2 FROM geo_commune").fetchall())
    assert set(rows) == {"75056", "2A004", "71134", "71153"}
    assert rows["71134"] == pytest.approx(2.0, rel=1e-6)  # two 1 km² squares dissolved
    assert rows["75056"] == pytest.approx(1.0, rel=1e-6)


def test_france_excludes_collectivites_outre_mer(con):
    france = con.sql("SELECT commune FROM int_territoire_commune WHERE territoire_type = 'france' ORDER BY 1").fetchall()
    assert [c for (c,) in france] == ["2A004", "71134", "71153", "75056"]
    pop = con.sql("SELECT valeur FROM mart_indicateurs WHERE territoire_type = 'france' AND indicateur = 'population'").fetchone()[0]
    assert pop == 1000 + 500 + 300 + 200


def test_mart_for_epci_counts_then_divides(con):
    m = dict(con.sql("SELECT indicateur, valeur FROM mart_indicateurs WHERE territoire_type = 'epci'").fetchall())
    assert m["nb_communes"] == 2 and m["population"] == 500
    assert m["apl_mg"] == pytest.approx((1 * 10 + 3 * 30 + 2.6 * 200) / 240)
    assert m["part_pop_apl_mg_inf_2_5"] == pytest.approx(100 * 12 / 240)
    assert m["apl_mg_prec"] is None  # no 2022 rows in the fixture


def test_missing_previous_vintage_is_non_disponible(con):
    statut = con.sql("SELECT statut FROM mart_indicateurs WHERE territoire_type = 'epci' AND indicateur = 'apl_mg_prec'").fetchone()[0]
    assert statut == "non_disponible"
