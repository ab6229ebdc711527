"""The directory of actors (issue 18): on the official-format fixtures (tests/fixtures/rpps and finess,
invented people and establishments) through a real DuckDB warehouse; on the genuine FINESS+ sample of
../shared/realdata/finess-flux/ untouched; and end to end (`diagnostic run` with a mirror holding every source,
then `diagnostic annuaire`): annuaire.xlsx written, its Synthèse equal to the report's offer-of-care indicators,
and no individual professional's name in the PDF, HTML or DOCX."""

from __future__ import annotations

import gzip
import json
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from diagnostic import annuaire, secret, warehouse
from diagnostic.report import annuaire as section_acteurs
from diagnostic.sources import cog, finess

from conftest import FIXTURES, OPENDATA, PROJECT, run_cli, projet_complet
from test_indicateurs_sante import MODULES, SPECS, base_staging, build

PERIMETRE = ["71153", "71134", "2A004", "75056"]
SAMPLE = PROJECT.parent / "shared" / "realdata" / "finess-flux" / "finess-structures-mensuel-202607-echantillon_json.gz"
NOMS = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
        "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "Camille", "CABINET MEDICAL FICTIF", "MAISON DE SANTE FICTIVE",
        "0300000001", "cabinet.fictif@example.invalid"]  # the fixture's people, their sites and contacts


def selection(communes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"territoire_type": "perimetre", "territoire_code": "p", "territoire_nom": "Périmètre",
                         "commune": communes})


@pytest.fixture(scope="module")
def con():
    staged = base_staging()
    for sid, module in MODULES.items():
        staged[sid] = module.parse(FIXTURES / sid, SPECS.get(sid, {}))
    staged["finess"] = finess.parse(FIXTURES / "finess")
    yield build(staged)  # secret thresholds of 1: counting rules without masking


@pytest.fixture(scope="module")
def a(con) -> annuaire.Annuaire:
    return annuaire.charger(con, selection(PERIMETRE), "Périmètre d'essai")


# ------------------------------------------------------------------------ official-format fixtures
def test_one_row_per_professional_and_practice_site(a):
    p = a.professionnels
    assert sorted(zip(p["identifiant"], p["code_commune"])) == sorted([
        ("810000000001", "71153"), ("810000000001", "71134"), ("810000000002", "71153"), ("810000000003", "75056"),
        ("810000000004", "71153"), ("810000000006", "71134"), ("810000000006", "2A004"), ("0719876543", "71153"),
        ("810000000008", "71134"), ("810000000009", "71153"), ("810000000010", "75056"), ("810000000011", "71153")])
    # the dentist's row is written twice in the extract: one row; the doctor without savoir-faire (not counted by
    # the indicators either), the nurse without site, the optician and the unknown commune are not listed here
    assert not set(p["identifiant"]) & {"810000000005", "810000000007", "810000000012", "810000000013"}
    martin = p[p["identifiant"] == "810000000001"].set_index("code_commune")
    assert set(martin["nb_sites"]) == {2} and martin.at["71153", "structure"] == "CABINET MEDICAL FICTIF"
    assert (martin.at["71134", "adresse"], martin.at["71134", "telephone"]) == ("1 B Place IMAGINAIRE", "0300000002")
    assert martin.at["71153", "email"] == "cabinet.fictif@example.invalid"
    bernard = p[p["identifiant"] == "810000000002"].iloc[0]  # libéral and salarié rows at one site
    assert bernard.mode_exercice == "Mixte (libéral et salarié)" and bernard.profession_libelle == "Médecin généraliste"
    kine = p[p["identifiant"] == "810000000008"].iloc[0]  # written under the former code 71304
    assert (kine.code_commune, kine.nom_commune, kine.code_commune_fichier) == ("71134", "Navour-sur-Grosne", "71304")
    assert p.loc[p["identifiant"] == "810000000003", "code_commune_fichier"].tolist() == ["75101"]  # arrondissement


def test_sorted_by_commune_then_profession(a):
    p = a.professionnels
    cles = list(zip(p["nom_commune"], p["profession_ordre"]))
    assert cles == sorted(cles)
    s = a.structures
    assert list(zip(s["nom_commune"], s["groupe_ordre"])) == sorted(zip(s["nom_commune"], s["groupe_ordre"]))


def test_sites_that_cannot_be_placed_are_listed_apart_with_the_reason(a):
    v = a.a_verifier
    assert v[["identifiant", "code_commune_fichier", "motif", "profession"]].values.tolist() == [
        ["810000000013", "71999", "code commune 71999 inconnu du COG", "Infirmier"]]


def test_structures_open_grouped_with_their_address(a):
    s = a.structures.set_index("nofinesset")
    assert set(s.index) == {"710000011", "710000029", "710000045", "2A0000010", "750000018", "710000052", "710000060",
                            "710000078"}
    assert s.at["710000060", "groupe"] == "domicile"  # a SSIAD: 'autre' in the report's counts, its own group here
    assert s.at["710000045", "code_commune"] == "71134"  # the former code 71304 of the extraction
    assert (s.at["710000011", "adresse"], s.at["710000011", "code_postal"]) == ("1 R FICTIVE", "71200")


def test_synthese_equals_the_offer_of_care_indicators(con, a):
    """Consistency: for the same perimeter, the Synthèse's territory counts are the report's nb_* indicators,
    and each commune's counts are the indicators of that commune alone."""
    def indicateurs(communes):
        df = warehouse.indicateurs(con, selection(communes))
        return dict(zip(df["indicateur"], df["valeur"]))

    syn = annuaire.synthese_professions(a)
    total = syn[syn["nom_commune"] == annuaire.ENSEMBLE]
    ind = indicateurs(PERIMETRE)
    assert {annuaire.INDICATEURS[r.profession]: r.nombre for r in total.itertuples()} == {
        k: v for k, v in ((annuaire.INDICATEURS[p], ind[annuaire.INDICATEURS[p]]) for p in annuaire.INDICATEURS) if v}
    assert ind["nb_mg"] == 3 and ind["nb_infirmiers"] == 2  # MARTIN counted once over his two communes
    for commune in PERIMETRE:
        ind = indicateurs([commune])
        rows = syn[syn["code_commune"] == commune]
        assert {annuaire.INDICATEURS[r.profession]: r.nombre for r in rows.itertuples()} == {
            k: v for k, v in ((annuaire.INDICATEURS[p], ind[annuaire.INDICATEURS[p]]) for p in annuaire.INDICATEURS) if v}
    etab = warehouse.indicateurs(con, selection(PERIMETRE))
    etab = dict(zip(etab["indicateur"], etab["valeur"]))
    groupes = annuaire.synthese_structures(a)
    groupes = groupes[groupes["nom_commune"] == annuaire.ENSEMBLE].set_index("groupe")["nombre"]
    for g in ("hopital", "clcc", "ehpad", "centre_sante", "pharmacie", "laboratoire"):
        assert groupes[g] == etab[f"nb_etab_{g}"]


def test_the_workbook(tmp_path, a):
    paths = annuaire.ecrire(a, tmp_path)
    assert [p.name for p in paths] == ["annuaire.xlsx", "annuaire.csv"]
    wb = openpyxl.load_workbook(tmp_path / "annuaire.xlsx")
    assert wb.sheetnames == ["Professionnels", "Structures", "Synthèse", "À vérifier"]
    for ws in wb:
        assert "27 avril 2026" in ws["A2"].value and "12 mai 2026" in ws["A2"].value
        assert "pas une liste vérifiée" in ws["A2"].value
        assert ws.freeze_panes == "A5" and ws.auto_filter.ref.startswith("A4:")
        assert ws.column_dimensions["A"].width > 8
    pro = wb["Professionnels"]
    entetes = [c.value for c in pro[4]]
    assert entetes[:3] == ["Commune", "Code commune (COG)", "Profession"] and "Nombre de sites d'exercice" in entetes
    assert pro.max_row == 4 + len(a.professionnels) and pro.auto_filter.ref == f"A4:R{4 + len(a.professionnels)}"
    csv = (tmp_path / "annuaire.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbfType;Commune;") and csv.count(b"\n") == 1 + len(a.professionnels) + len(a.structures)


def test_an_empty_perimeter_gives_a_clear_sentence(tmp_path, con):
    vide = annuaire.charger(con, selection(["97501"]), "Saint-Pierre")
    assert vide.vide
    annuaire.ecrire(vide, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "annuaire.xlsx")
    assert wb.sheetnames == ["Professionnels", "Structures", "Synthèse"]
    assert wb["Professionnels"]["A4"].value.startswith("Aucun professionnel de santé")
    assert wb["Structures"]["A4"].value.startswith("Aucun établissement ni service ouvert")
    ctx = type("Ctx", (), {"annuaire": vide})()
    s = section_acteurs.section(ctx, 7, [])
    assert s["vide"].startswith("Aucun professionnel de santé") and not s["listes"]
    sans = annuaire.Annuaire(**{**vide.__dict__, "rpps_disponible": False, "finess_disponible": False})
    assert section_acteurs.section(type("Ctx", (), {"annuaire": sans})(), 7, []) is None  # the sources annex says why
    sans_rpps = annuaire.Annuaire(**{**vide.__dict__, "rpps_disponible": False})
    assert section_acteurs.section(type("Ctx", (), {"annuaire": sans_rpps})(), 7, [])["vide"] == (
        "L'Annuaire santé (RPPS) n'était pas disponible lors de cette édition : l'annuaire des acteurs "
        "du territoire n'a pas pu être établi.")


def test_the_report_section_prints_counts_with_the_secret_threshold(a):
    masque = annuaire.Annuaire(**{**a.__dict__, "seuil": 3})
    s = section_acteurs.section(type("Ctx", (), {"annuaire": masque})(), 7, [])
    communes = {l[0]: l[1:] for l in s["listes"][0]["lignes"]}
    assert communes["Le Creusot (71153)"] == ["s", "4", "5"]  # 2 GPs, 4 others (distinct), 5 establishments
    assert communes["Ensemble du territoire"] == ["3", "7", "8"]
    texte = json.dumps(s, ensure_ascii=False, default=str)
    assert not [n for n in NOMS if n in texte]
    assert "annuaire.xlsx" in " ".join(s["notes"]) and "inférieur à 3" in s["listes"][0]["note"]
    assert "annuaire.xlsx, liste nominative issue d'extractions publiées en données ouvertes, n'est pas masqué" in \
        s["listes"][0]["note"]


def test_a_commune_masked_alone_is_not_left_derivable_from_the_territory_total(con):
    """Le Creusot and Navour-sur-Grosne, threshold 2: Navour's one GP is masked, the territory's GPs (2: MARTIN
    practises in both) are printed; Le Creusot's 2 GPs are then masked too (secondary suppression)."""
    deux = annuaire.charger(con, selection(["71153", "71134"]), "Deux communes")
    deux = annuaire.Annuaire(**{**deux.__dict__, "seuil": 2})
    s = section_acteurs.section(type("Ctx", (), {"annuaire": deux})(), 7, [])
    assert s["listes"][0]["lignes"] == [["Le Creusot (71153)", "s", "4", "5"], ["Navour-sur-Grosne (71134)", "s", "2", "1"],
                                        ["Ensemble du territoire", "2", "6", "6"]]


def _recalculables(t: pd.DataFrame, masque: pd.DataFrame) -> list[tuple[str, int]]:
    """(column, row) of each masked commune count that the printed total and the other printed communes give
    away: the only masked commune of a column whose total is printed, or a set of masked cells whose sum
    (total minus the printed communes) admits one split only."""
    import itertools

    out = []
    for col in section_acteurs.COMPTES:
        total = t.index[t["code"] == ""][0]
        if masque.at[total, col]:
            continue
        caches = [i for i in t.index if i != total and masque.at[i, col]]
        if not caches:
            continue
        reste = int(t.at[total, col]) - sum(int(t.at[i, col]) for i in t.index if i != total and not masque.at[i, col])
        splits = [c for c in itertools.product(range(0, max(reste, 0) + 1), repeat=len(caches)) if sum(c) == reste]
        if len(caches) == 1 or len(splits) <= 1:
            out += [(col, i) for i in caches]
    return out


@pytest.mark.parametrize("comptes", [
    # invented counts (nb_mg, nb_autres) per commune, then the territory (the sum: no multi-site professional)
    [(3, 20), (9, 12), (14, 30)],     # one GP count under the threshold: the smallest other (9) masked too
    [(2, 7), (1, 40), (6, 15), (8, 3)],  # two under it: nothing more; others: one under it (3), 7 masked too
    [(0, 6), (4, 0), (12, 9)],        # zeros are printed; 4 alone under the threshold
    [(1, 1), (2, 2)],                 # totals under the threshold: masked, nothing to recompute from
    [(7, 8), (30, 40)],               # nothing under the threshold
])
def test_no_masked_commune_count_can_be_recomputed(comptes):
    seuil = secret.thresholds(PROJECT / "pipelines" / "diagnostic.toml")["professionnels"]
    t = pd.DataFrame([{"code": f"7100{i}", "nb_mg": mg, "nb_autres": au} for i, (mg, au) in enumerate(comptes)])
    t = pd.concat([t, pd.DataFrame([{"code": "", "nb_mg": t["nb_mg"].sum(), "nb_autres": t["nb_autres"].sum()}])],
                  ignore_index=True)
    masque = section_acteurs.secret_par_commune(t, seuil)
    for col in section_acteurs.COMPTES:  # primary: every count under the threshold (and not 0) is masked
        assert (masque[col] == t[col].between(1, seuil - 1)).where(~masque[col], True).all()
        assert masque.loc[t[col].between(1, seuil - 1), col].all()
    assert _recalculables(t, masque) == []
    # and without the secondary suppression (primary masking only), a lone masked cell would be given away
    primaire = pd.DataFrame({c: t[c].between(1, seuil - 1) for c in section_acteurs.COMPTES})
    seuls = [c for c in section_acteurs.COMPTES if primaire[c].sum() == 1 and not primaire.at[len(t) - 1, c]]
    assert len(_recalculables(t, primaire)) >= len(seuls)
    assert (masque.sum() > primaire.sum()).tolist() == [bool(c in seuls) for c in section_acteurs.COMPTES]


# ------------------------------------------------------------------------ genuine FINESS+ sample
def test_directory_on_the_genuine_finess_flux_sample():
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    eges = [e for pm in raw["pmej"] for e in pm["ege"]]
    geo = lambda e: next(x for x in e["adresse"] if x["usageAdresse"] == "03")  # noqa: E731
    pas_premiere = [e for e in eges if e["adresse"][0]["usageAdresse"] != "03" and e["etatObjet"] == "A"]
    communes = sorted({geo(e)["cogCommune"] for e in pas_premiere} - {"97127"})  # Saint-Martin: not a COG commune
    staged = base_staging()
    staged["cog"] = cog.parse(OPENDATA / "unpkg.com" / "@etalab" / "decoupage-administratif@6.0.0" / "data")
    staged["finess"] = {"stg_finess_etablissement": finess.parse_file(SAMPLE, SAMPLE.name).reset_index(drop=True)}
    a = annuaire.charger(build(staged), selection(communes), "Échantillon FINESS+")
    s = a.structures.set_index("nofinesset")
    dans = {e["informationsGeneralesEGE"]["numFinessEge"]: e for e in eges if geo(e)["cogCommune"] in communes}
    ouverts = {n for n, e in dans.items() if e["etatObjet"] == "A"}
    fermes = set(dans) - ouverts
    assert fermes and set(s.index) == ouverts  # closed establishments absent, every open one listed
    for e in pas_premiere:
        n = e["informationsGeneralesEGE"]["numFinessEge"]
        if n in s.index:
            assert s.at[n, "code_postal"] == geo(e)["codePostal"] and s.at[n, "code_commune"] == geo(e)["cogCommune"]
            assert geo(e)["libelleVoie"] in (s.at[n, "adresse"] or "") or geo(e).get("ligneQuatre") == s.at[n, "adresse"]
    assert a.date_finess == "2026-08-13" and not len(a.professionnels)
    assert annuaire.phrase_vide(a, "professionnels").startswith("Aucune donnée : l'Annuaire santé (RPPS)")


# ------------------------------------------------------------------------ end to end
def test_diagnostic_writes_the_directory_and_no_name_reaches_the_documents(tmp_path):
    from test_miroir_complet import SLUG, miroir_complet

    miroir = miroir_complet(tmp_path / "miroir")
    ws = projet_complet(tmp_path / "ws")
    run_cli(ws, "run", SLUG, "--strict", mirror=str(miroir))
    out = ws / "reports" / SLUG
    assert (out / "annuaire.xlsx").is_file() and (out / "annuaire.csv").is_file() and (out / "cartes" / "acteurs.png").is_file()
    html = (out / "diagnostic.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(out / "diagnostic.docx") as z:
        docx = z.read("word/document.xml").decode("utf-8")
    pdf = subprocess.run(["pdftotext", str(out / "diagnostic.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    wb = openpyxl.load_workbook(out / "annuaire.xlsx")
    noms = {c.value for c in list(wb["Professionnels"].iter_cols(min_col=7, max_col=8, min_row=5))[0]} - {None}
    assert noms and noms <= set(NOMS)  # the directory names the professionals of the perimeter
    for texte in (html, docx, pdf):
        assert "Acteurs du territoire" in texte and "annuaire.xlsx" in texte
        assert not [n for n in NOMS if n in texte]
    # the Synthèse's territory counts are the report's indicators (masked ones are under the threshold)
    ind = pd.read_csv(out / "indicateurs.csv", dtype={"territoire_code": str})
    ind = ind[ind["territoire_type"] == "perimetre"].set_index("indicateur")
    syn = pd.DataFrame(list(wb["Synthèse"].iter_rows(min_row=5, values_only=True)),
                       columns=["type", "categorie", "code", "commune", "nombre"])
    total = syn[(syn["type"] == "Professionnels") & (syn["commune"] == annuaire.ENSEMBLE)]
    libelles = {"Médecin généraliste": "nb_mg", "Médecin spécialiste": "nb_specialistes", "Infirmier": "nb_infirmiers",
                "Masseur-kinésithérapeute": "nb_kines", "Chirurgien-dentiste": "nb_dentistes", "Sage-femme": "nb_sages_femmes",
                "Pharmacien": "nb_pharmaciens"}
    assert len(total)
    seuil = secret.thresholds(PROJECT / "pipelines" / "diagnostic.toml")["professionnels"]
    for r in total.itertuples():
        row = ind.loc[libelles[r.categorie]]
        assert (row.statut == "ok" and row.valeur == r.nombre) or (row.statut == "secret" and r.nombre < seuil)
    # alone, for the same territory: the same files
    proc = run_cli(ws, "annuaire", SLUG, mirror=str(miroir))
    assert "Annuaire écrit dans" in proc.stderr and "annuaire.xlsx" in proc.stderr
    again = openpyxl.load_workbook(out / "annuaire.xlsx")
    assert [list(r) for r in again["Synthèse"].iter_rows(values_only=True)] == \
           [list(r) for r in wb["Synthèse"].iter_rows(values_only=True)]


@pytest.mark.parametrize("masques, attendu", [
    ({"nb_sages_femmes"}, ["3", "s", "8"]),                 # 7 others = 6 indicators: the masked one alone
    ({"nb_mg", "nb_infirmiers"}, ["s", "s", "8"]),          # nb_mg masked: the others' total would give the rest
    ({"nb_sages_femmes", "nb_kines"}, ["3", "7", "8"]),      # two masked among the others: their sum only
    (set(), ["3", "7", "8"]),
])
def test_territory_totals_follow_what_the_offer_of_care_indicators_mask(a, masques, attendu):
    """The territory's « others » total is the sum of six offer-of-care indicators printed elsewhere in the
    report: when exactly one of them is masked there (or nb_mg with any), the total is not printed here."""
    ind = pd.DataFrame([("perimetre", i, "secret" if i in masques else "ok") for i in annuaire.INDICATEURS.values()]
                       + [("departement", "nb_kines", "secret")], columns=["territoire_type", "indicateur", "statut"])
    s = section_acteurs.section(type("Ctx", (), {"annuaire": a, "indicateurs": ind})(), 7, [])
    lignes = s["listes"][0]["lignes"]
    assert lignes[-1] == ["Ensemble du territoire", *attendu]
    for j in (1, 2):  # a masked total is not the sum of the printed communes either: one commune masked at least
        assert (lignes[-1][j] == "s") == any(l[j] == "s" for l in lignes[:-1])
    if masques == {"nb_sages_femmes"}:  # the smallest commune count of the others: Ajaccio's 1 (Paris's 1 comes after)
        assert [l[2] for l in lignes] == ["s", "4", "2", "1", "s"]
