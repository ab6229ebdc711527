"""Parser of the CépiDc (Inserm) open-data portal answers: deaths by cause and département of residence.

Format as third-party code that queries the portal's API shows it (registry evidence of `cepidc_causes`):
- `mortalityQuery` (`https://opendata-cepidc.inserm.fr/bcmd/r/mortalityQuery?measures=raw_number_of_death&…
  &geo_class=depdom&code[]=1.&…&code[]=18.`): a JSON list of records, one per département × age class × cause
  chapter (for the one sex asked), with `depdom` (the département's *label*), `cl_age10` (ten-year age class),
  `cause_of_death` (« 7. Maladies de l'appareil circulatoire »: the chapter's number, a dot, its label) and
  `sum_dc` (number of deaths). The 18 chapters of the European shortlist add up to all causes.
- `codes_geo` (`…/codes_geo?scale=depdom`): a JSON object whose values are `{"label", "code"}`, the département
  labels of `depdom` and their codes.

Deaths are counts: summed over age classes here, and over départements by the models (never a rate summed).
The registry's vintage names the chapters read as cause groups (`groupes`: group -> chapter number and a
pattern its label must match): a chapter missing, or whose label does not match, is an error naming what the
file holds.

Grain: `stg_cepidc_deces_cause` one row per (millesime, departement, chapitre).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import SourceFormatError, exiger_selection, validate
from .lecture import strings

CHAMPS = ("depdom", "cl_age10", "cause_of_death", "sum_dc")
# An age class that is an aggregate (« Tous âges », « Total », « Ensemble »): with the classes also present, its deaths
# would be counted twice. Third-party code keeps the ten-year classes only (< 1, 1-4, 5-14, …, 95 et plus).
CLASSE_AGREGAT = re.compile(r"(?i)\b(tous|total|ensemble)\b")
CHAPITRE = re.compile(r"^\s*(\d{1,2})\.\s+(.+?)\s*$")
DEPARTEMENT = r"^(\d{2}|2[AB]|97\d)$"

DECES_CAUSE = pa.DataFrameSchema(
    {
        "millesime": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "departement": pa.Column(str, pa.Check.str_matches(DEPARTEMENT)),
        "chapitre": pa.Column(int, pa.Check.in_range(1, 99)),
        "libelle": pa.Column(str),
        "groupe": pa.Column(str, nullable=True),
        "deces": pa.Column(float, pa.Check.ge(0)),
    },
    unique=["millesime", "departement", "chapitre"],
    strict=True,
    name="cepidc_deces_cause",
)


def _json(path: Path):
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"Fichier {path.name} : JSON illisible ({exc}).") from None


def codes_departements(path: Path) -> dict[str, str]:
    """codes_geo: département label -> code."""
    data = _json(path)
    if not isinstance(data, dict):
        raise SourceFormatError(f"Fichier {path.name} : un objet JSON (libellé et code de chaque département) "
                                f"attendu, trouvé {type(data).__name__}.")
    out = {}
    for cle, v in data.items():
        if not isinstance(v, dict) or not {"label", "code"} <= set(v):
            raise SourceFormatError(f"Fichier {path.name}, entrée {cle!r} : champs « label » et « code » attendus "
                                    f"(trouvé : {v!r}).")
        out[str(v["label"]).strip()] = str(v["code"]).strip()
    return out


def parse_deces(path: Path, codes: dict[str, str], annee: str, groupes: dict[str, dict]) -> pd.DataFrame:
    data = _json(path)
    if not isinstance(data, list):
        raise SourceFormatError(f"Fichier {path.name} : une liste JSON d'enregistrements attendue, trouvé "
                                f"{type(data).__name__}.")
    lignes = []
    for i, r in enumerate(data, start=1):
        manque = [c for c in CHAMPS if not isinstance(r, dict) or c not in r]
        if manque:
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i} : champ(s) {', '.join(manque)} absent(s).")
        libelle_dep = str(r["depdom"]).strip()
        if libelle_dep not in codes:
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i}, champ 'depdom' : département "
                                    f"« {libelle_dep} » absent de la liste des départements du portail (codes_geo).")
        m = CHAPITRE.match(str(r["cause_of_death"]))
        if m is None:
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i}, champ 'cause_of_death' : "
                                    f"{r['cause_of_death']!r} n'est pas un chapitre « N. libellé ».")
        try:
            deces = float(r["sum_dc"])
        except (TypeError, ValueError):
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i}, champ 'sum_dc' : nombre de décès "
                                    f"illisible {r['sum_dc']!r}.") from None
        if deces < 0 or deces % 1:
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i}, champ 'sum_dc' : nombre de décès "
                                    f"{r['sum_dc']!r} (entier positif attendu).")
        classe = str(r["cl_age10"]).strip()
        if not classe or CLASSE_AGREGAT.search(classe):
            raise SourceFormatError(f"Fichier {path.name}, enregistrement {i}, champ 'cl_age10' : classe d'âge "
                                    f"{r['cl_age10']!r} ; une classe décennale attendue (un total d'âges compterait "
                                    "les décès deux fois).")
        lignes.append((codes[libelle_dep], classe, int(m.group(1)), m.group(2), deces, i))
    sexes = sorted({str(r["sexe"]) for r in data if "sexe" in r})
    if len(sexes) > 1:  # one sex is asked (sex[]=12): several would be counted twice
        raise SourceFormatError(f"Fichier {path.name}, champ 'sexe' : plusieurs valeurs ({', '.join(sexes)}) ; "
                                "une seule attendue (les deux sexes ensemble), les décès seraient comptés deux fois.")
    df = pd.DataFrame(lignes, columns=["departement", "classe", "chapitre", "libelle", "deces", "enregistrement"])
    exiger_selection(len(df), path.name, "aucun enregistrement de décès", [], "enregistrements")
    doublons = df[df.duplicated(["departement", "classe", "chapitre"], keep="first")]
    if len(doublons):  # the same cell twice: its deaths would be counted twice
        d = doublons.iloc[0]
        raise SourceFormatError(f"Fichier {path.name}, enregistrement {d['enregistrement']} : département {d['departement']}, "
                                f"classe d'âge {d['classe']!r}, chapitre {d['chapitre']} déjà lus dans un enregistrement "
                                "précédent (les décès seraient comptés deux fois).")
    libelles = df.groupby("chapitre")["libelle"].agg(lambda s: sorted(set(s)))
    double = libelles[libelles.map(len) > 1]
    if len(double):
        raise SourceFormatError(f"Fichier {path.name} : le chapitre {double.index[0]} porte plusieurs libellés "
                                f"({' ; '.join(double.iloc[0])}).")
    presents = [f"{c}. {l[0]}" for c, l in libelles.items()]
    groupe_de = {}
    for groupe, regle in groupes.items():
        chapitre, motif = int(regle["chapitre"]), str(regle["libelle"])
        trouve = chapitre in libelles.index and re.search(motif, libelles[chapitre][0]) is not None
        exiger_selection(trouve, path.name, f"aucun chapitre {chapitre} dont le libellé correspond à « {motif} » "
                         f"(groupe {groupe})", presents, "chapitres présents")
        groupe_de[chapitre] = groupe
    out = (df.groupby(["departement", "chapitre", "libelle"], as_index=False)["deces"].sum()
             .assign(millesime=annee))
    out["groupe"] = out["chapitre"].map(groupe_de).astype(object)
    out = out[["millesime", "departement", "chapitre", "libelle", "groupe", "deces"]]
    return strings(validate(out, DECES_CAUSE, path.name))


def parse(folder: Path, spec: dict) -> dict[str, pd.DataFrame]:
    """spec: the registry's vintage table; `annee` = year of death, `groupes` = group -> {chapitre, libelle}."""
    try:
        annee, groupes = str(spec["annee"]), dict(spec["groupes"])
    except KeyError as exc:
        raise SourceFormatError(f"Registre des sources : clé {exc} manquante pour le CépiDc.") from None
    for nom in ("mortalityQuery", "codes_geo"):
        if not (folder / nom).is_file():
            raise SourceFormatError(f"Dossier {folder} : fichier {nom} du portail du CépiDc absent.")
    codes = codes_departements(folder / "codes_geo")
    return {"stg_cepidc_deces_cause": parse_deces(folder / "mortalityQuery", codes, annee, groupes)}


def tables(spec: dict | None = None) -> dict:
    """The staging tables a parse gives and their schemas (a missing source's are created empty from them)."""
    return {"stg_cepidc_deces_cause": DECES_CAUSE}
