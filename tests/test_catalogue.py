"""The indicator catalogue as the one home of an indicator (issue 15): the README's recipe « Ajouter un
indicateur » followed in a copy of the package (one SQL model, one catalogue entry, nothing else), and the
contract checks of the build (an id produced but not catalogued, an id catalogued but never produced).

Each test copies `src/diagnostic` into a temporary folder, edits the copy, and runs the real command line on
a workspace holding the mirror's raw files (`copied_workspace`): the changed package changes the warehouse's
fingerprint, so the warehouse is rebuilt from the real files."""

from __future__ import annotations

import json
import re
import shutil
import tomllib

import openpyxl
import pandas as pd
import pytest

from conftest import DECOUPAGE, PROJECT, run_cli

SLUG = "cpts-centre-saone-et-loire"
EPCI = "247100290"  # the same 34 communes as the CPTS
ID = "nb_communes_10000_hab"
MODELE = f"""-- {ID}: communes of 10 000 inhabitants or more (population municipale of the communes file).
-- Input: `selection_territoire`. Grain: one row per (territoire_type, territoire_code, indicateur).
SELECT s.territoire_type, s.territoire_code, any_value(s.territoire_nom) AS territoire_nom,
       '{ID}' AS indicateur,
       count(*) FILTER (WHERE c.population >= 10000) AS valeur, NULL AS numerateur, NULL AS denominateur,
       (SELECT millesime FROM meta_source WHERE cle = 'cog') AS millesime, 'cog' AS source, 'ok' AS statut
FROM selection_territoire s
JOIN int_commune c ON c.code = s.commune
GROUP BY s.territoire_type, s.territoire_code
"""
ENTREE = f"""
[{ID}]
libelle = "Communes de 10 000 habitants ou plus"
unite = "communes"
theme = "Population"
definition = "Nombre de communes du territoire dont la population municipale est d'au moins 10 000 habitants."
lecture = "{{sujet}} compte {{valeur: communes}} de 10 000 habitants ou plus{{comparaison}}"
"""


def paquet(tmp_path, modeles: dict[str, str], entrees: str = ""):
    """A copy of the package with extra models (file name -> SQL) and catalogue entries; its PYTHONPATH."""
    racine = tmp_path / "paquet"
    shutil.copytree(PROJECT / "src" / "diagnostic", racine / "diagnostic",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for nom, sql in modeles.items():
        (racine / "diagnostic" / "models" / "marts" / nom).write_text(sql, encoding="utf-8")
    if entrees:
        with open(racine / "diagnostic" / "indicateurs.toml", "a", encoding="utf-8") as fh:
            fh.write(entrees)
    return {"PYTHONPATH": str(racine)}


@pytest.fixture(scope="module")
def communes_json():
    return [c for c in json.loads((DECOUPAGE / "communes.json").read_text(encoding="utf-8"))
            if c["type"] == "commune-actuelle"]


def test_recipe_adds_an_indicator_with_one_model_and_one_entry(tmp_path, copied_workspace, mirror_url, communes_json):
    env = paquet(tmp_path, {"99_mart_indicateurs_grandes_communes.sql": MODELE},
                 ENTREE + '\n[reponses_enquete]\nlibelle = "Réponses à l\'enquête"\nunite = "réponses"\n'
                 'theme = "Accès aux soins"\ndefinition = "Ajouté à l\'exécution."\nproduit_par = "enquete"\n')
    run_cli(copied_workspace, "run", SLUG, "--sans-pdf", mirror=mirror_url, env=env)
    run_cli(copied_workspace, "batch", "--kind", "epci", mirror=mirror_url, env=env)

    # expected figures, computed here from communes.json
    perimetre = set(tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text(encoding="utf-8"))["communes"])
    grandes = lambda cs: sum(1 for c in cs if c.get("population", 0) >= 10000)  # noqa: E731
    attendu_perimetre = grandes([c for c in communes_json if c["code"] in perimetre])
    attendu_71 = grandes([c for c in communes_json if c["departement"] == "71"])
    assert attendu_perimetre >= 1 and attendu_71 > attendu_perimetre

    out = copied_workspace / "reports" / SLUG
    csv = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str, "millesime": str})
    rows = csv[csv.indicateur == ID].set_index("territoire_type")
    assert rows.loc["perimetre", "valeur"] == attendu_perimetre and rows.loc["departement", "valeur"] == attendu_71
    assert rows.loc["perimetre", "libelle"] == "Communes de 10 000 habitants ou plus"
    assert rows.loc["perimetre", "unite"] == "communes" and rows.loc["perimetre", "statut"] == "ok"
    assert "reponses_enquete" not in set(csv.indicateur)  # declared as added at run time by another module

    wb = openpyxl.load_workbook(out / "indicateurs.xlsx", read_only=True)
    feuille = next(ws for ws in wb.worksheets if "Population" in ws.title)
    assert any("Communes de 10 000 habitants ou plus" in str(v) for r in feuille.iter_rows(values_only=True) for v in r)

    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    population = html[html.index('id="section-2"'):html.index('id="section-3"')]
    assert "Communes de 10 000 habitants ou plus" in population
    assert (f"Lecture : la CPTS Centre Saône-et-Loire compte {attendu_perimetre} communes de 10 000 habitants ou "
            f"plus, contre {attendu_71} dans le département") in population

    lot = pd.read_csv(copied_workspace / "reports" / "_national" / "epci.csv", dtype={"territoire_code": str})
    epci = lot[(lot.territoire_code == EPCI) & (lot.indicateur == ID)]
    assert len(epci) == 1 and epci.iloc[0].valeur == attendu_perimetre and epci.iloc[0].sens == "descriptif"
    assert lot[lot.indicateur == ID].territoire_code.nunique() == lot.territoire_code.nunique()


def test_an_uncatalogued_id_fails_the_build_naming_it(tmp_path, copied_workspace, mirror_url):
    env = paquet(tmp_path, {"99_mart_indicateurs_grandes_communes.sql": MODELE})  # model, no entry
    proc = run_cli(copied_workspace, "build", mirror=mirror_url, env=env, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    message = re.sub(r"\s+", " ", proc.stderr)
    assert f"« {ID} » (source cog)" in message and "absent(s) du catalogue indicateurs.toml" in message


def test_a_catalogued_id_never_produced_fails_the_build_naming_it(tmp_path, copied_workspace, mirror_url):
    env = paquet(tmp_path, {}, ENTREE)  # entry, no model
    proc = run_cli(copied_workspace, "build", mirror=mirror_url, env=env, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    message = re.sub(r"\s+", " ", proc.stderr)
    assert f"« {ID} » produit(s) par aucun modèle" in message
