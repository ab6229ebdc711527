"""The health models and indicator marts (06-08, 92-95) on a tiny in-memory warehouse built as
tests/test_models.py does, from the hand-made fixtures of tests/fixtures (invented figures). Expected
values are computed by hand below.

Fixture territories (decoupage fixture): Paris 75056 (arrondissements 75101, 75102), Ajaccio 2A004,
Navour-sur-Grosne 71134 (former communes 71055, 71304) and Le Creusot 71153, the two forming the CC
200000002; population municipale 1000, 500, 300, 200.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from diagnostic import staging, warehouse
from diagnostic.sources import (ameli_ald_mt, ameli_demographie, ameli_effectifs, apl, apl_autres, cog, poplegale,
                                rp_pop, rpps)

from conftest import FIXTURES

EPCI = "200000002"
META = [("cog", "cog", "2026"), ("contours", "contours", "2018"), ("apl_mg", "apl_mg", "2023"),
        ("apl_mg_prec", "apl_mg", "2022"), ("rp_pop", "rp_pop", "2022"), ("rp_pop_prec", "rp_pop", "2016"),
        ("poplegale", "poplegale", "2023"), ("rpps", "rpps", "2026-04-27"),
        ("ameli_demographie", "ameli_demographie", "2024"), ("ameli_effectifs", "ameli_effectifs", "2024"),
        ("ameli_ald_mt", "ameli_ald_mt", "2024"), ("apl_autres", "apl_autres", "2023"),
        ("apl_autres_prec", "apl_autres", "2022")]
PATHOLOGIES = {"diabete": "DIA_CAT_CAT", "cardioneurovasculaire": "MCV_CAT_CAT", "cancers": "CAN_CAT_CAT",
               "psychiatrie": "PSY_CAT_CAT", "respiratoire": "RES_CAT_EXC", "ald": "ALD_CAT_CAT"}
MODULES = {"rp_pop": rp_pop, "poplegale": poplegale, "rpps": rpps, "ameli_demographie": ameli_demographie,
           "ameli_effectifs": ameli_effectifs, "ameli_ald_mt": ameli_ald_mt, "apl_autres": apl_autres}
SPECS = {"poplegale": {"annee": "2023", "en_vigueur": "2026"}, "ameli_effectifs": {"pathologies": PATHOLOGIES},
         "apl_autres": {"sheets": ["APL 2022", "APL 2023"]}}
NOUVEAUX = ["06_int_population.sql", "07_int_offre_soins.sql", "08_int_sante.sql"]


def base_staging() -> dict:
    """cog, contours and no GP APL (its empty table comes from its parser's schema), as tests/test_models.py
    stages them."""
    polygons = gpd.GeoDataFrame(
        {"code": ["75056", "20004", "71055", "71304", "71153"], "nom": list("abcde")},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(5)], crs=2154,
    ).to_crs(4326)
    deps = gpd.GeoDataFrame({"code": ["71"], "nom": ["Saône-et-Loire"]}, geometry=[box(0, 0, 5000, 1000)], crs=2154).to_crs(4326)
    return {"cog": cog.parse(FIXTURES / "decoupage"),
            "contours": {"geo_commune_2018": polygons, "geo_departement": deps},
            "apl_mg": {}}


def build(staged: dict) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    # counting rules are tested here without secret statistique (thresholds of 1): see test_secret.py
    warehouse.run_models(db, staged, META, warehouse.BuildReport(rebuilt=True), {"professionnels": 1, "patients": 1})
    return db


def fixture_warehouse() -> duckdb.DuckDBPyConnection:
    """The tiny in-memory warehouse built from every hand-made fixture source (also used by test_local)."""
    staged = base_staging()
    for sid, module in MODULES.items():
        staged[sid] = module.parse(FIXTURES / sid, SPECS.get(sid, {}))
    return build(staged)


@pytest.fixture(scope="module")
def con():
    yield fixture_warehouse()


def mart(con, ttype, code, indicateur):
    rows = con.execute(
        "SELECT valeur, numerateur, denominateur, millesime, source, statut FROM mart_indicateurs "
        "WHERE territoire_type = ? AND territoire_code = ? AND indicateur = ?", [ttype, code, indicateur]).fetchall()
    assert len(rows) == 1, (ttype, code, indicateur, rows)
    return dict(zip(["valeur", "numerateur", "denominateur", "millesime", "source", "statut"], rows[0]))


def perimetre(con, communes: list[str]) -> pd.DataFrame:
    selection = pd.DataFrame({"territoire_type": "perimetre", "territoire_code": "p", "territoire_nom": "Périmètre",
                              "commune": communes})
    return warehouse.indicateurs(con, selection).set_index("indicateur")


# --------------------------------------------------------------------------------------------- contract
def test_one_row_per_territory_and_indicator(con):
    n = con.sql("SELECT count(*) FROM ref_indicateur").fetchone()[0]
    counts = con.sql("SELECT territoire_type, territoire_code, count(*), count(DISTINCT indicateur) "
                     "FROM mart_indicateurs GROUP BY ALL").fetchall()
    assert counts and all(c == d == n for _, _, c, d in counts)
    assert {s for (s,) in con.sql("SELECT DISTINCT statut FROM mart_indicateurs").fetchall()} <= {
        "ok", "secret", "non_disponible", "estimation"}


def test_fixture_parses_match_the_generated_staging_tables():
    """Each parser's output on its fixture has the columns and types of the empty table generated from its schemas."""
    db = duckdb.connect()
    for sid, module in MODULES.items():
        for name, schema in module.tables(SPECS.get(sid, {})).items():
            staging.create(db, name, module.parse(FIXTURES / sid, SPECS.get(sid, {}))[name])
            db.execute(staging.ddl(f"{name}_vide", schema))
            assert db.sql(f"DESCRIBE {name}_vide").fetchall() == db.sql(f"DESCRIBE {name}").fetchall(), name


def test_unavailable_sources_give_non_disponible_never_zero():
    staged = base_staging() | {sid: {} for sid in MODULES}
    db = build(staged)
    nouveaux = set(warehouse.catalogue()["indicateur"][8:])
    rows = db.sql("SELECT indicateur, valeur, statut FROM mart_indicateurs").df()
    rows = rows[rows["indicateur"].isin(nouveaux)]
    assert len(rows) and rows["valeur"].isna().all() and set(rows["statut"]) == {"non_disponible"}


def test_sources_not_staged_at_all_still_build():
    """Runs that stage only some sources (tests/test_models.py) keep working: the others' staging tables are
    created empty from their parsers' schemas (staging.py)."""
    db = build(base_staging())
    assert db.sql("SELECT count(*) FROM int_commune_age_sexe").fetchone() == (0,)


# ------------------------------------------------------------------------------------------- population
def test_age_table_counts_paris_once_and_harmonises_former_codes(con):
    pop = dict(con.sql("SELECT code, sum(population) FROM int_commune_age_sexe WHERE annee = '2022' GROUP BY code").fetchall())
    assert pop == {"75056": 117.0, "2A004": 228.0, "71134": 36.0, "71153": 354.0}  # 71134 = 71055 + 71304
    row = con.sql("SELECT population FROM int_commune_age_sexe WHERE annee = '2022' AND code = '71134' "
                  "AND sexe = 'F' AND tranche_age = '90+'").fetchone()
    assert row == (1.0,)  # 0.5 + 0.5
    assert con.sql("SELECT count(*) FROM int_rp_codes_inconnus").fetchone() == (0,)


def test_age_shares_for_the_epci(con):
    # 2022, communes 71055 + 71304 (-> 71134) and 71153: 390 inhabitants; 66 in each band from 0 to 74,
    # 60 aged 75 and over (75-89: 3 + 2 + 45 = 50; 90+: 0.5 + 0.5 + 9 = 10)
    for ind in ["part_0_14", "part_15_29", "part_30_44", "part_45_59", "part_60_74"]:
        r = mart(con, "epci", EPCI, ind)
        assert (r["numerateur"], r["denominateur"], r["statut"], r["millesime"]) == (66.0, 390.0, "ok", "2022")
        assert r["valeur"] == pytest.approx(100 * 66 / 390)
    r = mart(con, "epci", EPCI, "part_75_ans_et_plus")
    assert (r["numerateur"], r["denominateur"]) == (60.0, 390.0) and r["valeur"] == pytest.approx(100 * 60 / 390)


def test_ageing_index_and_census_change(con):
    # 65+: 4.5 + 3.5 + 70 = 78; under 20: 3 + 6 + 79 = 88
    r = mart(con, "epci", EPCI, "indice_vieillissement")
    assert (r["numerateur"], r["denominateur"]) == (78.0, 88.0) and r["valeur"] == pytest.approx(100 * 78 / 88)
    # 2016: ten more boys in 71153 (364 instead of 354): 400 -> 390
    r = mart(con, "epci", EPCI, "evol_population_rp")
    assert (r["numerateur"], r["denominateur"], r["millesime"]) == (390.0, 400.0, "2016-2022")
    assert r["valeur"] == pytest.approx(-2.5)
    paris = mart(con, "departement", "75", "part_75_ans_et_plus")
    assert (paris["numerateur"], paris["denominateur"]) == (17.0, 117.0)  # not 234: arrondissements dropped


def test_population_legale_table(con):
    rows = dict(con.sql("SELECT code, population_municipale FROM int_commune_population_legale").fetchall())
    assert rows == {"75056": 1000, "2A004": 500, "71134": 300, "71153": 200}  # arrondissements -> 75056; 71304 -> 71134
    assert con.sql("SELECT DISTINCT millesime, en_vigueur FROM int_commune_population_legale").fetchall() == [("2023", "2026")]


def test_population_named_from_the_populations_legales_ptot_as_context(con):
    r = mart(con, "epci", EPCI, "population")
    assert (r["valeur"], r["source"], r["statut"]) == (500.0, "poplegale", "ok")  # 293 + 7 (71304 -> 71134) + 200
    paris = mart(con, "departement", "75", "population_totale")
    assert (paris["valeur"], paris["source"], paris["millesime"], paris["statut"]) == (1012.0, "poplegale", "2023", "ok")
    # a commune absent from the populations légales (as Mayotte): population from the COG file, said by the source;
    # no population totale for the territory
    p = perimetre(con, ["71153", "97501"])
    assert (p.loc["population", "valeur"], p.loc["population", "source"]) == (250.0, "poplegale+cog")
    assert p.loc["population_totale", "statut"] == "non_disponible" and pd.isna(p.loc["population_totale", "valeur"])


def test_population_from_the_cog_file_when_the_populations_legales_are_unavailable():
    db = build(base_staging() | {sid: {} for sid in MODULES})
    r = mart(db, "epci", EPCI, "population")
    assert (r["valeur"], r["source"]) == (500.0, "cog")


# ---------------------------------------------------------------------------------------- professionals
def test_practitioner_with_two_sites_counted_once(con):
    per_commune = dict(con.sql("SELECT code, count(*) FROM int_commune_professionnel WHERE profession = 'medecin_generaliste' "
                               "GROUP BY code").fetchall())
    assert per_commune == {"71153": 2, "71134": 1, "75056": 1}
    r = mart(con, "epci", EPCI, "nb_mg")
    assert r["valeur"] == 2 == per_commune["71153"] + per_commune["71134"] - 1  # MARTIN practises in both
    assert mart(con, "departement", "71", "nb_mg")["valeur"] == 2
    assert mart(con, "france", "FR", "nb_mg")["valeur"] == 3


def test_perimeter_count_is_the_number_of_distinct_practitioners_of_its_communes(con):
    alone = {c: perimetre(con, [c]) for c in ["71134", "71153"]}
    both = perimetre(con, ["71134", "71153"])
    # nobody else practises in both communes: for these professions the perimeter's count is the sum
    for ind in ["nb_infirmiers", "nb_kines", "nb_dentistes", "nb_pharmaciens", "nb_specialistes"]:
        assert both.at[ind, "valeur"] == alone["71134"].at[ind, "valeur"] + alone["71153"].at[ind, "valeur"], ind
    assert (alone["71134"].at["nb_mg", "valeur"], alone["71153"].at["nb_mg", "valeur"], both.at["nb_mg", "valeur"]) == (1, 2, 2)


def test_counts_and_densities_for_the_epci(con):
    expected = {"nb_mg": 2, "nb_specialistes": 1, "nb_infirmiers": 2, "nb_kines": 1, "nb_dentistes": 1,
                "nb_sages_femmes": 0, "nb_pharmaciens": 1}
    for ind, n in expected.items():
        r = mart(con, "epci", EPCI, ind)
        assert (r["valeur"], r["statut"], r["millesime"], r["source"]) == (n, "ok", "2026-04-27", "rpps"), ind
    d = mart(con, "epci", EPCI, "densite_mg_10000")
    assert (d["valeur"], d["numerateur"], d["denominateur"]) == (10000 * 2 / 500, 2.0, 500.0)
    assert d["millesime"] == "2026-04-27 (population 2026)"
    assert mart(con, "france", "FR", "densite_mg_10000")["valeur"] == 10000 * 3 / 2000


def test_nurse_in_two_regions_counted_in_each(con):
    assert mart(con, "region", "94", "nb_infirmiers")["valeur"] == 1
    assert mart(con, "region", "27", "nb_infirmiers")["valeur"] == 2
    assert mart(con, "france", "FR", "nb_infirmiers")["valeur"] == 2
    assert con.sql("SELECT code, nb_lignes, nb_professionnels FROM int_rpps_codes_inconnus").fetchall() == [("71999", 1, 1)]


def test_apl_other_professions_weighted_by_standardised_population(con):
    # kinés 2023 (fixture APL x 0.5): 71134 = (10 x 10 + 30 x 30) / 40 = 25; 71153 = 45 (weight 200)
    assert con.sql("SELECT apl FROM int_commune_apl_autres WHERE profession = 'kines' AND millesime = '2023' "
                   "AND code = '71134'").fetchone()[0] == pytest.approx(25.0)
    r = mart(con, "epci", EPCI, "apl_kines")
    assert r["valeur"] == pytest.approx((25 * 40 + 45 * 200) / 240) and r["millesime"] == "2023"
    assert mart(con, "epci", EPCI, "apl_infirmiers")["valeur"] == pytest.approx((20 * 10 + 60 * 30 + 90 * 200) / 240)
    assert mart(con, "departement", "75", "apl_kines")["valeur"] == pytest.approx((50 * 100 + 25 * 300) / 400)


def test_share_of_gps_aged_60_and_over_by_published_level(con):
    # GPs = « hors MEP » + « MEP » (never their « Ensemble » aggregate); 71: 60-64, 65-69, 70+ = 40+25+10 and 1+1+0,
    # totals 200 and 10
    r = mart(con, "departement", "71", "part_mg_60_ans_et_plus")
    assert (r["valeur"], r["numerateur"], r["denominateur"], r["millesime"]) == (100 * 77 / 210, 77.0, 210.0, "2024")
    assert mart(con, "region", "27", "part_mg_60_ans_et_plus")["valeur"] == 100 * (750 + 20) / (2000 + 100)
    assert mart(con, "france", "FR", "part_mg_60_ans_et_plus")["valeur"] == pytest.approx(100 * (13500 + 250) / (46000 + 900))
    paris = mart(con, "departement", "75", "part_mg_60_ans_et_plus")  # NS in the 60-64 class
    assert (paris["valeur"], paris["statut"]) == (None, "secret")
    assert mart(con, "epci", EPCI, "part_mg_60_ans_et_plus")["statut"] == "non_disponible"


# ------------------------------------------------------------------------------------------ health status
def test_observed_prevalence_is_the_published_rate_of_the_level(con):
    assert mart(con, "departement", "71", "prevalence_diabete") | {} == {
        "valeur": 7.75, "numerateur": 3100.0, "denominateur": 40000.0, "millesime": "2024",
        "source": "ameli_effectifs", "statut": "ok"}
    assert mart(con, "region", "27", "prevalence_diabete")["valeur"] == 7.0     # dept 999 row
    assert mart(con, "france", "FR", "prevalence_diabete")["valeur"] == 7.5     # region 99 row
    assert mart(con, "epci", EPCI, "prevalence_diabete")["statut"] == "non_disponible"
    ald = mart(con, "departement", "71", "prevalence_ald")  # masked Ntop
    assert (ald["valeur"], ald["statut"]) == (None, "secret")
    assert mart(con, "departement", "71", "prevalence_cancers")["statut"] == "non_disponible"


def test_department_rates_by_sex_and_census_band(con):
    rates = {(s, t): (v, m) for s, t, v, m in con.sql(
        "SELECT sexe, tranche_age, taux, nb_classes_masquees FROM int_ameli_taux_age_sexe "
        "WHERE pathologie = 'diabete' AND departement = '71'").fetchall()}
    assert len(rates) == 14
    assert rates[("H", "00-14")] == (pytest.approx(0.01), 1)  # (10 + 10) / 2000: the masked class left out
    assert rates[("F", "90+")] == (pytest.approx(0.12), 0)     # 90-94 and 95et+ summed
    assert rates[("H", "75-89")][0] == pytest.approx(0.20)


def test_indirect_standardisation_by_hand(con):
    # département 71 rates (%), men / women, bands 00-14 ... 90+:
    #   H 1, 2, 4, 8, 15, 20, 18    F 0.5, 1, 3, 6, 10, 15, 12
    # census 2022 population of the CC (71134 + 71153):
    #   H 33.5, 33, 33, 33, 33, 22, 3    F 32.5, 33, 33, 33, 33, 28, 7
    hommes = 33.5 * .01 + 33 * .02 + 33 * .04 + 33 * .08 + 33 * .15 + 22 * .20 + 3 * .18    # 14.845
    femmes = 32.5 * .005 + 33 * .01 + 33 * .03 + 33 * .06 + 33 * .10 + 28 * .15 + 7 * .12   # 11.8025
    r = mart(con, "epci", EPCI, "prevalence_attendue_diabete")
    assert r["numerateur"] == pytest.approx(hommes + femmes) == pytest.approx(26.6475)
    assert r["denominateur"] == 390.0
    assert r["valeur"] == pytest.approx(100 * 26.6475 / 390)
    assert (r["statut"], r["source"], r["millesime"]) == ("estimation", "ameli_effectifs+rp_pop", "taux 2024, population RP 2022")
    # the same code for the comparators: the région (only département 71 in the fixture) gives the same value
    assert mart(con, "region", "27", "prevalence_attendue_diabete")["valeur"] == pytest.approx(r["valeur"])
    # Paris: 1 % everywhere, 117 inhabitants counted once
    paris = mart(con, "departement", "75", "prevalence_attendue_diabete")
    assert (paris["numerateur"], paris["denominateur"]) == (pytest.approx(1.17), 117.0)
    # France includes Ajaccio, whose département has no rate: not computed rather than understated
    assert mart(con, "france", "FR", "prevalence_attendue_diabete")["statut"] == "non_disponible"
    assert mart(con, "epci", EPCI, "prevalence_attendue_ald")["statut"] == "non_disponible"  # no detail rows


def test_perimeter_expected_prevalence_from_its_communes(con):
    one = perimetre(con, ["71153"]).loc["prevalence_attendue_diabete"]
    hommes = 30.5 * .01 + 30 * .02 + 30 * .04 + 30 * .08 + 30 * .15 + 20 * .20 + 3 * .18
    femmes = 29.5 * .005 + 30 * .01 + 30 * .03 + 30 * .06 + 30 * .10 + 25 * .15 + 6 * .12
    assert one["valeur"] == pytest.approx(100 * (hommes + femmes) / 354) and one["statut"] == "estimation"


# ---------------------------------------------------------------------------------------- access to care
def test_ald_without_gp_latest_year_and_masks(con):
    assert mart(con, "departement", "71", "part_ald_sans_mt") | {} == {
        "valeur": 6.25, "numerateur": None, "denominateur": None, "millesime": "2024", "source": "ameli_ald_mt",
        "statut": "ok"}
    assert mart(con, "region", "27", "part_ald_sans_mt")["valeur"] == 5.1
    assert mart(con, "france", "FR", "part_ald_sans_mt")["valeur"] == 3.8  # 2024, not 2023
    paris = mart(con, "departement", "75", "part_ald_sans_mt")
    assert (paris["valeur"], paris["statut"]) == (None, "non_disponible")  # NC
    assert mart(con, "epci", EPCI, "part_ald_sans_mt")["statut"] == "non_disponible"


# ---------------------------------------------------------------------------- registry -> mirror -> parsers
def test_registry_urls_through_a_mirror_reach_the_parsers(tmp_path):
    """The fixtures placed at their registry URLs in a mirror folder: the real download layer fetches and
    validates them (zip signature, no HTML page), the parsers read them from data/raw with the registry's
    vintage options, and the models fill the indicators (figures invented, temporary workspace)."""
    import shutil

    from diagnostic.config import Workspace
    from diagnostic.fetch import mirror_location, read_manifest
    from diagnostic.ingest import ingest, raw_folder
    from diagnostic.registry import load_registry

    from conftest import PROJECT

    mirror = tmp_path / "miroir"
    registry = load_registry(PROJECT / "pipelines" / "sources.toml")
    for sid in MODULES:
        for name, url in registry[sid].files().items():
            src = FIXTURES / sid / name
            if not src.exists():  # ameli exports are stored under the URL's last segment, « csv »
                src = next(p for p in (FIXTURES / sid).iterdir() if p.is_file())
            dest = Path(mirror_location(url, str(mirror)))
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIAGNOSTIC_MIRROR", str(mirror))
        ws = Workspace(tmp_path / "ws")
        staged = base_staging()
        for sid, module in MODULES.items():
            source = registry[sid]
            got = ingest(ws, source)
            assert all(f.downloaded for f in got) and len(got) == len(source.files())
            folder = raw_folder(ws, source)
            assert set(read_manifest(folder)) == set(source.files())
            staged[sid] = module.parse(folder, source.vintage())
    db = build(staged)
    assert mart(db, "departement", "71", "prevalence_diabete")["valeur"] == 7.75
    assert mart(db, "epci", EPCI, "prevalence_attendue_diabete")["statut"] == "estimation"
    assert mart(db, "epci", EPCI, "nb_mg")["valeur"] == 2
    assert mart(db, "epci", EPCI, "apl_kines")["statut"] == "ok"
    assert mart(db, "france", "FR", "part_ald_sans_mt")["valeur"] == 3.8
    assert mart(db, "france", "FR", "part_mg_60_ans_et_plus")["statut"] == "ok"


def test_age_pyramid_sums_the_census_of_the_perimeter_and_its_departement(con):
    """The report's pyramid: census counts by sex and band of the perimeter, then of its département
    (hand-made fixture: the CC's communes 71134 + 71153, census 2022)."""
    from diagnostic.report.donnees import pyramide_ages
    from diagnostic.territoire import Territoire

    t = Territoire("perimetre", "p", "Périmètre", communes=["71134", "71153"])
    df = pyramide_ages(con, t.selection(con))
    per = df[df.territoire_type == "perimetre"].set_index(["sexe", "tranche_age"])["population"]
    assert per[("H", "00-14")] == pytest.approx(33.5) and per[("F", "90+")] == pytest.approx(7)
    assert per.sum() == pytest.approx(390)  # the standardisation's denominator, by hand above
    assert set(df.territoire_type) == {"perimetre", "departement"} and set(df.annee) == {"2022"}
