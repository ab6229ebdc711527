"""Parser of INSEE Filosofi (revenus et pauvreté des ménages), commune file of the `base-cc-filosofi` zip.

Format as the genuine Filosofi 2021 file shows it (realdata/filosofi-2021/cc_filosofi_2021_COM.csv): `;`, no
quoting, no `LIBGEO`, header `CODGEO;NBMENFISC21;NBPERSMENFISC21;MED21;PIMP21;TP6021;…` (the last two digits
are the year). Counts and euros are integers; rates use a decimal comma (`17,0`) and are rounded to a whole
percent. Secret values are the text `s` (statistical secret) and `nd` (not available): kept as a status,
never turned into 0. Paris, Lyon and Marseille appear both as whole communes (75056, 69123, 13055) and as
their 45 arrondissements: the staging keeps every row, the model `int_commune_filosofi` counts each commune
once (arrondissement rows left out).

Only four columns are read: fiscal households (NBMENFISC), persons in fiscal households (NBPERSMENFISC), the
median standard of living (MED, € per consumption unit and year) and the poverty rate at 60 % (TP60, %).
Medians and rates are never aggregated over communes (the models say so).

Supra-communal files of the same zip (`cc_filosofi_2021_EPCI.csv`, `_DEP.csv`, `_REG.csv`: the registry's
`territoires` table, level -> member regex) carry INSEE's own values for those territories, in the commune file's
columns (third-party code reads `cc_filosofi_2021_DEP.csv` with the same names; see the registry's evidence).
They are read when the zip holds them; a level whose member is absent stays unread (its territories get no value).

Grain: `stg_filosofi_commune` one row per (millesime, code) — codes of the file's own COG;
`stg_filosofi_territoire` one row per (millesime, niveau, code), niveau 'epci', 'departement' or 'region'.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, require_columns, validate
from .cog import CODE_COMMUNE
from .lecture import empty_frame, numbers, read_table, single_file, strings, zip_member

log = logging.getLogger(__name__)

STATUTS = ["ok", "secret", "non_disponible"]

FILOSOFI = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "code": pa.Column(str, pa.Check.str_matches(CODE_COMMUNE)),
        "nb_menages_fiscaux": pa.Column(float, pa.Check.ge(0), nullable=True),
        "nb_personnes_menages_fiscaux": pa.Column(float, pa.Check.ge(0), nullable=True),
        "statut_effectifs": pa.Column(str, pa.Check.isin(STATUTS)),
        "niveau_vie_median": pa.Column(float, pa.Check.gt(0), nullable=True),
        "statut_niveau_vie_median": pa.Column(str, pa.Check.isin(STATUTS)),
        "taux_pauvrete": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "statut_taux_pauvrete": pa.Column(str, pa.Check.isin(STATUTS)),
    },
    unique=["millesime", "code"],
    strict=True,
    name="filosofi_communes",
)

# level of a supra-communal file -> pattern of its codes (EPCI: SIREN; départements with Corsica and DROM)
NIVEAUX = {"epci": r"^\d{9}$", "departement": r"^(\d{2}|2[AB]|97\d)$", "region": r"^\d{2}$"}

FILOSOFI_TERRITOIRES = pa.DataFrameSchema(
    {"niveau": pa.Column(str, pa.Check.isin(list(NIVEAUX))), **FILOSOFI.columns,
     "code": pa.Column(str, pa.Check.str_matches("|".join(NIVEAUX.values())))},
    unique=["millesime", "niveau", "code"],
    strict=True,
    name="filosofi_territoires",
)


def colonnes(annee: str) -> dict[str, str]:
    """File column -> role, for the vintage `annee` ('2021' -> NBMENFISC21…)."""
    aa = annee[-2:]
    return {f"NBMENFISC{aa}": "menages", f"NBPERSMENFISC{aa}": "personnes", f"MED{aa}": "mediane", f"TP60{aa}": "pauvrete"}


def _mesure(df: pd.DataFrame, col: str, fichier: str) -> tuple[pd.Series, pd.Series]:
    """Values and status ('ok', 'secret' for `s`, 'non_disponible' for `nd`) of one column."""
    values, masque = numbers(df, col, fichier, row_offset=2, masks=True)
    vide = df[col].astype(str).str.strip().eq("")
    if vide.any():
        i = int(vide.idxmax())
        raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonne {col!r} : cellule vide "
                                "(Filosofi écrit « s » ou « nd » pour une valeur non publiée).")
    statut = masque.where(masque.notna(), "ok").astype(str)
    return values.where(statut == "ok"), statut


def parse_csv(data: bytes, fichier: str, annee: str, niveau: str | None = None) -> pd.DataFrame:
    """One Filosofi file of the zip: the commune file (`niveau` None) or the file of one supra-communal level."""
    cols = colonnes(annee)
    df = read_table(data, fichier, sep=";")
    require_columns(df.columns, ["CODGEO", *cols], fichier)
    roles = {role: _mesure(df, col, fichier) for col, role in cols.items()}
    for col, role in cols.items():
        if role in ("menages", "personnes"):
            v = roles[role][0]
            fraction = (v % 1).fillna(0) != 0
            if fraction.any():
                i = int(fraction.idxmax())
                raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonne {col!r} : effectif non entier {df[col].iloc[i]!r}.")
    s_men, s_pers = roles["menages"][1], roles["personnes"][1]
    if (s_men != s_pers).any():
        i = int((s_men != s_pers).idxmax())
        c_men, c_pers = list(cols)[:2]
        raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonnes {c_men!r} et {c_pers!r} : ménages et "
                                f"personnes n'ont pas le même statut ({df.iloc[i][c_men]!r}, {df.iloc[i][c_pers]!r}).")
    out = pd.DataFrame({
        "millesime": annee,
        "code": df["CODGEO"].str.strip(),
        "nb_menages_fiscaux": roles["menages"][0],
        "nb_personnes_menages_fiscaux": roles["personnes"][0],
        "statut_effectifs": s_men,
        "niveau_vie_median": roles["mediane"][0],
        "statut_niveau_vie_median": roles["mediane"][1],
        "taux_pauvrete": roles["pauvrete"][0],
        "statut_taux_pauvrete": roles["pauvrete"][1],
    })
    if niveau is None:
        return strings(validate(out, FILOSOFI, fichier, row_offset=2))
    motif = NIVEAUX[niveau]
    faux = ~out["code"].str.match(motif)
    if faux.any():
        i = int(faux.idxmax())
        raise SourceFormatError(f"Fichier {fichier}, ligne {i + 2}, colonne 'CODGEO' : code {out['code'].iloc[i]!r} "
                                f"inattendu pour le niveau {niveau} (attendu : {motif}).")
    out.insert(0, "niveau", niveau)
    return strings(validate(out, FILOSOFI_TERRITOIRES, fichier, row_offset=2))


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `annee` = income year of Filosofi, `membre` = regex of the commune
    file inside the zip, `territoires` = level -> regex of that level's file (optional members)."""
    try:
        annee, membre = str(spec["annee"]), str(spec["membre"])
    except KeyError as exc:
        raise SourceFormatError(f"Registre des sources : clé {exc} manquante pour Filosofi.") from None
    territoires = dict(spec.get("territoires", {}))
    inconnus = sorted(set(territoires) - set(NIVEAUX))
    if inconnus:
        raise SourceFormatError(f"Registre des sources : niveau(x) Filosofi inconnu(s) {', '.join(inconnus)} "
                                f"(niveaux lus : {', '.join(NIVEAUX)}).")
    path = single_file(folder, "zip Filosofi")
    zf, member = zip_member(path, membre)
    with zf:
        data = zf.read(member)
        presents = [n.rsplit("/", 1)[-1] for n in zf.namelist()]
    out = {"stg_filosofi_commune": parse_csv(data, f"{path.name}/{member}", annee)}
    lus = []
    for niveau, motif in territoires.items():
        if not any(re.fullmatch(motif, n, flags=re.IGNORECASE) for n in presents):
            continue  # this level's file is not in the zip: its territories get no value
        zf, nom = zip_member(path, motif)
        with zf:
            try:
                lus.append(parse_csv(zf.read(nom), f"{path.name}/{nom}", annee, niveau))
            except SourceFormatError as exc:  # an optional level: its territories get no value, the communes stay
                log.warning("Filosofi : fichier du niveau %s non lu, ses territoires restent « non disponible » (%s)",
                            niveau, exc)
    out["stg_filosofi_territoire"] = pd.concat(lus, ignore_index=True) if lus else empty_frame(FILOSOFI_TERRITOIRES)
    return out


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_filosofi_commune": FILOSOFI, "stg_filosofi_territoire": FILOSOFI_TERRITOIRES}
