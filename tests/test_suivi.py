"""Follow-up (issue 13): the pipeline run several times on the session's warehouse, with between the runs a new
vintage of one source, one commune added, a revised value with the same vintage, a changed definition and a
status change, each attributed to its cause; history kept and carried across the report's swap; an earlier
report folder copied from elsewhere (an older version's) as the reference; a killed run leaves the history as
it was; bad inputs (history truncated or edited by hand, another contract version, faulty objectives).

Local files: tests/fixtures/suivi/local_v1.csv and local_v2.csv (hand-made, invented figures)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import time
import tomllib

import openpyxl
import pandas as pd
import pytest

from conftest import DECOUPAGE, FIXTURES, PROJECT, new_workspace, run_cli
from test_interruptions import start, wait_for

from diagnostic.suivi import definitions, evolution, historique, objectifs

SLUG = "cpts-centre-saone-et-loire"
TORCY = "71540"
COMMUNES = tomllib.loads((PROJECT / "data" / "territoires" / f"{SLUG}.toml").read_text(encoding="utf-8"))["communes"]
OBJECTIFS = """
[[objectifs]]
indicateur = "apl_mg"
cible = 3.0
echeance = 2028

[[objectifs]]
indicateur = "patients_sans_mt"
cible = 1000
echeance = 2027

[[objectifs]]
indicateur = "indicateur_inexistant"
cible = 2

[[objectifs]]
indicateur = "population"
cible = "beaucoup"
"""


def perimetre_toml(ws, communes):
    lignes = "\n".join(f'  "{c}",' for c in communes)
    (ws / "data" / "territoires" / f"{SLUG}.toml").write_text(
        f'nom = "CPTS Centre Saône-et-Loire"\ncog = 2026\ncommunes = [\n{lignes}\n]\n{OBJECTIFS}', encoding="utf-8")


def local(ws, version):
    d = ws / "data" / "territoires" / SLUG / "local"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "suivi" / f"local_{version}.csv", d / "suivi.csv")


def somme(version, indicateur, communes):
    """The fixture's count over `communes`, read here with the csv module (not the pipeline's reader)."""
    with open(FIXTURES / "suivi" / f"local_{version}.csv", encoding="utf-8") as f:
        return sum(float(r["valeur"]) for r in csv.DictReader(f, delimiter=";")
                   if r["indicateur"] == indicateur and r["code_commune"] in communes)


def entrees(ws):
    return historique.entrees(ws / "reports" / SLUG)


def etat(ws):
    """Every file of the history with its sha256."""
    racine = ws / "reports" / SLUG / "historique"
    return {str(p.relative_to(racine)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(racine.rglob("*")) if p.is_file()}


def lire_evol(path):
    """evolution.csv: numbers as floats, texts as strings ("" when empty)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in ("valeur_avant", "valeur_apres", "variation", "valeur_ancien_perimetre", "effet_perimetre", "effet_donnees"):
        df[c] = pd.to_numeric(df[c].replace("", None)).astype(float)
    df["significatif"] = df["significatif"].map({"True": True, "False": False})
    return df


def ev(df, indicateur, ttype="perimetre"):
    rows = df[(df["territoire_type"] == ttype) & (df["indicateur"] == indicateur)]
    assert len(rows) == 1, (indicateur, rows)
    return rows.iloc[0]


@pytest.fixture(scope="module")
def suivi_ws(tmp_path_factory, built_workspace, mirror_url):
    """Run 1: perimeter without Torcy, local v1; a copy of its report as « an earlier report from elsewhere »
    (provenance as an older version wrote it); run 2: Torcy added, local v2."""
    root = new_workspace(tmp_path_factory.mktemp("suivi") / "ws")
    for part in ("raw", "processed"):
        shutil.copytree(built_workspace / "data" / part, root / "data" / part, copy_function=os.link)
    perimetre_toml(root, [c for c in COMMUNES if c != TORCY])
    local(root, "v1")
    run1 = run_cli(root, "run", SLUG, "--sans-pdf", mirror=mirror_url)
    ailleurs = root.parent / "ailleurs" / "diagnostic-ancien"
    ailleurs.mkdir(parents=True)
    shutil.copy(root / "reports" / SLUG / "indicateurs.csv", ailleurs)
    prov = json.loads((root / "reports" / SLUG / "provenance.json").read_text(encoding="utf-8"))
    ancien = {k: prov[k] for k in ("territoire", "produit_le", "sources", "sources_indisponibles",
                                   "sources_non_mises_a_jour", "avertissements")}  # the keys of the older version
    (ailleurs / "provenance.json").write_text(json.dumps(ancien, ensure_ascii=False), encoding="utf-8")
    time.sleep(1.1)  # one entry per second at most (the name is the time)
    perimetre_toml(root, COMMUNES)
    local(root, "v2")
    run_cli(root, "run", SLUG, "--sans-pdf", mirror=mirror_url)
    return {"ws": root, "run1": run1, "ailleurs": ailleurs}


@pytest.fixture(scope="module")
def evol(suivi_ws):
    return lire_evol(suivi_ws["ws"] / "reports" / SLUG / "evolution.csv")


def test_history_kept_and_carried(suivi_ws):
    ws = suivi_ws["ws"]
    e = entrees(ws)
    assert len(e) == 2
    for entree in e:
        assert sorted(p.name for p in entree.iterdir()) == ["indicateurs.csv", "provenance.json"]
    # the latest entry is the report's own files
    out = ws / "reports" / SLUG
    assert (e[-1] / "indicateurs.csv").read_bytes() == (out / "indicateurs.csv").read_bytes()
    assert (e[-1] / "provenance.json").read_bytes() == (out / "provenance.json").read_bytes()
    prov = json.loads((e[0] / "provenance.json").read_text(encoding="utf-8"))
    assert prov["perimetre"]["communes"] == [c for c in COMMUNES if c != TORCY]
    assert prov["contrat_indicateurs"] == 1
    assert prov["empreinte_indicateurs"] == hashlib.sha256((e[0] / "indicateurs.csv").read_bytes()).hexdigest()
    assert set(prov["definitions"]["apl_mg"]) == {"libelle", "unite", "definition", "source", "formule"}
    assert not list((out / "historique").glob(".*"))


def test_commune_added_is_the_cause(evol, suivi_ws):
    communes = json.loads((DECOUPAGE / "communes.json").read_text(encoding="utf-8"))
    pop_torcy = next(c["population"] for c in communes if c["code"] == TORCY and c["type"] == "commune-actuelle")
    p = ev(evol, "population")
    assert p.causes == "perimetre" and "71540 Torcy" in p.explication
    assert p.valeur_apres - p.valeur_avant == p.effet_perimetre == pop_torcy == 2678
    assert p.effet_donnees == 0
    n = ev(evol, "nb_communes")
    assert (n.valeur_avant, n.valeur_apres, n.causes, bool(n.significatif)) == (33, 34, "perimetre", True)
    a = ev(evol, "apl_mg")
    assert a.causes == "perimetre" and a.effet_donnees == 0 and a.valeur_ancien_perimetre == a.valeur_avant
    assert a.millesime_avant == a.millesime_apres == "2023"
    # comparators did not move
    for ind in ("population", "apl_mg"):
        assert ev(evol, ind, "departement").causes == ""
        assert ev(evol, ind, "france").explication == "inchangé"


def test_new_vintage_is_the_cause(evol):
    r = ev(evol, "patients_sans_mt")
    ancien = [c for c in COMMUNES if c != TORCY]
    assert r.causes == "perimetre+nouveau_millesime"
    assert (r.millesime_avant, r.millesime_apres) == ("2024", "2025")
    assert "nouveau millésime : 2024 → 2025" in r.explication
    assert r.valeur_avant == somme("v1", "patients_sans_mt", ancien)
    assert r.valeur_apres == somme("v2", "patients_sans_mt", COMMUNES)
    assert r.valeur_ancien_perimetre == somme("v2", "patients_sans_mt", ancien)  # today's data, old perimeter
    assert r.effet_perimetre == somme("v2", "patients_sans_mt", [TORCY])
    assert r.effet_donnees == somme("v2", "patients_sans_mt", ancien) - somme("v1", "patients_sans_mt", ancien)
    assert r.variation == pytest.approx(100 * (r.valeur_apres - r.valeur_avant) / r.valeur_avant)


def test_revised_value_is_the_cause(evol):
    r = ev(evol, "consultations_sans_rdv")
    assert r.causes == "perimetre+revision"
    assert r.millesime_avant == r.millesime_apres == "2024"
    assert r.effet_donnees == 25  # 71153 revised
    assert "fichier source modifié (local_suivi)" in r.explication


def test_changed_definition_is_the_cause(evol):
    r = ev(evol, "patients_parcours")
    assert r.causes == "definition+perimetre"
    assert "définition modifiée (libellé)" in r.explication
    assert r.effet_donnees == 0
    assert ev(evol, "apl_mg").explication.count("définition") == 0


def test_status_change_is_the_cause(evol):
    r = ev(evol, "teleconsultations")
    assert (r.statut_avant, r.statut_apres) == ("non_disponible", "ok")
    assert r.causes.startswith("statut") and bool(r.significatif)
    assert "non disponible → publié" in r.explication


def test_report_sections_sheet_and_objectives(suivi_ws):
    ws = suivi_ws["ws"]
    out = ws / "reports" / SLUG
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    assert "Suivi des objectifs" in html
    date = entrees(ws)[0].name[:10]
    assert "Évolution depuis le diagnostic du" in html
    assert "Changements significatifs" in html and "Depuis le diagnostic du" in html  # synthesis sentence
    assert (out / "graphiques" / "objectif_apl_mg.png").stat().st_size > 0
    assert (out / "graphiques" / "objectif_patients_sans_mt.png").stat().st_size > 0
    wb = openpyxl.load_workbook(out / "indicateurs.xlsx", read_only=True)
    assert "Évolution" in wb.sheetnames
    rows = list(wb["Évolution"].iter_rows(values_only=True))
    assert rows[0][1] == "Indicateur" and rows[0][-1] == "Identifiant"
    assert {r[-1] for r in rows[1:] if r and r[-1]} >= {"patients_sans_mt", "consultations_sans_rdv", "patients_parcours",
                                                         "teleconsultations", "nb_communes"}
    # objectives: baseline from run 1 (its date and vintage), current value, target, distance
    cur = pd.read_csv(out / "indicateurs.csv", dtype={"millesime": str})
    courant = historique.lire_releve(entrees(ws)[-1])
    passe = [historique.lire_releve(entrees(ws)[0])]
    objs, _ = objectifs.lire(tomllib.loads(OBJECTIFS)["objectifs"][:2], None, set(cur["indicateur"]))
    e = {x.objectif.indicateur: x for x in objectifs.suivre(objs, passe, courant, SLUG)}
    p = e["patients_sans_mt"]
    assert (p.reference.millesime, p.reference.date) == ("2024", date)
    assert p.reference.valeur == somme("v1", "patients_sans_mt", [c for c in COMMUNES if c != TORCY])
    assert [v.millesime for v in p.valeurs] == ["2024", "2025"]
    assert p.courant.valeur == somme("v2", "patients_sans_mt", COMMUNES)
    assert p.distance == 1000 - p.courant.valeur
    assert p.courant.valeur == 1581 and p.distance == -581  # 30..63 over the 34 communes; baseline 1 848
    assert p.atteint(-1) is False and p.atteint(1) is True and p.atteint(0) is False  # baseline above 1000: fall
    a = e["apl_mg"]
    assert a.distance == 3.0 - a.courant.valeur and a.atteint(1) is False
    assert [v.millesime for v in e["apl_mg"].valeurs] == ["2023"]  # same vintage: the last run's value only
    assert e["apl_mg"].courant.valeur == ev(lire_evol(out / "evolution.csv"), "apl_mg").valeur_apres
    assert "Reste à parcourir" in html and "3,0 en 2028" in html


def test_faulty_objectives_are_warnings(suivi_ws):
    err = suivi_ws["run1"].stderr
    fichier = f"{SLUG}.toml"
    assert fichier in err and "objectif n° 3, champ indicateur" in err and "indicateur_inexistant" in err
    assert "objectif n° 4 (population), champ cible" in err and "n'est pas un nombre" in err
    assert suivi_ws["run1"].returncode == 0  # the diagnostic is still produced


def test_evolution_command_default_and_earlier_report(suivi_ws, evol):
    ws = suivi_ws["ws"]
    proc = run_cli(ws, "evolution", SLUG)
    assert "Périmètre : commune ajoutée : 71540 Torcy." in proc.stdout
    assert "5 indicateur(s) du territoire modifié(s)" not in proc.stdout and "significativement" in proc.stdout
    again = lire_evol(ws / "reports" / SLUG / "evolution.csv")
    key = ["territoire_type", "territoire_code", "indicateur"]
    pd.testing.assert_frame_equal(again.sort_values(key).reset_index(drop=True), evol.sort_values(key).reset_index(drop=True))
    # an earlier report copied from elsewhere, written by an older version (no communes, no definitions)
    proc = run_cli(ws, "evolution", SLUG, "--depuis", str(suivi_ws["ailleurs"]))
    df = lire_evol(ws / "reports" / SLUG / "evolution_depuis_diagnostic-ancien.csv")
    assert "non enregistrées" in proc.stdout
    assert ev(df, "population").causes == "perimetre"
    assert "33 communes avant, 34 maintenant" in ev(df, "nb_communes").explication
    assert ev(df, "patients_sans_mt").causes == "perimetre+nouveau_millesime"
    assert "definition" not in ev(df, "patients_parcours").causes  # no fingerprints in the older report
    # by date: the latest entry of that day before the current one is run 1
    proc = run_cli(ws, "evolution", SLUG, "--depuis", entrees(ws)[0].name)
    assert entrees(ws)[0].name in proc.stdout


def test_changed_catalogue_definition_in_process(suivi_ws, mirror_url, monkeypatch):
    """Run 3 (in process): apl_mg's definition changed in the catalogue, a presentation key added to population;
    a truncated history entry is skipped with a warning naming it."""
    from diagnostic import pipeline, warehouse
    from diagnostic.config import Workspace

    ws = suivi_ws["ws"]
    dernier = entrees(ws)[-1]
    tronque = dernier.parent / (dernier.name + "-9")  # sorts after the last entry
    shutil.copytree(dernier, tronque)
    data = (tronque / "indicateurs.csv").read_bytes()
    (tronque / "indicateurs.csv").write_bytes(data[: len(data) // 2])
    original = warehouse.catalogue

    def catalogue(*args, **kwargs):  # warehouse.catalogue(seuils)
        cat = original(*args, **kwargs)
        cat.loc[cat["indicateur"] == "apl_mg", "definition"] += " Définition modifiée pour le test."
        return cat.assign(sens=cat["indicateur"].map({"population": "neutre"}), section="x")

    monkeypatch.setattr(warehouse, "catalogue", catalogue)
    monkeypatch.setenv("DIAGNOSTIC_MIRROR", mirror_url)
    time.sleep(1.1)
    result = pipeline.run(Workspace(ws), SLUG, pdf=False)
    assert any(str(tronque / "indicateurs.csv") in w and "tronqué" in w for w in result.warnings)
    df = lire_evol(ws / "reports" / SLUG / "evolution.csv")
    changed = df[(df["territoire_type"] == "perimetre") & (df["causes"] != "")]
    assert changed["indicateur"].tolist() == ["apl_mg"]
    r = ev(df, "apl_mg")
    assert r.causes == "definition" and r.explication == "définition modifiée (définition)"
    assert r.valeur_avant == r.valeur_apres
    assert ev(df, "apl_mg", "france").causes == "definition"
    prov = json.loads((ws / "reports" / SLUG / "provenance.json").read_text(encoding="utf-8"))
    assert prov["reference_evolution"] == f"historique/{dernier.name}"
    # the default reference of `evolution` is now the truncated entry: refused, naming file and problem
    proc = run_cli(ws, "evolution", SLUG, check=False)
    assert proc.returncode == 2 and "indicateurs.csv" in proc.stderr and "tronqué" in proc.stderr
    shutil.rmtree(tronque)


def test_killed_run_leaves_history(suivi_ws, mirror_url):
    ws = suivi_ws["ws"]
    avant = etat(ws)
    rapport = (ws / "reports" / SLUG / "indicateurs.csv").read_bytes()
    proc = start(ws, "run", SLUG, mirror=mirror_url)
    try:
        assert wait_for(lambda: list((ws / "reports").glob(f".{SLUG}.*.tmp/indicateurs.csv")), timeout=120)
    finally:  # the whole process group: the report's drawing workers too, which would go on writing otherwise
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert etat(ws) == avant
    assert (ws / "reports" / SLUG / "indicateurs.csv").read_bytes() == rapport
    for t in (ws / "reports").glob(f".{SLUG}.*.tmp"):  # the dead run's folder (the next run of that pid would clear it)
        shutil.rmtree(t)
    # a run that fails (a malformed local file) adds nothing either
    mauvais = ws / "data" / "territoires" / SLUG / "local" / "mauvais.csv"
    mauvais.write_text("code_commune;indicateur;libelle;valeur;annee;source\n71153;x;X;beaucoup;2024;CPTS\n", encoding="utf-8")
    proc = run_cli(ws, "run", SLUG, "--sans-pdf", mirror=mirror_url, check=False)
    mauvais.unlink()
    assert proc.returncode == 2 and "mauvais.csv" in proc.stderr
    assert etat(ws) == avant


# --- bad inputs, read directly -------------------------------------------------------------------------

def test_history_edited_by_hand_is_refused(suivi_ws, tmp_path):
    entree = tmp_path / "historique" / "2026-01-01T00-00-00"
    shutil.copytree(entrees(suivi_ws["ws"])[0], entree)
    text = (entree / "indicateurs.csv").read_text(encoding="utf-8").replace(",2026,cog,ok", ",2025,cog,ok", 1)
    (entree / "indicateurs.csv").write_text(text, encoding="utf-8")
    with pytest.raises(historique.HistoriqueError, match="modifié ou tronqué depuis son enregistrement.*empreinte_indicateurs"):
        historique.lire_releve(entree)
    (entree / "provenance.json").write_text('{"territoire": "x", "sour', encoding="utf-8")
    with pytest.raises(historique.HistoriqueError, match=r"provenance\.json : JSON illisible ou tronqué"):
        historique.lire_releve(entree)


def test_other_contract_version_is_refused(suivi_ws, tmp_path):
    src = suivi_ws["ailleurs"]
    d = tmp_path / "autre"
    d.mkdir()
    df = pd.read_csv(src / "indicateurs.csv", dtype=str)
    df.drop(columns=["numerateur"]).to_csv(d / "indicateurs.csv", index=False)
    with pytest.raises(historique.HistoriqueError, match=r"autre/indicateurs\.csv : n'est pas au contrat.*absente\(s\) : numerateur"):
        historique.lire_releve(d, historique=False)
    shutil.copy(src / "indicateurs.csv", d / "indicateurs.csv")
    (d / "provenance.json").write_text('{"contrat_indicateurs": 2}', encoding="utf-8")
    with pytest.raises(historique.HistoriqueError, match=r"provenance\.json, champ contrat_indicateurs : version 2"):
        historique.lire_releve(d, historique=False)
    df = pd.read_csv(src / "indicateurs.csv", dtype=str)
    df.loc[3, "valeur"] = "beaucoup"
    df.to_csv(d / "indicateurs.csv", index=False)
    (d / "provenance.json").unlink()
    with pytest.raises(historique.HistoriqueError, match=r"indicateurs\.csv, ligne 5, colonne valeur : « beaucoup »"):
        historique.lire_releve(d, historique=False)


def test_objectives_checked_with_file_and_field(tmp_path):
    f = tmp_path / "cpts-x.toml"
    brut = [{"indicateur": "apl_mg", "cible": 3.0, "echeance": 2028}, {"indicateur": "apl_mg", "cible": True},
            {"indicateur": "apl_mg", "echeance": "bientôt"}, {"indicateur": "apl_mg", "cibel": 3},
            {"cible": 2}]
    objs, avert = objectifs.lire(brut, f, {"apl_mg"})
    assert objs == [objectifs.Objectif("apl_mg", 3.0, 2028)]
    assert [a.split(" : ")[0] for a in avert] == [
        f"{f}, objectif n° 2 (apl_mg), champ cible", f"{f}, objectif n° 3 (apl_mg), champ echeance",
        f"{f}, objectif n° 4, champ cibel", f"{f}, objectif n° 5, champ indicateur"]
    assert objectifs.lire({"apl_mg": 3}, f, {"apl_mg"})[1][0].startswith(f"{f}, champ objectifs")


def test_presentation_keys_are_not_a_definition():
    from diagnostic import warehouse

    cat = warehouse.catalogue()
    rows = pd.DataFrame({"indicateur": ["apl_mg", "population"], "source": ["apl_mg", "cog"]})
    a = definitions.empreintes(cat, rows)
    b = definitions.empreintes(cat.assign(sens="hausse_favorable", section="Offre", lecture="Lecture : {x}",
                                          decimales=3, ordre=0), rows)
    assert a == b
    c = cat.copy()
    c.loc[c["indicateur"] == "apl_mg", "unite"] = "consultations par an"
    assert definitions.modifies(a, definitions.empreintes(c, rows), "apl_mg") == ["unité"]
    assert definitions.modifies(a, definitions.empreintes(c, rows), "population") == []
    assert "('apl_mg'" in definitions.formules(["apl_mg"])["apl_mg"] or definitions.formules(["apl_mg"])["apl_mg"]


def test_thresholds_by_unit(tmp_path):
    f = tmp_path / "diagnostic.toml"
    f.write_text('[evolution.seuils]\n"%" = 2.5\n"*" = 10\n', encoding="utf-8")
    s = evolution.seuils(f)
    assert s["%"] == 2.5 and s["*"] == 10 and s["points"] == 0.1
    assert evolution.variation(50.0, 52.0, "%") == 2.0
    assert evolution.variation(200.0, 210.0, "patients") == 5.0
    assert evolution.seuil_de(s, "patients") == 10


# --- a new vintage of a registry source: the DREES APL, 2022 then 2023 (real workbook of the mirror) -------

APL_2022 = '''
[apl_mg.vintages."2022"]
sheets = ["APL 2022"]

[apl_mg.vintages."2022".files]
workbook = "{url}"

'''


def test_new_vintage_of_a_registry_source(copied_workspace, mirror_url):
    """Run 1 with a registry whose APL vintage is 2022 (the sheet « APL 2022 » of the same DREES workbook), run 2
    with the registry as it is (2023): the APL's change is attributed to the new vintage, both named, and the
    values are those of the workbook read here with openpyxl."""
    from test_pipeline import apl_rows

    ws = copied_workspace
    registre = ws / "pipelines" / "sources.toml"
    texte = registre.read_text(encoding="utf-8")
    bloc = texte[texte.index("[apl_mg]"):texte.index('[apl_mg.vintages."2023"]')]
    url = texte[texte.index('[apl_mg.vintages."2023".files]'):].split('workbook = "')[1].split('"')[0]
    ancien = texte.replace(bloc, bloc.replace('latest = "2023"', 'latest = "2022"') + APL_2022.format(url=url))
    registre.write_text(ancien, encoding="utf-8")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=mirror_url)
    time.sleep(1.1)
    registre.write_text(texte, encoding="utf-8")
    run_cli(ws, "run", SLUG, "--sans-pdf", mirror=mirror_url)
    df = lire_evol(ws / "reports" / SLUG / "evolution.csv")

    def apl(sheet):
        rows = apl_rows(sheet)
        rows = rows[rows.code.isin(COMMUNES)]
        return (rows.apl * rows.popstd).sum() / rows.popstd.sum()

    r = ev(df, "apl_mg")
    assert (r.causes, r.millesime_avant, r.millesime_apres) == ("nouveau_millesime", "2022", "2023")
    assert r.explication == "nouveau millésime : 2022 → 2023"
    assert r.valeur_avant == pytest.approx(apl("APL 2022"), rel=1e-12)
    assert r.valeur_apres == pytest.approx(apl("APL 2023"), rel=1e-12)
    assert r.variation == pytest.approx(100 * (r.valeur_apres - r.valeur_avant) / r.valeur_avant)
    assert bool(r.significatif)  # −10 % against a 5 % threshold
    assert ev(df, "apl_mg", "departement").causes == "nouveau_millesime"
    assert ev(df, "population").causes == "" and ev(df, "nb_communes").causes == ""
    html = (ws / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8")
    assert "nouveau millésime : 2022 → 2023" in html


def test_follow_up_reads_only_the_reference_without_objectives(suivi_ws, tmp_path):
    """Without objectives a run reads its history from the newest entry and stops at the first readable one (the
    reference), so its cost does not grow with the history; with objectives it reads every entry (issue 16)."""
    from diagnostic.suivi import _passe

    rapport = tmp_path / "rapport"
    source = entrees(suivi_ws["ws"])
    noms = ["2026-01-01T00-00-00", "2026-01-02T00-00-00", "2026-01-03T00-00-00", "2026-01-04T00-00-00"]
    for nom, src in zip(noms, [source[0], source[0], source[1], source[1]]):
        shutil.copytree(src, rapport / "historique" / nom)
    for nom in (noms[0], noms[3]):  # the oldest and the newest truncated
        csv_ = rapport / "historique" / nom / "indicateurs.csv"
        csv_.write_bytes(csv_.read_bytes()[:1000])
    passe, ignorees = _passe(rapport, toutes=False)
    assert [r.chemin.name for r in passe] == [noms[2]]
    assert [str(e).split(" : ")[0] for e in ignorees] == [str(rapport / "historique" / noms[3] / "indicateurs.csv")]
    passe, ignorees = _passe(rapport, toutes=True)
    assert [r.chemin.name for r in passe] == [noms[1], noms[2]]
    assert [str(e).split(" : ")[0] for e in ignorees] == [str(rapport / "historique" / n / "indicateurs.csv")
                                                         for n in (noms[0], noms[3])]
    assert all("tronqué" in str(e) for e in ignorees)
