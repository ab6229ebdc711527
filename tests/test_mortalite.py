"""Comparative mortality index (ICM): the état-civil death detail files (parser), the SQL of the index on a table
worked by hand, and the « Mortalité » sub-section and synthesis of a run on the fixtures.

No genuine death file at hand: the fixtures (tests/fixtures/etatcivil_deces, invented deaths, written by
fabriquer_etatcivil_deces.py) take their header from INSEE's dictionary (../shared/realdata/insee-dictionnaires),
checked here. Expected figures of the run are recomputed from the fixture files with csv/zipfile/pyarrow and
plain Python, independently of the parser and the SQL."""

from __future__ import annotations

import csv
import io
import shutil
import tomllib
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import FIXTURES, PROJECT, au_registre, miroir_lie, run_cli, projet_complet
from diagnostic import staging, warehouse
from diagnostic.registry import load_registry
from diagnostic.report import mortalite
from diagnostic.sources import SelectionVide, SourceFormatError, etatcivil_deces

DOSSIER = FIXTURES / "etatcivil_deces"
DICTIONNAIRE = PROJECT.parent / "shared" / "realdata" / "insee-dictionnaires" / "varmod_DEC_2020.csv"
MODELES = PROJECT / "src" / "diagnostic" / "models"
SLUG = "cpts-centre-saone-et-loire"
ANNEES = ["2019", "2020", "2021", "2022", "2023"]
SPEC = load_registry(PROJECT / "pipelines" / "sources.toml")["etatcivil_deces"].vintage()


def csv_fixture(annee: str = "2019") -> str:
    return zipfile.ZipFile(DOSSIER / f"etatcivil{annee}_dec{annee}_csv.zip").read(f"FD_DEC_{annee}.csv").decode("latin-1")


def lire(texte: str, annee: str = "2019"):
    return etatcivil_deces.parse_table(pd.read_csv(io.StringIO(texte), sep=";", dtype=str, keep_default_na=False),
                                       "FD_DEC.csv", annee)


# --- the parser -------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not DICTIONNAIRE.is_file(), reason="dictionnaire INSEE absent (../shared/realdata)")
def test_fixture_header_is_the_dictionary_variables_in_its_order():
    with open(DICTIONNAIRE, encoding="utf-8", newline="") as fh:
        dico = list(dict.fromkeys(r["COD_VAR"] for r in csv.DictReader(fh, delimiter=";")))
    assert csv_fixture().splitlines()[0].split(";") == dico
    assert set(etatcivil_deces.COLONNES) <= set(dico)


def test_age_at_death_and_unknown_birth_month_or_day():
    entete = csv_fixture().splitlines()[0]
    def ligne(**v):
        base = dict(ADEC="2019", MDEC="03", JDEC="10", DEPDEC="71", LIEUDECR="EHC", SEXE="1", ANAIS="1954", MNAIS="03",
                    JNAIS="11", DEPNAIS="71", PNAIS="", ACTIV="1", INDNAT="1", DEPDOM="71", COMDOM="71153", TUDOM="",
                    TUCOM="M", ETAMAT="3")
        base.update(v)
        return ";".join(base[c] for c in entete.split(";"))
    texte = "\n".join([entete,
                       ligne(),                                # 64 (birthday the day after) -> 60-64
                       ligne(JNAIS="10"),                      # 65 on the day of death -> 65-74
                       ligne(MNAIS="", JNAIS=""),              # unknown: 1 January 1954 -> 65
                       ligne(MNAIS="00", JNAIS="00", SEXE="2"),  # the same written 00
                       ligne(MNAIS="04", JNAIS="00"),          # 1 April 1954 -> 64
                       ligne(ANAIS="2019", MNAIS="01", JNAIS="05", COMDOM="75101")])  # 0 -> 00-14
    comptes, exclus = lire(texte)
    got = {(r.code, r.sexe, r.tranche): r.deces for r in comptes.itertuples()}
    assert got == {("71153", "1", "60-64"): 2, ("71153", "1", "65-74"): 2, ("71153", "2", "65-74"): 1,
                   ("75101", "1", "00-14"): 1}
    assert exclus.empty


def test_deaths_out_of_any_commune_are_counted_apart():
    comptes, exclus = lire(csv_fixture())
    rows = list(csv.DictReader(io.StringIO(csv_fixture()), delimiter=";"))
    etranger = sum(r["DEPDOM"] == "99" for r in rows)
    sans = sum(r["DEPDOM"] != "99" and r["COMDOM"] == "" for r in rows)
    sans_age = sum(r["COMDOM"] != "" and r["ANAIS"] == "" for r in rows)
    assert dict(zip(exclus["motif"], exclus["deces"])) == {etatcivil_deces.MOTIF_ETRANGER: etranger,
                                                           etatcivil_deces.MOTIF_SANS_COMMUNE: sans,
                                                           etatcivil_deces.MOTIF_AGE: sans_age} == \
        {etatcivil_deces.MOTIF_ETRANGER: 3, etatcivil_deces.MOTIF_SANS_COMMUNE: 2, etatcivil_deces.MOTIF_AGE: 1}
    assert comptes["deces"].sum() == len(rows) - 6
    assert Counter(r["COMDOM"] for r in rows if r["COMDOM"] and r["ANAIS"])["98818"] == 1


def test_malformed_cell_names_file_row_and_column():
    lignes = csv_fixture().splitlines()
    cols = lignes[0].split(";")
    cellules = lignes[4].split(";")
    cellules[cols.index("SEXE")] = "M"
    lignes[4] = ";".join(cellules)
    with pytest.raises(SourceFormatError, match=r"FD_DEC\.csv, ligne 5, colonne 'SEXE' : valeur 'M'"):
        lire("\n".join(lignes))
    cellules[cols.index("SEXE")] = "1"
    cellules[cols.index("MNAIS")] = "13"
    lignes[4] = ";".join(cellules)
    with pytest.raises(SourceFormatError, match=r"ligne 5, colonne 'MNAIS' : valeur '13'"):
        lire("\n".join(lignes))
    abroad = lignes[2].split(";")
    abroad[cols.index("DEPDOM")], abroad[cols.index("COMDOM")] = "99", ""  # an excluded row before: same numbering
    lignes[2] = ";".join(abroad)
    cellules[cols.index("MNAIS")], cellules[cols.index("ANAIS")] = "12", "2019"
    cellules[cols.index("MDEC")], cellules[cols.index("JDEC")] = "01", "15"
    lignes[4] = ";".join(cellules)
    with pytest.raises(SourceFormatError, match=r"ligne 5, colonne 'MNAIS' : valeur '12' \(date de naissance postérieure"):
        lire("\n".join(lignes))


def test_missing_column_is_named():
    lignes = [";".join(c for c in l.split(";")) for l in csv_fixture().splitlines()[:3]]
    texte = "\n".join(l.replace("COMDOM", "CODDOM") for l in lignes)
    with pytest.raises(SourceFormatError, match="COMDOM"):
        lire(texte)


def test_a_selection_matching_nothing_raises():
    texte = csv_fixture()
    with pytest.raises(SelectionVide, match=r"aucun décès de l'année 2020 \(ADEC\) ; années de décès présentes : 2019"):
        lire(texte, "2020")
    lignes = texte.splitlines()
    i = lignes[0].split(";").index("COMDOM")
    sans = [lignes[0]] + [";".join(c if j != i else "" for j, c in enumerate(l.split(";"))) for l in lignes[1:40]]
    with pytest.raises(SelectionVide, match="aucun décès avec une commune de domicile"):
        lire("\n".join(sans))


def test_parse_reads_csv_and_parquet_members():
    out = etatcivil_deces.parse(DOSSIER, SPEC)
    d = out["stg_etatcivil_deces"]
    assert sorted(d["annee"].unique()) == ANNEES
    pq = pd.read_parquet(io.BytesIO(zipfile.ZipFile(DOSSIER / "dec2023_fdet.zip").read("FD_DEC_2023.parquet")))
    assert d.loc[d["annee"] == "2023", "deces"].sum() == len(pq) - 6


# --- the index, worked by hand ----------------------------------------------------------------------------------

def _bandes(**pop) -> dict:
    cols = {f"{s}{b}": 0.0 for s in "hf" for b in ("0014", "1529", "3044", "4559", "6074", "7589", "90p", "1564")}
    cols.update(pop)
    return cols


def construire(deces: list[tuple], population: dict[str, dict], seuils: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A warehouse holding only what the mortality models read, then the models 08h and 99h."""
    con = duckdb.connect()
    con.execute("CREATE TABLE meta_seuil (cle VARCHAR, valeur DOUBLE)")
    con.executemany("INSERT INTO meta_seuil VALUES (?, ?)", list({"deces_min": 20, "icm_couverture_min": 99, **(seuils or {})}.items()))
    con.execute((MODELES / "00_macros.sql").read_text(encoding="utf-8"))
    codes = sorted(population)
    con.execute("CREATE TABLE int_cog_passage AS SELECT code AS code_source, code AS code_commune, 'commune' AS nature "
                "FROM (SELECT unnest(?) AS code)", [codes])
    con.execute("CREATE TABLE int_commune AS SELECT code, 1000 AS population, true AS champ_france "
                "FROM (SELECT unnest(?) AS code)", [codes])
    con.execute("CREATE TABLE stg_etatcivil_deces (annee VARCHAR, code VARCHAR, sexe VARCHAR, tranche VARCHAR, deces BIGINT)")
    con.executemany("INSERT INTO stg_etatcivil_deces VALUES (?, ?, ?, ?, ?)", deces)
    con.execute(staging.ddl("stg_etatcivil_deces_exclus", etatcivil_deces.EXCLUS))  # empty, from the parser's schema
    pop = pd.DataFrame([{"millesime": "2021", "code": c, **p} for c, p in population.items()])
    con.register("pop", pop)
    con.execute("CREATE TABLE stg_dossier_complet_age_sexe AS SELECT * FROM pop")
    con.execute((MODELES / "intermediaire" / "08h_int_mortalite.sql").read_text(encoding="utf-8"))
    return con


def mart(con, selection: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    sel = pd.DataFrame([(t, c, c, commune) for (t, c), communes in selection.items() for commune in communes],
                       columns=["territoire_type", "territoire_code", "territoire_nom", "commune"])
    con.register("selection_territoire", sel)
    sql = (MODELES / "marts" / "99h_mart_indicateurs_mortalite.sql").read_text(encoding="utf-8")
    return con.sql(sql).df().set_index(["territoire_code", "indicateur"])


def test_index_worked_by_hand():
    """Two communes, A (the perimeter) and B; France = A + B. Five years of deaths (2019-2023), census population:

    | band, sex        | pop A | pop B | deaths A | deaths B | France rate (per year) = deaths / (pop x 5)   |
    |------------------|------:|------:|---------:|---------:|-----------------------------------------------|
    | men 45-59        | 1 000 | 9 000 |        4 |       36 | 40 / (10 000 x 5) = 0.0008                    |
    | men 75-89        |   100 |   900 |       30 |      170 | 200 / (1 000 x 5) = 0.04                      |
    | women 75-89      |   200 | 1 800 |       40 |      260 | 300 / (2 000 x 5) = 0.03                      |

    (every other band: population 0, no death; H1564 = H4559, so 60-64 = 0 and 65-74 = H6074 - 0 = 0.)
    Expected deaths of A: 1 000 x 5 x 0.0008 + 100 x 5 x 0.04 + 200 x 5 x 0.03 = 4 + 20 + 30 = 54; observed 74.
    ICM(A) = 100 x 74 / 54 = 137.037037…
    95 % exact Poisson interval of O = 74: [chi2(0.025; 148) / 2 ; chi2(0.975; 150) / 2] = [116.2118 / 2 ; 185.8004 / 2]
    = [58.1059 ; 92.9002] (chi-squared quantiles with 2 O = 148 and 2 O + 2 = 150 degrees of freedom: the Poisson means
    for which P(X >= 74) = 2.5 % and P(X <= 74) = 2.5 %), divided by E = 54 and x 100: ICM in [107.604 ; 172.037],
    entirely above 100: significantly above.
    Premature (under 65): O = 4 = E (only men 45-59) -> 4 < 20 deaths: withheld (statut secret).
    B: O = 466, E = 36 + 180 + 270 = 486 -> ICM 95.8848…; France: 100 by construction, O = E = 540.
    """
    pop = {"A": _bandes(h4559=1000.0, h1564=1000.0, h7589=100.0, f7589=200.0),
           "B": _bandes(h4559=9000.0, h1564=9000.0, h7589=900.0, f7589=1800.0)}
    deces = []
    for code, bande, sexe, n in (("A", "45-59", "1", 4), ("A", "75-89", "1", 30), ("A", "75-89", "2", 40),
                                 ("B", "45-59", "1", 36), ("B", "75-89", "1", 170), ("B", "75-89", "2", 260)):
        for k, annee in enumerate(ANNEES):  # spread over the five years (the years pooled: 5)
            part = n // 5 + (1 if k < n % 5 else 0)
            if part:
                deces.append((annee, code, sexe, bande, part))
    con = construire(deces, pop)
    df = mart(con, {("perimetre", "A"): ["A"], ("perimetre", "B"): ["B"], ("france", "FR"): ["A", "B"]})
    a = df.loc[("A", "icm_general")]
    assert (a["numerateur"], a["denominateur"], a["statut"], a["millesime"]) == (74, pytest.approx(54.0, abs=1e-9), "ok", "2019-2023")
    assert a["valeur"] == pytest.approx(137.037037037, abs=1e-8)
    bas, haut = mortalite.intervalle(74, 54)
    assert (round(bas, 3), round(haut, 3)) == (107.604, 172.037)
    from scipy.stats import poisson  # the definition of the bounds, checked independently of the chi-squared route
    assert 1 - poisson.cdf(73, bas * 54 / 100) == pytest.approx(0.025, abs=1e-12)
    assert poisson.cdf(74, haut * 54 / 100) == pytest.approx(0.025, abs=1e-12)
    assert mortalite.ecart(74, 54) == mortalite.SUPERIEUR
    p = df.loc[("A", "icm_premature")]
    assert p["statut"] == "secret" and pd.isna(p["valeur"]) and pd.isna(p["numerateur"])
    b = df.loc[("B", "icm_general")]
    assert (b["numerateur"], b["denominateur"]) == (466, pytest.approx(486.0, abs=1e-9))
    assert b["valeur"] == pytest.approx(95.884773663, abs=1e-8)
    assert mortalite.ecart(466, 486) == mortalite.NON_SIGNIFICATIF
    f = df.loc[("FR", "icm_general")]
    assert (f["valeur"], f["numerateur"], f["denominateur"], f["statut"]) == (100.0, 540, 540, "ok")


def test_poisson_interval_matches_the_chi_squared_tables():
    """O = 20 (the threshold): chi2(0.025; 40) / 2 = 24.4330 / 2 = 12.2165, chi2(0.975; 42) / 2 = 61.7768 / 2 =
    30.8884 (chi-squared tables); with E = 20: [61.08 ; 154.44]. O = 0: lower bound 0, upper chi2(0.975; 2) / 2 =
    3.6889 (= -ln 0.025)."""
    bas, haut = mortalite.intervalle(20, 20)
    assert (round(bas, 2), round(haut, 2)) == (61.08, 154.44)
    assert mortalite.intervalle(0, 100) == (0.0, pytest.approx(3.688879, abs=1e-6))


def test_reference_rates_need_enough_of_france():
    """Commune C (France) has no population by age: France's rates cover A's 1 000 of the 2 000 inhabitants (50 %,
    under the threshold of 99 %): no index anywhere, France included."""
    pop = {"A": _bandes(h7589=100.0), "C": {**_bandes(), "h7589": None}}
    con = construire([("2019", "A", "1", "75-89", 30)], pop)
    assert con.sql("SELECT couverture FROM int_mortalite_reference LIMIT 1").fetchone()[0] == pytest.approx(50.0)
    df = mart(con, {("perimetre", "A"): ["A"], ("france", "FR"): ["A", "C"]})
    assert set(df["statut"]) == {"non_disponible"}
    # with a threshold of 40 %, France (100 by construction) and A are given, C's territory is not
    con = construire([("2019", "A", "1", "75-89", 30)], pop, {"icm_couverture_min": 40})
    df = mart(con, {("perimetre", "A"): ["A"], ("perimetre", "C"): ["A", "C"], ("france", "FR"): ["A", "C"]})
    assert df.loc[("A", "icm_general"), "valeur"] == pytest.approx(100.0)
    assert df.loc[("C", "icm_general"), "statut"] == "non_disponible"
    assert df.loc[("FR", "icm_general"), "valeur"] == 100.0


def test_band_derived_by_difference_never_negative():
    """60-64 = H1564 - H1529 - H3044 - H4559 and 65-74 = H6074 - (60-64). Commune A: 15-64 = 1 000.3 for 1 000 in
    45-59 (the weights' rounding: 60-64 = 0.3, 65-74 = 50 - 0.3 = 49.7). Commune B: 15-64 = 900 for 1 000 in 45-59
    (the variables disagree: 60-64 would be -100): B is not covered, so no territory holding it has an index, and
    its deaths are in no figure (not in France's O without its population in E)."""
    pop = {"A": _bandes(h4559=1000.0, h1564=1000.3, h6074=50.0), "B": _bandes(h4559=1000.0, h1564=900.0, h6074=50.0)}
    con = construire([("2019", "A", "1", "65-74", 1), ("2019", "B", "1", "60-64", 3)], pop, {"icm_couverture_min": 40})
    bandes = dict(con.sql("SELECT code || ' ' || tranche, population FROM int_commune_population_age_sexe "
                          "WHERE sexe = '1' AND tranche IN ('60-64', '65-74')").fetchall())
    assert bandes["A 60-64"] == pytest.approx(0.3) and bandes["A 65-74"] == pytest.approx(49.7)
    assert bandes["B 60-64"] is None and bandes["B 65-74"] is None
    df = mart(con, {("perimetre", "B"): ["B"], ("france", "FR"): ["A", "B"]})
    assert df.loc[("B", "icm_general"), "statut"] == "non_disponible"
    assert df.loc[("FR", "icm_general"), "numerateur"] == 1


# --- a run on the fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_fixture(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("mortalite")
    miroir = miroir_lie(tmp / "miroir")
    shutil.copy(FIXTURES / "dossier_complet" / "dossier_complet_31_12_2024.zip",
                au_registre(miroir, "dossier_complet", "dossier_complet_31_12_2024.zip"))
    for p in DOSSIER.glob("*.zip"):
        shutil.copy(p, au_registre(miroir, "etatcivil_deces", p.name))
    ws = projet_complet(tmp / "ws")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=str(miroir))
    return ws


def attendu_independant() -> dict[str, tuple[int, float, int, float]]:
    """(O, E, O < 65, E < 65) of the CPTS, recomputed from the fixture files: deaths with plain csv/pyarrow and the
    age by hand, populations from the Dossier complet fixture, France = every commune of the fixture."""
    cpts = set(tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text())["communes"])
    texte = zipfile.ZipFile(FIXTURES / "dossier_complet" / "dossier_complet_31_12_2024.zip").read("dossier_complet.csv").decode()
    pop: dict[tuple[str, str, str], float] = {}
    communes = set()
    for r in csv.DictReader(io.StringIO(texte), delimiter=";"):
        communes.add(r["CODGEO"])
        for s, x in (("1", "H"), ("2", "F")):
            v = {b: float(r[f"P21_{x}{b}"]) for b in ("0014", "1529", "3044", "4559", "6074", "7589", "90P", "1564")}
            b6064 = v["1564"] - v["1529"] - v["3044"] - v["4559"]
            for t, p in (("00-14", v["0014"]), ("15-29", v["1529"]), ("30-44", v["3044"]), ("45-59", v["4559"]),
                         ("60-64", b6064), ("65-74", v["6074"] - b6064), ("75-89", v["7589"]), ("90+", v["90P"])):
                pop[r["CODGEO"], s, t] = p
    ancien = {"71304": "71134", "75101": "75056"}
    morts: Counter = Counter()
    for annee in ANNEES:
        z = zipfile.ZipFile(DOSSIER / ("dec2023_fdet.zip" if annee == "2023" else f"etatcivil{annee}_dec{annee}_csv.zip"))
        if annee == "2023":
            rows = pd.read_parquet(io.BytesIO(z.read("FD_DEC_2023.parquet"))).to_dict("records")
        else:
            rows = list(csv.DictReader(io.StringIO(z.read(f"FD_DEC_{annee}.csv").decode("latin-1")), delimiter=";"))
        for r in rows:
            if r["DEPDOM"] == "99" or not r["COMDOM"] or not r["ANAIS"]:
                continue
            mn = int(r["MNAIS"] or 0) or 1
            jn = int(r["JNAIS"] or 0) or 1
            age = int(r["ADEC"]) - int(r["ANAIS"]) - ((int(r["MDEC"]), int(r["JDEC"])) < (mn, jn))
            t = next(c for b, c in reversed(etatcivil_deces.TRANCHES) if age >= b)
            morts[ancien.get(r["COMDOM"], r["COMDOM"]), r["SEXE"], t] += 1
    france = {}
    for (c, s, t), p in pop.items():
        d, q = france.get((s, t), (0, 0.0))
        france[s, t] = (d + morts.get((c, s, t), 0), q + p)
    taux = {k: d / (q * 5) for k, (d, q) in france.items()}
    moins65 = {"00-14", "15-29", "30-44", "45-59", "60-64"}
    o = sum(n for (c, s, t), n in morts.items() if c in cpts)
    e = sum(p * 5 * taux[s, t] for (c, s, t), p in pop.items() if c in cpts)
    o65 = sum(n for (c, s, t), n in morts.items() if c in cpts and t in moins65)
    e65 = sum(p * 5 * taux[s, t] for (c, s, t), p in pop.items() if c in cpts and t in moins65)
    assert "98818" not in communes  # Nouméa's resident: outside France, in no figure
    return {"icm_general": (o, e), "icm_premature": (o65, e65)}


def test_run_gives_the_index_of_an_independent_computation(run_fixture):
    with open(run_fixture / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = {(r["territoire_type"], r["indicateur"]): r for r in csv.DictReader(fh)}
    for ind, (o, e) in attendu_independant().items():
        r = rows["perimetre", ind]
        assert (r["statut"], r["source"], r["millesime"]) == ("ok", "etatcivil_deces+dossier_complet", "2019-2023")
        assert float(r["numerateur"]) == o
        assert float(r["denominateur"]) == pytest.approx(e, rel=1e-9)
        assert float(r["valeur"]) == pytest.approx(100 * o / e, rel=1e-9)
        f = rows["france", ind]
        assert (f["valeur"], f["statut"]) == ("100.0", "ok")
    assert rows["departement", "icm_general"]["statut"] == "ok"


def test_withheld_under_the_threshold(run_fixture):
    code = sorted(tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text())["communes"])[0]
    sel = pd.DataFrame({"territoire_type": ["perimetre"], "territoire_code": ["x"], "territoire_nom": ["x"],
                        "commune": [code]})
    with duckdb.connect(str(run_fixture / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        df = warehouse.indicateurs(con, sel).set_index("indicateur")
        o = con.sql(f"SELECT deces FROM int_commune_mortalite WHERE code = '{code}'").fetchone()[0]
    assert o < 20
    assert df.loc["icm_general", "statut"] == "secret" and pd.isna(df.loc["icm_general", "valeur"])


def test_report_shows_the_mortality_table_and_the_vigilance_point(run_fixture):
    from html import unescape

    html = unescape((run_fixture / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8"))
    sante = html[html.index('id="section-4"'):html.index('id="section-5"')]
    assert mortalite.TITRE in sante and "intervalle de confiance à 95 %" in sante and "100 par construction" in sante
    assert "significativement supérieur" in sante
    assert "Lecture : l'indice comparatif de mortalité de la CPTS Centre Saône-et-Loire est de" in sante
    assert "Source : INSEE – État civil : fichiers détail des décès" in sante or "fichiers détail des décès" in sante
    synthese = html[html.index("Points de vigilance"):]
    point = synthese[synthese.index("Indice comparatif de mortalité générale"):][:400]
    assert "intervalle de confiance à 95 %" in point and "significativement supérieur à 100" in point


def test_offline_mirror_says_source_not_available(built_workspace):
    from html import unescape

    html = unescape((built_workspace / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8"))
    sante = html[html.index('id="section-4"'):html.index('id="section-5"')]
    assert "Source non disponible" in sante and "Indice comparatif de mortalité générale" in sante
    assert mortalite.TITRE not in sante
