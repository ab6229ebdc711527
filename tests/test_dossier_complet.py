"""INSEE Dossier complet: social indicators of the census (RP 2021) and the crude death rate (deaths by commune
of residence, 2019-2023 pooled). No genuine file at hand: the fixture (tests/fixtures/dossier_complet, invented
figures) takes its variable names from INSEE's dictionary (../shared/realdata/insee-dictionnaires), checked here.
Expected figures are recomputed from the fixture with the csv module, independently of the parser and the SQL."""

from __future__ import annotations

import csv
import io
import shutil
import tomllib
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import FIXTURES, PROJECT, au_registre, miroir_lie, run_cli, projet_complet
from diagnostic import warehouse
from diagnostic.sources import SourceFormatError, dossier_complet

ZIP = FIXTURES / "dossier_complet" / "dossier_complet_31_12_2024.zip"
DICTIONNAIRE = PROJECT.parent / "shared" / "realdata" / "insee-dictionnaires" / "meta_dossier_complet.csv"
SLUG = "cpts-centre-saone-et-loire"
ANNEES = ["2019", "2020", "2021", "2022", "2023"]


def lignes_fixture() -> list[dict]:
    texte = zipfile.ZipFile(ZIP).read("dossier_complet.csv").decode("utf-8")
    return list(csv.DictReader(io.StringIO(texte), delimiter=";"))


@pytest.mark.skipif(not DICTIONNAIRE.is_file(), reason="dictionnaire INSEE absent (../shared/realdata)")
def test_fixture_header_and_parser_variables_are_in_insee_dictionary():
    with open(DICTIONNAIRE, encoding="utf-8", newline="") as fh:
        dico = {r["COD_VAR"] for r in csv.DictReader(fh, delimiter=";")}
    entete = list(lignes_fixture()[0])
    assert entete[0] == "CODGEO" and set(entete[1:]) <= dico
    assert set(dossier_complet.variables("2021", ANNEES).values()) <= dico


def test_parser_keeps_fractions_and_pools_five_years_of_deaths():
    df = dossier_complet.parse_csv(zipfile.ZipFile(ZIP).read("dossier_complet.csv"), "dossier_complet.csv", "2021", ANNEES)
    r = lignes_fixture()[1]
    row = df.set_index("code").loc[r["CODGEO"]]
    assert row["pop_80p_seule"] == float(r["P21_POP80P_PSEUL"]) and row["pop_80p_seule"] % 1 != 0
    assert row["chomeurs_1564"] == float(r["P21_CHOM1564"])
    assert row["deces"] == sum(int(r[f"DECESD{y[-2:]}"]) for y in ANNEES)
    assert row["annees_deces"] == "2019-2023"


def test_malformed_cell_names_file_row_and_column():
    texte = zipfile.ZipFile(ZIP).read("dossier_complet.csv").decode("utf-8").splitlines()
    cols = texte[2].split(";")
    cols[list(lignes_fixture()[0]).index("C21_FAMMONO")] = "douze"
    texte[2] = ";".join(cols)
    with pytest.raises(SourceFormatError, match=r"dossier_complet\.csv, ligne 3, colonne 'C21_FAMMONO'.*'douze'"):
        dossier_complet.parse_csv("\n".join(texte).encode(), "dossier_complet.csv", "2021", ANNEES)


def test_missing_variable_is_named():
    with pytest.raises(SourceFormatError, match="P22_POP"):
        dossier_complet.parse_csv(zipfile.ZipFile(ZIP).read("dossier_complet.csv"), "dossier_complet.csv", "2022", ANNEES)


@pytest.fixture(scope="module")
def run_fixture(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dossier")
    miroir = miroir_lie(tmp / "miroir")
    archive = au_registre(miroir, "dossier_complet", "dossier_complet_31_12_2024.zip")
    shutil.copy(ZIP, archive)
    ws = projet_complet(tmp / "ws")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=str(miroir))
    return ws


def test_perimeter_sums_then_divides(run_fixture):
    with open(run_fixture / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = {(r["territoire_type"], r["indicateur"]): r for r in csv.DictReader(fh)}
    cpts = set(tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text())["communes"])
    f = [r for r in lignes_fixture() if r["CODGEO"] in cpts]
    s = lambda v: sum(float(r[v]) for r in f)  # noqa: E731
    attendu = {
        "part_80_ans_et_plus_seuls": (s("P21_POP80P_PSEUL"), s("P21_POP80P"), 100),
        "part_familles_monoparentales": (s("C21_FAMMONO"), s("C21_FAM"), 100),
        "taux_chomage_15_64": (s("P21_CHOM1564"), s("P21_ACT1564"), 100),
        "part_peu_diplomes_15_plus": (s("P21_NSCOL15P_DIPLMIN") + s("P21_NSCOL15P_BEPC"), s("P21_NSCOL15P"), 100),
        "taux_mortalite_brut": (sum(s(f"DECESD{y[-2:]}") for y in ANNEES), 5 * s("P21_POP"), 1000),
    }
    for ind, (num, den, k) in attendu.items():
        r = rows["perimetre", ind]
        assert (r["statut"], r["source"]) == ("ok", "dossier_complet"), ind
        assert float(r["numerateur"]) == pytest.approx(num, rel=1e-12) and float(r["denominateur"]) == pytest.approx(den, rel=1e-12)
        assert float(r["valeur"]) == pytest.approx(k * num / den, rel=1e-12), ind
    assert rows["perimetre", "taux_mortalite_brut"]["millesime"] == "2019-2023"
    # the fixture holds every commune of France but Mayotte: France is not summed from a part of its communes
    assert rows["departement", "taux_chomage_15_64"]["statut"] == "ok"
    assert rows["france", "taux_chomage_15_64"]["statut"] == "non_disponible"


def test_too_few_deaths_withholds_the_rate(run_fixture):
    f = lignes_fixture()[0]
    deces = sum(int(f[f"DECESD{y[-2:]}"]) for y in ANNEES)
    assert deces < 20  # threshold `deces` of pipelines/diagnostic.toml
    sel = pd.DataFrame({"territoire_type": ["perimetre"], "territoire_code": ["x"], "territoire_nom": ["x"],
                        "commune": [f["CODGEO"]]})
    with duckdb.connect(str(run_fixture / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        df = warehouse.indicateurs(con, sel).set_index("indicateur")
    assert df.loc["taux_mortalite_brut", "statut"] == "secret" and pd.isna(df.loc["taux_mortalite_brut", "valeur"])
    assert df.loc["taux_chomage_15_64", "statut"] == "ok"


def test_report_shows_the_social_rows_and_mortality(run_fixture):
    html = (run_fixture / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8")
    pop = html[html.index('id="section-2"'):html.index('id="section-3"')]
    assert "Part des personnes de 80 ans ou plus vivant seules" in pop and "Taux de chômage des 15-64 ans" in pop
    sante = html[html.index('id="section-4"'):html.index('id="section-5"')]
    assert "Taux brut de mortalité" in sante
    from html import unescape

    cpts = set(tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text())["communes"])
    f = [r for r in lignes_fixture() if r["CODGEO"] in cpts]
    s = lambda v: sum(float(r[v]) for r in f)  # noqa: E731
    seuls, mono = 100 * s("P21_POP80P_PSEUL") / s("P21_POP80P"), 100 * s("C21_FAMMONO") / s("C21_FAM")
    taux = 1000 * sum(s(f"DECESD{y[-2:]}") for y in ANNEES) / (5 * s("P21_POP"))
    v = lambda x: f"{x:.1f}".replace(".", ",")  # noqa: E731
    assert (v(seuls), v(mono), v(taux)) == ("42,9", "16,1", "11,1")
    d = [r for r in lignes_fixture() if r["CODGEO"].startswith("71")]  # the département, recomputed
    sd = lambda v: sum(float(r[v]) for r in d)  # noqa: E731
    seuls_d, mono_d = 100 * sd("P21_POP80P_PSEUL") / sd("P21_POP80P"), 100 * sd("C21_FAMMONO") / sd("C21_FAM")
    taux_d = 1000 * sum(sd(f"DECESD{y[-2:]}") for y in ANNEES) / (5 * sd("P21_POP"))
    assert (f"Lecture : {v(seuls)}\u202f% des personnes de 80 ans ou plus de la CPTS Centre Saône-et-Loire vivent seules, "
            f"contre {v(seuls_d)}\u202f% dans le département ; {v(mono)}\u202f% de ses familles sont monoparentales, contre "
            f"{v(mono_d)}\u202f% dans le département.") in unescape(pop)
    assert (f"Lecture : la CPTS Centre Saône-et-Loire compte {v(taux)} décès pour 1 000 habitants par an (taux brut, "
            f"non standardisé sur l'âge), contre {v(taux_d)} dans le département.") in unescape(sante)


def test_offline_mirror_says_source_non_disponible(built_workspace):
    from html import unescape

    html = unescape((built_workspace / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8"))
    pop = html[html.index('id="section-2"'):html.index('id="section-3"')]
    sante = html[html.index('id="section-4"'):html.index('id="section-5"')]
    assert "Source non disponible. Personnes de 80 ans ou plus vivant seules" in pop
    assert "Source non disponible. Décès domiciliés par commune de résidence" in sante
    with open(built_workspace / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] == "dossier_complet"]
    assert len(rows) == 5 * 4 and {r["statut"] for r in rows} == {"non_disponible"}
