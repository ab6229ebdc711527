"""The directory of the territory's actors (issue 18): who practises where, and the establishments and services,
from the two open extracts the warehouse already holds (Annuaire santé / RPPS, FINESS).

`charger` runs the report queries `models/annuaire_*.sql` on the selection of a territory; `ecrire` writes
`annuaire.xlsx` (sheets Professionnels, Structures, Synthèse, and « À vérifier » when some sites cannot be
placed) and `annuaire.csv` (`;`, UTF-8 with BOM, for Excel). Names of individual professionals are in these two
files only: the report (`report/annuaire.py`) prints counts.

Grain of the Synthèse: distinct professionals per (profession, commune), and over the whole territory (a
professional with sites in two communes counts in each commune and once in the territory: the offer-of-care
indicators `nb_*` of the report); establishments per (group, commune).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .seuils import DEFAUTS
from .warehouse import model_sql

AVERTISSEMENT = ("Cet annuaire reflète les extractions ouvertes de l'Annuaire santé (RPPS) et de FINESS à leur date, "
                 "pas une liste vérifiée : un professionnel ou une structure peut avoir cessé, déménagé ou manquer ; "
                 "vérifiez avant usage.")
ENSEMBLE = "Ensemble du territoire"
# profession id -> suffix of the offer-of-care indicator nb_<suffix> (93_mart_indicateurs_offre_soins.sql)
INDICATEURS = {"medecin_generaliste": "nb_mg", "specialiste": "nb_specialistes", "infirmier": "nb_infirmiers",
               "masseur_kinesitherapeute": "nb_kines", "chirurgien_dentiste": "nb_dentistes",
               "sage_femme": "nb_sages_femmes", "pharmacien": "nb_pharmaciens"}


@dataclass
class Annuaire:
    """The directory of one perimeter. Frames are those of `models/annuaire_*.sql` (one perimeter's rows)."""

    nom: str
    professionnels: pd.DataFrame
    structures: pd.DataFrame
    a_verifier: pd.DataFrame
    communes: pd.DataFrame  # code, nom of the perimeter's communes
    date_rpps: str = ""
    date_finess: str = ""
    seuil: int = 5  # secret statistique threshold of professionals (meta_secret, from pipelines/diagnostic.toml)
    rpps_disponible: bool = True
    finess_disponible: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def vide(self) -> bool:
        return not len(self.professionnels) and not len(self.structures)


def _requete(con, selection: pd.DataFrame, model: str) -> pd.DataFrame:
    con.register("selection_territoire", selection)
    try:
        return con.sql(model_sql(model)).df()
    finally:
        con.unregister("selection_territoire")


def charger(con, selection: pd.DataFrame, nom: str) -> Annuaire:
    """The directory of the perimeter of `selection` (rows territoire_type 'perimetre')."""
    pro = _requete(con, selection, "annuaire_professionnels.sql")
    struct = _requete(con, selection, "annuaire_structures.sql")
    verif = _requete(con, selection, "annuaire_a_verifier.sql")
    perim = selection[selection["territoire_type"] == "perimetre"]
    con.register("_perimetre", perim[["commune"]].drop_duplicates())
    try:
        communes = con.sql("SELECT c.code, c.nom FROM int_commune c JOIN _perimetre p ON p.commune = c.code "
                           "ORDER BY c.nom, c.code").df()
    finally:
        con.unregister("_perimetre")
    meta = dict(con.sql("SELECT cle, max(millesime) FROM meta_source GROUP BY cle").fetchall())
    date_finess = con.sql("SELECT max(date_extraction) FROM stg_finess_etablissement").fetchone()[0] or meta.get("finess", "")
    seuil = con.sql("SELECT seuil FROM meta_secret WHERE cle = 'professionnels'").fetchone()
    return Annuaire(
        nom=nom, professionnels=pro, structures=struct, a_verifier=verif, communes=communes,
        date_rpps=str(meta.get("rpps", "") or ""), date_finess=str(date_finess or ""),
        seuil=int(seuil[0]) if seuil else int(DEFAUTS["professionnels"]),
        rpps_disponible=bool(con.sql("SELECT count(*) > 0 FROM stg_rpps_activite").fetchone()[0]),
        finess_disponible=bool(con.sql("SELECT count(*) > 0 FROM stg_finess_etablissement").fetchone()[0]),
    )


def synthese_professions(a: Annuaire) -> pd.DataFrame:
    """Distinct professionals per (profession, commune), then per profession over the territory.
    Columns: profession, profession_libelle, code_commune, nom_commune, nombre (long format, sheet order)."""
    p = a.professionnels
    cols = ["profession", "profession_ordre", "profession_libelle"]
    if not len(p):
        return pd.DataFrame(columns=[*cols, "code_commune", "nom_commune", "nombre"])
    par_commune = (p.groupby([*cols, "code_commune", "nom_commune"], dropna=False)["identifiant"].nunique()
                   .rename("nombre").reset_index())
    total = p.groupby(cols)["identifiant"].nunique().rename("nombre").reset_index()
    total["code_commune"], total["nom_commune"] = "", ENSEMBLE
    par_commune["_t"], total["_t"] = 0, 1
    out = pd.concat([par_commune, total], ignore_index=True)
    out = out.sort_values(["_t", "nom_commune", "code_commune", "profession_ordre"]).drop(columns="_t")
    return out.reset_index(drop=True)


def synthese_structures(a: Annuaire) -> pd.DataFrame:
    """Establishments per (group, commune), then per group over the territory (each is in one commune)."""
    s = a.structures
    cols = ["groupe", "groupe_ordre", "groupe_libelle"]
    if not len(s):
        return pd.DataFrame(columns=[*cols, "code_commune", "nom_commune", "nombre"])
    par_commune = s.groupby([*cols, "code_commune", "nom_commune"], dropna=False).size().rename("nombre").reset_index()
    total = s.groupby(cols).size().rename("nombre").reset_index()
    total["code_commune"], total["nom_commune"] = "", ENSEMBLE
    par_commune["_t"], total["_t"] = 0, 1
    out = pd.concat([par_commune, total], ignore_index=True)
    return out.sort_values(["_t", "nom_commune", "code_commune", "groupe_ordre"]).drop(columns="_t").reset_index(drop=True)


# ------------------------------------------------------------------------------------------- the files
PROFESSIONNELS = [  # (column of the query, header, width)
    ("nom_commune", "Commune", 24), ("code_commune", "Code commune (COG)", 11), ("profession_libelle", "Profession", 22),
    ("savoir_faire", "Spécialité ou savoir-faire", 30), ("mode_exercice", "Mode d'exercice", 16),
    ("civilite", "Civilité", 10), ("nom", "Nom", 20), ("prenom", "Prénom", 16), ("identifiant", "Identifiant RPPS / ADELI", 15),
    ("nb_sites", "Nombre de sites d'exercice", 10), ("structure", "Structure (cabinet, MSP, centre, établissement…)", 34),
    ("finess_site", "N° FINESS du site", 12), ("adresse", "Adresse", 34), ("code_postal", "Code postal", 9),
    ("telephone", "Téléphone", 13), ("telephone_2", "Téléphone 2", 13), ("email", "Courriel", 28),
    ("code_commune_fichier", "Code commune dans l'extraction (ancien code)", 14),
]
STRUCTURES = [
    ("nom_commune", "Commune", 24), ("code_commune", "Code commune (COG)", 11), ("groupe_libelle", "Groupe", 30),
    ("categetab", "Catégorie FINESS", 9), ("libelle_categorie", "Libellé de la catégorie", 34), ("nom", "Nom", 34),
    ("nom_long", "Nom long", 38), ("nofinesset", "N° FINESS établissement", 12), ("nofinessej", "N° FINESS entité juridique", 12),
    ("nom_ej", "Entité juridique", 30), ("adresse", "Adresse (géographique)", 34), ("code_postal", "Code postal", 9),
    ("telephone", "Téléphone", 13), ("dateouv", "Date d'ouverture", 12),
]
A_VERIFIER = [
    ("code_postal", "Code postal", 9), ("libelle_commune", "Commune (libellé de l'extraction)", 24),
    ("code_commune_fichier", "Code commune de l'extraction", 12), ("motif", "Motif", 34), ("profession", "Profession", 20),
    ("civilite", "Civilité", 10), ("nom", "Nom", 20), ("prenom", "Prénom", 16), ("identifiant", "Identifiant RPPS / ADELI", 15),
    ("structure", "Structure", 30), ("adresse", "Adresse", 34),
]
SYNTHESE = [("type", "Type", 16), ("categorie", "Profession ou groupe", 40), ("code_commune", "Code commune (COG)", 11),
            ("nom_commune", "Commune", 26), ("nombre", "Nombre", 10)]


def fraicheur(a: Annuaire) -> str:
    from .report import fmt

    parts = []
    if a.date_rpps:
        parts.append(f"Annuaire santé (RPPS), extraction du {fmt.date_fr(a.date_rpps)}")
    if a.date_finess:
        parts.append(f"FINESS, extraction du {fmt.date_fr(a.date_finess)}")
    return ("Sources : " + " ; ".join(parts) + ". " if parts else "") + AVERTISSEMENT


def synthese(a: Annuaire) -> pd.DataFrame:
    pro = synthese_professions(a).assign(type="Professionnels", categorie=lambda d: d["profession_libelle"])
    struct = synthese_structures(a).assign(type="Structures", categorie=lambda d: d["groupe_libelle"])
    cols = [c for c, _, _ in SYNTHESE]
    return pd.concat([pro[cols], struct[cols]], ignore_index=True)


def phrase_vide(a: Annuaire, quoi: str) -> str:
    disponible = a.rpps_disponible if quoi == "professionnels" else a.finess_disponible
    if not disponible:
        source = "l'Annuaire santé (RPPS)" if quoi == "professionnels" else "FINESS"
        return f"Aucune donnée : {source} n'était pas disponible lors de cette édition."
    if quoi == "professionnels":
        return (f"Aucun professionnel de santé des six professions suivies n'a de lieu d'exercice dans les communes "
                f"du territoire « {a.nom} » d'après l'extraction.")
    return f"Aucun établissement ni service ouvert n'est situé dans les communes du territoire « {a.nom} » d'après FINESS."


def _feuille(wb, titre: str, a: Annuaire, df: pd.DataFrame, colonnes, vide: str | None, intitule: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(titre)
    ws["A1"] = intitule
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = fraicheur(a)
    ws["A2"].font = Font(italic=True, size=9)
    entete = 4
    if not len(df):
        ws.cell(entete, 1, vide or "Aucune ligne.").font = Font(bold=True)
        ws.column_dimensions["A"].width = 120
        return
    for j, (_, libelle, largeur) in enumerate(colonnes, start=1):
        c = ws.cell(entete, j, libelle)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="3F88C5")
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = largeur
    for i, row in enumerate(df[[c for c, _, _ in colonnes]].itertuples(index=False), start=entete + 1):
        for j, v in enumerate(row, start=1):
            ws.cell(i, j, None if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else
                    (int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() else v))
    ws.freeze_panes = ws.cell(entete + 1, 1)
    ws.auto_filter.ref = f"A{entete}:{get_column_letter(len(colonnes))}{entete + len(df)}"


def ecrire(a: Annuaire, out_dir: Path) -> list[Path]:
    """Write annuaire.xlsx and annuaire.csv into out_dir; return their paths."""
    from openpyxl import Workbook

    out_dir = Path(out_dir)
    wb = Workbook()
    wb.remove(wb.active)
    _feuille(wb, "Professionnels", a, a.professionnels, PROFESSIONNELS, phrase_vide(a, "professionnels"),
             f"Professionnels de santé par lieu d'exercice : {a.nom}")
    _feuille(wb, "Structures", a, a.structures, STRUCTURES, phrase_vide(a, "structures"),
             f"Établissements et services (FINESS, ouverts) : {a.nom}")
    syn = synthese(a)
    _feuille(wb, "Synthèse", a, syn, SYNTHESE, "Aucun professionnel ni aucune structure dans les communes du territoire.",
             f"Synthèse par commune : {a.nom} (professionnels distincts ; « {ENSEMBLE} » : chacun compté une fois)")
    if len(a.a_verifier):
        _feuille(wb, "À vérifier", a, a.a_verifier, A_VERIFIER, None,
                 "Lieux d'exercice sans commune reconnue (code absent ou inconnu du COG), dans les départements du territoire")
    xlsx = out_dir / "annuaire.xlsx"
    wb.save(xlsx)
    csv = out_dir / "annuaire.csv"
    ecrire_csv(a, csv)
    return [xlsx, csv]


def ecrire_csv(a: Annuaire, path: Path) -> Path:
    """One row per professional × site then per establishment, common columns; `;`, UTF-8 with BOM."""
    p = a.professionnels.rename(columns={"profession_libelle": "categorie", "savoir_faire": "detail"})
    p = p.assign(type="Professionnel")
    s = a.structures.rename(columns={"groupe_libelle": "categorie", "libelle_categorie": "detail",
                                     "nofinesset": "identifiant", "nom": "structure"}).assign(type="Structure")
    cols = {"type": "Type", "nom_commune": "Commune", "code_commune": "Code commune (COG)", "categorie": "Profession ou groupe",
            "detail": "Spécialité, savoir-faire ou catégorie", "mode_exercice": "Mode d'exercice", "civilite": "Civilité",
            "nom": "Nom", "prenom": "Prénom", "identifiant": "Identifiant (RPPS / ADELI / FINESS)",
            "nb_sites": "Nombre de sites d'exercice", "structure": "Structure", "adresse": "Adresse",
            "code_postal": "Code postal", "telephone": "Téléphone", "email": "Courriel"}
    p = p.reindex(columns=list(cols)).assign(extraction=f"Annuaire santé (RPPS) du {a.date_rpps}")
    s = s.reindex(columns=list(cols)).assign(extraction=f"FINESS du {a.date_finess}")
    df = pd.concat([p, s], ignore_index=True)
    df["nb_sites"] = df["nb_sites"].astype("Int64")
    df = df.rename(columns={**cols, "extraction": "Extraction (liste ouverte, non vérifiée)"})
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, sep=";", index=False, lineterminator="\n")
    return path


def produire(ws, spec: str):
    """`diagnostic annuaire <territoire>`: ingest what is missing, build, write annuaire.xlsx and annuaire.csv into
    reports/<slug>/ (each file written beside its target, then renamed: a reader never sees half a file).
    Returns (RunReport, [paths])."""
    import os
    import tempfile

    from . import pipeline
    from .registry import load_registry
    from .territoire import resolve
    from .warehouse import connect

    sources = load_registry(ws.registry)
    result = pipeline.prepare(ws, sources=sources)
    with connect(ws) as con:
        territoire = resolve(spec, con, ws.territoires)
        result.warnings.extend(territoire.avertissements)
        a = charger(con, territoire.selection(con), territoire.nom)
    out = ws.reports / territoire.slug
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".annuaire.") as tmp:
        ecrits = [out / p.name for p in ecrire(a, Path(tmp))]
        for p in ecrits:
            os.replace(Path(tmp) / p.name, p)
    result.out_dir = out
    return result, ecrits, a
