"""The CPTS's own surveys: readers of the four tools' exports (hand-made fixtures in each tool's format, see
tests/fixtures/README.md), typing, counts checked against the answers the fixtures were written from
(tests/fixtures/fabriquer_enquetes.py), confidentiality (identity columns, scrubbing, masking) and bad input."""

from __future__ import annotations

import shutil
import statistics
import sys
from collections import Counter

import pandas as pd
import pytest

from diagnostic.enquetes import EnqueteError, _professionnels, lire_enquete
from diagnostic.enquetes.confidentialite import masquer, nettoyer
from diagnostic.enquetes.lecture import lire

from conftest import FIXTURES

sys.path.insert(0, str(FIXTURES))
import fabriquer_enquetes as F  # noqa: E402

ENQ = FIXTURES / "enquetes"
SEUIL = 5
EXPORTS = {  # file -> (tool, has incomplete responses)
    "google_forms.csv": ("google", False),
    "google_forms_excel.csv": ("google", False),
    "microsoft_forms.xlsx": ("microsoft", False),
    "limesurvey_reponses_completes.csv": ("limesurvey", True),
    "limesurvey_codes.csv": ("limesurvey", True),
    "framaforms.csv": ("framaforms", True),
}


def question(e, type_):
    qs = [q for q in e.questions if q.type == type_]
    assert len(qs) == 1, [(q.texte, q.type) for q in e.questions]
    return qs[0]


def ensemble(e, code) -> dict:
    r = e.resultats[(e.resultats["question"] == code) & (e.resultats["groupe"] == "Ensemble")]
    return dict(zip(r["reponse"], r["effectif"]))


@pytest.mark.parametrize("fichier", list(EXPORTS))
def test_counts_equal_the_answers_put_in(fichier):
    outil, incomplets = EXPORTS[fichier]
    e = lire_enquete(ENQ / fichier, SEUIL)
    tous = F.REPONDANTS + (F.INCOMPLETS if incomplets else [])
    assert e.outil == outil
    assert (e.n_reponses, e.n_completes, e.n_partielles) == (len(tous), 19, len(tous) - 19)
    assert e.debut == "2026-03-02"
    # multiple choice, an option holding a comma kept whole: counted on complete responses
    besoins = Counter(b for r in F.REPONDANTS for b in r[F.Q_BESOINS])
    q = question(e, "choix_multiple")
    assert ensemble(e, q.code) == {b: besoins[b] for b in F.BESOINS}
    assert ensemble(e, q.code)["Coordination ville-hôpital, parcours"] == 9
    # scale, in the scale's order
    q = question(e, "echelle")
    assert q.options == F.ECHELLE
    coord = Counter(r[F.Q_COORD] for r in F.REPONDANTS)
    assert ensemble(e, q.code) == {n: coord[n] for n in F.ECHELLE}
    # number: median and quartiles (inclusive method, as numpy's default)
    q = question(e, "nombre")
    annees = [float(r[F.Q_ANNEES]) for r in F.REPONDANTS]
    q1, med, q3 = statistics.quantiles(annees, n=4, method="inclusive")
    assert e.nombres[q.code] == {"n": 19, "mediane": med, "q1": q1, "q3": q3}
    # free text: the multi-line cell read whole, the count of answers
    q = question(e, "texte")
    assert e.nombres[q.code]["n"] == sum(1 for r in F.REPONDANTS if r[F.Q_REMARQUES])
    assert F._REMARQUES[0] in q.reponses
    # participation by profession: every response, complete or not
    prof = Counter(r[F.Q_PROF] for r in tous)
    p = e.participation.set_index("libelle")
    assert set(p.index) == set(prof)
    # kinés (3) under the threshold; médecins (5, the smallest other cell) masked so that 3 cannot be recomputed
    masques = {"Masseur-kinésithérapeute", "Médecin généraliste"}
    assert set(p.index[p["statut"] == "secret"]) == masques
    for lib, n in prof.items():
        if lib not in masques:
            assert p.loc[lib, "repondants"] == n


def test_windows_1252_resaved_by_excel_reads_as_the_original():
    a, b = lire_enquete(ENQ / "google_forms.csv", SEUIL), lire_enquete(ENQ / "google_forms_excel.csv", SEUIL)
    pd.testing.assert_frame_equal(a.resultats, b.resultats)
    assert a.verbatims == b.verbatims


def test_identity_columns_are_never_read():
    for fichier in EXPORTS:
        export = lire(ENQ / fichier)
        assert export.identite_ignoree, fichier
        valeurs = {v for ligne in export.lignes for v in ligne.values()}
        entetes = {c.entete for c in export.colonnes}
        for ident in F.IDENTITES:
            assert ident not in valeurs, (fichier, ident)
        assert not entetes & {"Adresse e-mail", "Adresse de messagerie", "Nom", "ID", "Adresse IP", "ipaddr", "id",
                              "IP Address", "Username", "SID"}


def test_participation_masked_with_secondary_suppression():
    # Google: 6 infirmiers, 5 médecins, 5 pharmaciens, 3 kinés -> kinés masked (3 < 5) and, as the total (19)
    # is published, the smallest other cell too (médecins, 5, first in order)
    e = lire_enquete(ENQ / "google_forms.csv", SEUIL)
    p = e.participation.set_index("libelle")
    assert p.loc["Masseur-kinésithérapeute", "statut"] == "secret"
    assert p.loc["Médecin généraliste", "statut"] == "secret"
    assert p.loc["Infirmier", "repondants"] == 6 and p.loc["Pharmacien", "repondants"] == 5
    assert p["repondants"][p["statut"] == "secret"].isna().all()


def test_breakdown_by_profession_masks_small_cells_and_no_excerpt_names_a_masked_group():
    e = lire_enquete(ENQ / "google_forms.csv", SEUIL)
    q = question(e, "choix_multiple")
    assert q.ventiler
    g = e.resultats[(e.resultats["question"] == q.code) & (e.resultats["groupe"] != "Ensemble")]
    assert len(g)
    ok = g[g["statut"] == "ok"]
    assert (ok["effectif"] >= SEUIL).all() or (ok["effectif"] == 0).any()
    assert g.loc[g["statut"] == "secret", "effectif"].isna().all()
    for grp in ("Masseur-kinésithérapeute", "Médecin généraliste"):  # masked in the participation
        assert (g.loc[g["groupe"] == grp, "statut"] == "secret").all()
    masques = set(e.participation.loc[e.participation["statut"] == "secret", "libelle"])
    for _texte, groupe in e.verbatims[question(e, "texte").code]:
        assert groupe is None or groupe not in masques


def test_masquer_secondary_on_rows_and_columns():
    tab = pd.DataFrame({"a": [8, 3], "b": [6, 7], "c": [9, 12]}, index=["x", "y"])
    m = masquer(tab, 5)
    # y/a primary; row y: smallest other is y/b (7); column a: x/a (8); then column b and row x close the loop
    assert m.loc["y", "a"] and m.loc["y", "b"] and m.loc["x", "a"] and m.loc["x", "b"]
    assert not m.loc["x", "c"] and not m.loc["y", "c"]
    assert not masquer(pd.DataFrame({"a": [5, 0, 7]}).T, 5).any().any()  # 0 and 5 are not secret


def test_excerpts_are_scrubbed():
    assert nettoyer("Contactez-moi : marc.durand@exemple.fr ou 06 12 34 56 78") == "Contactez-moi : [retiré] ou [retiré]"
    assert nettoyer("tél. +33 6 12 34 56 78, RPPS 10101234567, ADELI 711234567.") == \
        "tél. [retiré], RPPS [retiré], ADELI [retiré]."
    assert nettoyer("en 2024, 12 patients") == "en 2024, 12 patients"
    e = lire_enquete(ENQ / "limesurvey_reponses_completes.csv", SEUIL)
    textes = " ".join(t for t, _ in e.verbatims[question(e, "texte").code])
    assert "@" not in textes and "06 12" not in textes and "10101234567" not in textes


def test_response_rate_against_rpps_of_the_perimeter():
    from test_indicateurs_sante import fixture_warehouse

    con = fixture_warehouse()
    communes = ["71153", "71134"]
    selection = pd.DataFrame({"territoire_type": "perimetre", "territoire_code": "t", "territoire_nom": "T",
                              "commune": communes})
    pros = _professionnels(con, selection)
    # independent count from the RPPS fixture file: distinct practitioners of profession 60 / 21 practising there
    rpps = pd.read_csv(FIXTURES / "rpps" / "ps-libreacces-personne-activite.txt", sep="|", dtype=str)
    col = next(c for c in rpps.columns if c.startswith("Code commune"))
    ici = rpps[rpps[col].isin(communes)]
    attendu = {code: ici.loc[ici["Code profession"] == code, "Identifiant PP"].nunique() for code in ("60", "21")}
    assert pros["infirmier"] == attendu["60"] and pros["pharmacien"] == attendu["21"]
    e = lire_enquete(ENQ / "google_forms.csv", SEUIL, professionnels=pros)
    p = e.participation.set_index("libelle")
    assert p.loc["Infirmier", "taux"] == pytest.approx(100 * 6 / attendu["60"])
    assert p.loc["Infirmier", "professionnels"] == attendu["60"]
    assert pd.isna(p.loc["Masseur-kinésithérapeute", "taux"])  # masked with its count


# -------------------------------------------------------------------------------------------- bad input

def _copie(tmp_path, nom, edit=None, toml=None, encoding="utf-8"):
    dst = tmp_path / nom
    if edit is None:
        shutil.copy(ENQ / nom, dst)
    else:
        dst.write_text(edit((ENQ / nom).read_text(encoding=encoding)), encoding=encoding)
    if toml is not None:
        dst.with_suffix(".toml").write_text(toml, encoding="utf-8")
    return dst


def test_not_a_survey_export(tmp_path):
    p = tmp_path / "indicateurs.csv"
    shutil.copy(FIXTURES / "local" / "indicateurs_locaux.csv", p)
    with pytest.raises(EnqueteError, match=r"Fichier indicateurs\.csv, ligne 1 : ce fichier n'est pas un export"):
        lire_enquete(p, SEUIL)


def test_empty_file(tmp_path):
    (tmp_path / "vide.csv").write_bytes(b"")
    with pytest.raises(EnqueteError, match=r"Fichier vide\.csv : fichier vide"):
        lire_enquete(tmp_path / "vide.csv", SEUIL)


def test_question_named_in_toml_absent_from_the_file(tmp_path):
    p = _copie(tmp_path, "framaforms.csv", toml='[questions."Quel est votre âge ?"]\ntype = "nombre"\n')
    with pytest.raises(EnqueteError, match=r"Fichier framaforms\.toml : la question « Quel est votre âge \? » n'est pas"):
        lire_enquete(p, SEUIL)


def test_unknown_scale_value_names_row_and_column(tmp_path):
    p = _copie(tmp_path, "limesurvey_reponses_completes.csv", encoding="utf-8-sig",
               edit=lambda t: t.replace('"Plutôt pas d\'accord"', '"Bof"', 1))
    # the first « Plutôt pas d'accord » is respondent i = 3 (ECHELLE[9 % 4]); the header is line 1 and the
    # response i = 0 spans lines 2-3 (a two-line remark), so i = 3 starts on line 6
    with pytest.raises(EnqueteError, match=r"Fichier limesurvey_reponses_completes\.csv, ligne 6, colonne « La "
                                           r"coordination .* » : valeur « Bof » hors de l'échelle"):
        lire_enquete(p, SEUIL)


def test_duplicate_submission(tmp_path):
    lignes = (ENQ / "google_forms.csv").read_text(encoding="utf-8").split("\n")
    p = tmp_path / "google_forms.csv"
    # line 4 (respondent i = 1; i = 0 spans lines 2-3) submitted twice
    p.write_text("\n".join(lignes[:4] + [lignes[3]] + lignes[4:]), encoding="utf-8")
    shutil.copy(ENQ / "google_forms.toml", tmp_path / "google_forms.toml")
    with pytest.raises(EnqueteError, match=r"Fichier google_forms\.csv, ligne 5, colonne « horodatage » : réponse en "
                                           r"double .* que la ligne 4"):
        lire_enquete(p, SEUIL)


def test_truncated_row(tmp_path):
    p = _copie(tmp_path, "framaforms.csv", edit=lambda t: t.replace('"0","192.0.2.11"', '"0"', 1))
    # three header lines, respondent i = 0 on lines 4-5 (two-line remark), i = 1 (192.0.2.11) on line 6
    with pytest.raises(EnqueteError, match=r"Fichier framaforms\.csv, ligne 6 : 15 valeurs pour 16 colonnes"):
        lire_enquete(p, SEUIL)


def test_patients_survey_numeric_scale_and_other_answers(tmp_path):
    """A patients' survey (public « usagers » in the .toml), a 1-5 rating read as a scale from its text, a single
    choice whose .toml options turn a typed-in answer into « Autre » (never shown as typed)."""
    from types import SimpleNamespace

    from diagnostic.report import enquete as rapport

    notes = [5, 4, 4, 3, 5, 2, 4, 1, 4, 5]
    moyens = ["Téléphone", "Internet", "Téléphone", "Sur place", "Internet", "Téléphone",
              "Mon voisin Jean Martin m'appelle", "Internet", "Téléphone", "Internet"]
    lignes = ["Horodateur,Quelle note donnez-vous à l'accès aux soins (de 1 à 5) ?,Comment prenez-vous rendez-vous ?"]
    lignes += [f"0{k + 1}/04/2026 10:00:00,{n},{m}" for k, (n, m) in enumerate(zip(notes, moyens))]
    p = tmp_path / "usagers.csv"
    p.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    p.with_suffix(".toml").write_text('public = "usagers"\n[questions."Comment prenez-vous rendez-vous ?"]\n'
                                      'options = ["Téléphone", "Internet", "Sur place"]\n', encoding="utf-8")
    e = lire_enquete(p, SEUIL)
    assert e.public == "usagers" and (e.debut, e.fin) == ("2026-04-01", "2026-04-10")
    note = question(e, "echelle")
    assert note.options == ["1", "2", "3", "4", "5"]
    assert ensemble(e, note.code) == {str(k): notes.count(k) for k in range(1, 6)}
    moyen = question(e, "choix_unique")
    assert ensemble(e, moyen.code) == {"Téléphone": 4, "Internet": 4, "Sur place": 1, "Autre (réponse libre)": 1}
    assert "Jean Martin" not in " ".join(map(str, e.resultats["reponse"]))
    ctx = SimpleNamespace(nom="CPTS Test", enquetes=[e], indicateurs=pd.DataFrame(columns=["territoire_type"]))
    (s,) = rapport.sections(ctx, 7)
    assert s["titre"] == "Besoins et attentes des usagers" and s["numero"] == 7


def test_limesurvey_array_gives_one_scale_per_sub_question(tmp_path):
    """A LimeSurvey « Tableau » (one agreement scale per sub-question, full answers in the cells) is not a
    multiple choice: each sub-question becomes a scale question of its own."""
    niveaux = ["Pas du tout d'accord", "Plutôt pas d'accord", "Plutôt d'accord", "Tout à fait d'accord"]
    sq1 = [niveaux[k % 4] for k in range(8)]
    sq2 = [niveaux[(k * 3) % 4] for k in range(8)]
    rows = ['"id";"submitdate";"lastpage";"startlanguage";"ACC[SQ001]";"ACC[SQ002]"']
    rows += [f'"{k + 1}";"2026-05-0{k + 1} 10:00:00";"2";"fr";"{a}";"{b}"' for k, (a, b) in enumerate(zip(sq1, sq2))]
    p = tmp_path / "tableau.csv"
    p.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    e = lire_enquete(p, SEUIL)
    qs = [q for q in e.questions if q.type == "echelle"]
    assert [q.texte for q in qs] == ["ACC[SQ001]", "ACC[SQ002]"]
    assert ensemble(e, qs[0].code) == {n: sq1.count(n) for n in niveaux}
    assert ensemble(e, qs[1].code) == {n: sq2.count(n) for n in niveaux}


def test_google_grid_rows_and_name_column(tmp_path):
    """Google Forms writes a grid question as one « Question [ligne] » column per row (header quoted as a real
    export's by third-party code) and may hold a « Prénom et Nom » question: the rows are scales of their own,
    the name is never read."""
    q = "Sur une échelle de 1 (le plus faible) à 10 (le plus élevé), comment estimez-vous [Délais de rendez-vous]"
    notes = [3, 7, 7, 10, 2, 5]
    lignes = [f'Horodateur,Adresse e-mail,Prénom et Nom,"{q}"']
    lignes += [f"0{k + 1}/06/2026 09:00:00,p{k}@exemple-sante.fr,Patient Numéro{k},{n}" for k, n in enumerate(notes)]
    p = tmp_path / "grille.csv"
    p.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    export = lire(p)
    assert export.identite_ignoree == ["Adresse e-mail", "Prénom et Nom"]
    assert not any("Numéro" in v for ligne in export.lignes for v in ligne.values())
    e = lire_enquete(p, SEUIL)
    (echelle,) = e.questions
    assert echelle.type == "echelle" and echelle.options == [str(k) for k in range(1, 11)]
    assert ensemble(e, echelle.code) == {str(k): notes.count(k) for k in range(1, 11)}
