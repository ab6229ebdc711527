"""Parser of the Cnam « Démographie des professionnels de santé libéraux : effectifs et densités »
(data.ameli.fr dataset `demographie-effectifs-et-les-densites`, CSV export).

`;`-separated, one header row: annee, profession_sante, region, libelle_region, departement,
libelle_departement, classe_age, libelle_classe_age, libelle_sexe, effectif, densite. Levels:
département; région (`departement = '999'`); France (`region = '99'`). Built-in totals:
`classe_age = 'tout_age'`, `libelle_sexe = 'tout sexe'` — kept as rows, never added to detail rows.
Values `NS` / `NC` are kept as a status, never 0. Scope: liberal practitioners active on 31 December
with at least 1 € of fees, metropolitan France and the five DROM.

Only the general practitioners are kept: the one `profession_sante` label matching the registry's
`profession_mg` (regular expression).

Grain: `stg_ameli_demographie` one row per (annee, region, departement, classe_age, libelle_sexe).
`age_min` = lower bound of the age class in years (0 for « moins de … »), NULL for `tout_age`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, validate
from .lecture import annee, empty_frame, pad, numbers, read_ods_export, strings

REQUIRED = ["annee", "profession_sante", "region", "departement", "classe_age", "libelle_classe_age",
            "libelle_sexe", "effectif", "densite"]
PROFESSION_MG = r"(?i)^médecins? généralistes?(?!.*expertise particulière)"

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
    unique=["annee", "region", "departement", "classe_age", "libelle_sexe"],
    strict=True,
    name="ameli_demographie",
)


def age_min(classe: str, libelle: str) -> int | None:
    """Lower bound of an age class: '60-64' / 'De 60 à 64 ans' -> 60, '70 ans et plus' -> 70,
    'moins de 30 ans' / '<30' -> 0, 'tout_age' / 'Tout âge' -> None."""
    text = f"{classe} {libelle}".lower()
    if "tout" in text:
        return None
    if re.search(r"moins|<|inf", text):
        return 0
    m = re.search(r"(\d{2,3})", classe) or re.search(r"(\d{2,3})", libelle)
    return int(m.group(1)) if m else None


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; optional `profession_mg` (regex on `profession_sante`)."""
    pattern = spec.get("profession_mg", PROFESSION_MG)
    df, fichier = read_ods_export(folder, "d'export de la démographie des professionnels de santé", REQUIRED)
    labels = sorted(df["profession_sante"].str.strip().unique())
    matching = [p for p in labels if re.search(pattern, p)]
    if len(df) and len(matching) != 1:
        raise SourceFormatError(
            f"Fichier {fichier} : {len(matching)} profession(s) correspondant à « {pattern} » "
            f"({', '.join(matching) or 'aucune'}) au lieu d'une ; professions du fichier : {', '.join(labels[:40])}."
        )
    keep = df[df["profession_sante"].str.strip().isin(matching)]
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
    return {"stg_ameli_demographie": strings(validate(out, DEMOGRAPHIE, fichier, row_offset=2))}


def empty() -> dict[str, pd.DataFrame]:
    return {"stg_ameli_demographie": empty_frame(DEMOGRAPHIE)}
