"""Parser of the Cnam « Observatoire de l'accès aux soins » yearly exports that share one layout
(data.ameli.fr, Opendatasoft CSV export, `;`, field names in the header):

- `couverture-sas`: annee, region, libelle_region, departement, libelle_departement,
  taux_population_couverte (French-formatted string, %), couvert, taux_population_couverte_integer;
- `patientele-medecintraitant-generalistes-annuelle`: annee, profession_sante, region, libelle_region,
  departement, libelle_departement, nombre_patients_medecin_traitant (mean médecin-traitant patientèle per GP),
  taux_evolution_annuel[_integer].

The registry's vintage table names the value field (`champ`), the staging table (`table`) and, for a file with
a `profession_sante` column, a regex the one kept profession must match (`profession`; no match is a
SelectionVide). `couvert` is never read (documented as numeric, values never seen). The `_integer` twins
(empty where masked) are never read. Levels are mixed in one table: France (`region = '99'`), région
(`departement = '999'`), département; rows with `region = 'inconnu'` are left out; a file without the France
rows is refused (`exiger_france`). `NS` / `NC` stay a status.

Grain: `<table>` one row per (annee, territoire_type, territoire_code).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, require_columns, validate
from .lecture import annee, exiger_france, numbers, pad, read_ods_export, strings

STG = pa.DataFrameSchema(
    {
        "annee": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "territoire_type": pa.Column(str, pa.Check.isin(["departement", "region", "france"])),
        "territoire_code": pa.Column(str, pa.Check.str_matches(r"^(\d{2,3}|2[AB]|FR)$")),
        "territoire_nom": pa.Column(str, nullable=True),
        "valeur": pa.Column(float, pa.Check.ge(0), nullable=True),
        "statut": pa.Column(str, pa.Check.isin(["secret", "non_disponible"]), nullable=True),
    },
    unique=["annee", "territoire_type", "territoire_code"],
    strict=True,
    name="ameli_acces",
)


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: `table`, `champ`, optional `profession` (regex on profession_sante), optional `maximum`."""
    champ = spec["champ"]
    df, fichier = read_ods_export(folder, f"d'export data.ameli.fr ({champ})", ["annee", "region", "departement", champ])
    df = df[~df["region"].str.strip().str.lower().eq("inconnu")]
    if spec.get("profession"):
        require_columns(df.columns, ["profession_sante"], fichier, " (le registre choisit une profession)")
        labels = sorted(df["profession_sante"].str.strip().unique())
        keep = [p for p in labels if re.search(spec["profession"], p)]
        exiger_selection(keep, fichier, f"aucune profession ne correspond à « {spec['profession']} »",
                         labels, "professions présentes")
        if len(keep) != 1:  # a mean per practitioner cannot be added across professions
            raise SourceFormatError(f"Fichier {fichier} : {len(keep)} professions correspondent à « {spec['profession']} » "
                                    f"au lieu d'une : {' ; '.join(keep)}.")
        df = df[df["profession_sante"].str.strip().isin(keep)]
    exiger_france(df["region"], fichier)
    valeur, statut = numbers(df, champ, fichier, row_offset=2, masks=True)
    region, dep = pad(df["region"]), pad(df["departement"])
    ttype = pd.Series("departement", index=df.index).mask(dep.eq("999"), "region").mask(region.eq("99"), "france")
    tcode = dep.mask(ttype.eq("region"), region).mask(ttype.eq("france"), "FR")
    nom_dep = df["libelle_departement"].str.strip() if "libelle_departement" in df.columns else pd.Series("", index=df.index)
    nom_reg = df["libelle_region"].str.strip() if "libelle_region" in df.columns else pd.Series("", index=df.index)
    tnom = nom_dep.mask(ttype.eq("region"), nom_reg).mask(ttype.eq("france"), "France")
    out = pd.DataFrame({
        "annee": annee(df["annee"]),
        "territoire_type": ttype,
        "territoire_code": tcode,
        "territoire_nom": tnom.where(tnom.ne(""), None),
        "valeur": valeur,
        "statut": statut.where(statut.notna() | valeur.notna(), "non_disponible"),
    })
    schema = STG
    if spec.get("maximum") is not None:
        schema = STG.update_column("valeur", checks=[pa.Check.in_range(0, float(spec["maximum"]))])
    return {spec["table"]: strings(validate(out, schema, fichier, row_offset=2))}


def tables(spec: dict) -> dict:
    """The staging table a parse gives (named by the registry's vintage: `table`) and its schema."""
    return {spec["table"]: STG}


REQUIRED = ["annee", "region", "departement"]  # fields besides the registry's `champ` (checked by `diagnostic verifier`)
