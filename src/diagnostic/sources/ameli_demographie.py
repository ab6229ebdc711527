"""Parser of the Cnam « Démographie des professionnels de santé libéraux : effectifs et densités »
(data.ameli.fr dataset `demographie-effectifs-et-les-densites`, CSV export).

`;`-separated, one header row: annee, profession_sante, region, libelle_region, departement,
libelle_departement, classe_age, libelle_classe_age, libelle_sexe, effectif, densite, then the portal's
display flags vision_generale_all, vision_generale_prescriptions, vision_profession_territoire (ignored: the
key below is unique, so a row repeated per flag would be refused, never counted twice). `annee` is a date
field (`2024-01-01`) or a year. Levels: département; région (`departement = '999'`); France
(`region = '99'`). Built-in totals: `classe_age = 'tout_age'` (« Tout âge »), `libelle_sexe = 'tout sexe'`
— kept as rows, never added to detail rows. Values `NS` / `NC` are kept as a status, never 0. Scope:
liberal practitioners active on 31 December with at least 1 € of fees, metropolitan France and the five DROM.

General practitioners: the registry's `professions_mg` lists the exact `profession_sante` labels whose sum is
the GP count: « Médecins généralistes (hors médecins à expertise particulière - MEP) » and « Médecins
généralistes à expertise particulière (MEP) » (GPs with a particular mode of practice are GPs; the dataset
has no single GP label we could confirm). Each label must be present (`exiger_selection`); rows are kept
per label, the models add them up.

Grain: `stg_ameli_demographie` one row per (annee, profession_sante, region, departement, classe_age,
libelle_sexe). `age_min` = lower bound of the age class in years (0 for « moins de … »), NULL for
`tout_age` and « âge inconnu ».
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, validate
from .lecture import annee, pad, numbers, read_ods_export, strings

REQUIRED = ["annee", "profession_sante", "region", "departement", "classe_age", "libelle_classe_age",
            "libelle_sexe", "effectif", "densite"]
PROFESSIONS_MG = ("Médecins généralistes (hors médecins à expertise particulière - MEP)",
                  "Médecins généralistes à expertise particulière (MEP)")

DEMOGRAPHIE = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "profession_sante": pa.Column(str),
        "region": pa.Column(str, pa.Check.str_matches(r"^\d{2,3}$")),
        "departement": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB])$")),
        "classe_age": pa.Column(str),
        "libelle_classe_age": pa.Column(str, nullable=True),
        "age_min": pa.Column("Int64", pa.Check.in_range(0, 120), nullable=True),
        "libelle_sexe": pa.Column(str),
        "effectif": pa.Column(float, pa.Check.ge(0), nullable=True),
        "effectif_statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
        "densite": pa.Column(float, pa.Check.ge(0), nullable=True),
        "densite_statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
    },
    unique=["annee", "profession_sante", "region", "departement", "classe_age", "libelle_sexe"],
    strict=True,
    name="ameli_demographie",
)


def age_min(classe: str, libelle: str) -> int | None:
    """Lower bound of an age class: '60-64' / 'de 60 à 64 ans' -> 60, '70 ans et plus' -> 70,
    'moins de 25 ans' / '<25' -> 0, 'tout_age' / 'Tout âge' / 'âge inconnu' -> None."""
    text = f"{classe} {libelle}".lower()
    if "tout" in text or "inconnu" in text:  # whatever its code, « âge inconnu » has no lower bound
        return None
    if re.search(r"moins|<|inf", text):
        return 0
    m = re.search(r"(\d{2,3})", classe) or re.search(r"(\d{2,3})", libelle)
    return int(m.group(1)) if m else None


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; optional `professions_mg` (exact `profession_sante` labels)."""
    wanted = [str(p).strip() for p in spec.get("professions_mg", PROFESSIONS_MG)]
    if not wanted:
        raise SourceFormatError("Registre des sources : aucune profession (« professions_mg ») pour la démographie ameli.")
    df, fichier = read_ods_export(folder, "d'export de la démographie des professionnels de santé", REQUIRED)
    profession = df["profession_sante"].str.strip()
    for label in wanted:
        exiger_selection(profession.eq(label).any(), fichier, f"aucune profession ne correspond à « {label} »",
                         profession, "professions présentes")
    keep = df[profession.isin(wanted)]
    effectif, effectif_statut = numbers(keep, "effectif", fichier, row_offset=2, masks=True)
    densite, densite_statut = numbers(keep, "densite", fichier, row_offset=2, masks=True)
    classe, libelle = keep["classe_age"].str.strip(), keep["libelle_classe_age"].str.strip()
    departement = keep["departement"].str.strip()
    out = pd.DataFrame({
        "annee": annee(keep["annee"]),
        "profession_sante": keep["profession_sante"].str.strip(),
        "region": pad(keep["region"]),
        "departement": pad(departement),
        "classe_age": classe,
        "libelle_classe_age": libelle.where(libelle.ne(""), None),
        "age_min": pd.array([age_min(c, l) for c, l in zip(classe, libelle)], dtype="Int64"),
        "libelle_sexe": keep["libelle_sexe"].str.strip().str.lower(),
        "effectif": effectif,
        "effectif_statut": effectif_statut,
        "densite": densite,
        "densite_statut": densite_statut,
    })
    # what the models select on (08_int_sante.sql, int_ameli_mg_age): the both-sexes rows, the all-ages total
    # and an age class starting at 60
    classes = sorted(set(zip(out["classe_age"], out["libelle_classe_age"].fillna(""))))
    exiger_selection(out["libelle_sexe"].eq("tout sexe").any(), fichier, "aucune ligne « tout sexe » pour les généralistes",
                     out["libelle_sexe"], "sexes présents")
    total = out["age_min"].isna() & (out["classe_age"].str.lower().str.startswith("tout")
                                     | out["libelle_classe_age"].fillna("").str.lower().str.startswith("tout"))
    exiger_selection(total.any(), fichier, "aucune classe d'âge « Tout âge » (tout_age) pour les généralistes",
                     [f"{c} ({l})" for c, l in classes], "classes d'âge présentes")
    exiger_selection(out["age_min"].eq(60).any(), fichier, "aucune classe d'âge ne commence à 60 ans (part des 60 ans et plus)",
                     [f"{c} ({l})" for c, l in classes], "classes d'âge présentes")
    return {"stg_ameli_demographie": strings(validate(out, DEMOGRAPHIE, fichier, row_offset=2))}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_ameli_demographie": DEMOGRAPHIE}
