"""The history of a territory's runs: `reports/<slug>/historique/<date-heure>/` holds the `indicateurs.csv` and
`provenance.json` of every successful run, never rewritten.

The report folder is written in a temporary folder then swapped into place (pipeline.write_atomically): the
history is carried into the temporary folder by hard links (its files are never modified, only added), and the
new run's entry is added there, so that the swap brings the new report and its history entry at once. A run
that fails or is killed before the swap leaves the previous folder, history included, as it was.

An entry (or an earlier report folder, possibly produced elsewhere or by an older version of this tool) is read
through the `indicateurs.csv` contract; what does not follow it is refused with a French message naming the
file and the field.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..config import DiagnosticError

DOSSIER = "historique"
FICHIERS = ("indicateurs.csv", "provenance.json")
CONTRAT = ["territoire_type", "territoire_code", "territoire_nom", "indicateur", "libelle", "valeur", "unite",
           "numerateur", "denominateur", "millesime", "source", "statut"]
VERSION_CONTRAT = 1  # `contrat_indicateurs` in provenance.json: the 12 columns above
STATUTS = {"ok", "secret", "non_disponible", "estimation"}
NOM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(-\d+)?$")  # 2026-12-01T02-04-20


class HistoriqueError(DiagnosticError):
    """A history entry or an earlier report that cannot be read; the message names the file and the field."""


@dataclass
class Releve:
    """One earlier (or the current) run of a territory: its contract rows and what its provenance says."""

    chemin: Path
    indicateurs: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    horodatage: datetime | None = None  # when it was produced (entry name, else provenance)

    @property
    def date(self) -> str:
        """The production date, ISO (YYYY-MM-DD), or "" when unknown."""
        if self.horodatage is not None:
            return self.horodatage.date().isoformat()
        return str(self.provenance.get("produit_le") or "")

    @property
    def communes(self) -> list[str] | None:
        """The perimeter's commune codes, None when the run did not record them (older version)."""
        p = self.provenance.get("perimetre")
        return list(p["communes"]) if isinstance(p, dict) and isinstance(p.get("communes"), list) else None

    @property
    def definitions(self) -> dict[str, dict[str, str]] | None:
        d = self.provenance.get("definitions")
        return d if isinstance(d, dict) else None

    @property
    def sources(self) -> list[dict]:
        s = self.provenance.get("sources")
        return [x for x in s if isinstance(x, dict)] if isinstance(s, list) else []


def horodatage(moment: datetime | None = None) -> str:
    return (moment or datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")


def lire_horodatage(nom: str) -> datetime | None:
    try:
        return datetime.strptime(nom[:19], "%Y-%m-%dT%H-%M-%S")
    except ValueError:
        return None


def entrees(rapport: Path) -> list[Path]:
    """History entries of a report folder, oldest first (hidden or unrecognised names are skipped)."""
    d = Path(rapport) / DOSSIER
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if p.is_dir() and NOM.fullmatch(p.name)),
                  key=lambda p: (p.name[:19], int(p.name[20:] or 0) if len(p.name) > 19 else 0))


def empreinte(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lire_indicateurs(path: Path) -> pd.DataFrame:
    """An `indicateurs.csv` read through the contract: exactly its 12 columns, known statuses, numbers."""
    if not path.is_file():
        raise HistoriqueError(f"{path} : fichier absent (attendu : le tableau indicateurs.csv du rapport).")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HistoriqueError(f"{path} : fichier illisible ou tronqué ({exc}).") from exc
    cols = list(df.columns)
    if cols != CONTRAT:
        manquantes = [c for c in CONTRAT if c not in cols]
        en_trop = [c for c in cols if c not in CONTRAT]
        detail = []
        if manquantes:
            detail.append("colonne(s) absente(s) : " + ", ".join(manquantes))
        if en_trop:
            detail.append("colonne(s) inconnue(s) : " + ", ".join(en_trop))
        if not detail:
            detail.append("colonnes dans un autre ordre")
        raise HistoriqueError(f"{path} : n'est pas au contrat indicateurs.csv (12 colonnes, voir README) — "
                              + " ; ".join(detail) + ".")
    if not len(df):
        raise HistoriqueError(f"{path} : aucune ligne (fichier tronqué ?).")
    for k, row in enumerate(df.itertuples(index=False), start=2):
        if row.statut not in STATUTS:
            raise HistoriqueError(f"{path}, ligne {k}, colonne statut : valeur « {row.statut} » inconnue "
                                  f"(attendu : {', '.join(sorted(STATUTS))}).")
        for col in ("valeur", "numerateur", "denominateur"):
            v = getattr(row, col)
            if v != "":
                try:
                    float(v)
                except ValueError:
                    raise HistoriqueError(f"{path}, ligne {k}, colonne {col} : « {v} » n'est pas un nombre.") from None
    for col in ("valeur", "numerateur", "denominateur"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce").astype(float)
    dup = df.duplicated(["territoire_type", "territoire_code", "indicateur"])
    if dup.any():
        k = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise HistoriqueError(f"{path}, ligne {k}, colonne indicateur : « {df['indicateur'].iloc[k - 2]} » "
                              "figure deux fois pour le même territoire.")
    return df


def lire_provenance(path: Path, *, requise: bool) -> dict:
    if not path.is_file():
        if requise:
            raise HistoriqueError(f"{path} : fichier absent (une entrée d'historique contient indicateurs.csv et "
                                  "provenance.json).")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HistoriqueError(f"{path} : JSON illisible ou tronqué ({exc}).") from exc
    if not isinstance(data, dict):
        raise HistoriqueError(f"{path} : un objet JSON est attendu.")
    version = data.get("contrat_indicateurs")
    if version is not None and version != VERSION_CONTRAT:
        raise HistoriqueError(f"{path}, champ contrat_indicateurs : version {version} du contrat indicateurs.csv, "
                              f"cet outil lit la version {VERSION_CONTRAT}.")
    return data


def lire_releve(chemin: Path, *, historique: bool = True) -> Releve:
    """A history entry (`historique=True`: both files required, the CSV checked against the fingerprint the run
    recorded) or an earlier report folder (provenance.json optional: an older version may lack what this one
    adds)."""
    chemin = Path(chemin)
    if not chemin.is_dir():
        raise HistoriqueError(f"{chemin} : dossier introuvable.")
    prov = lire_provenance(chemin / "provenance.json", requise=historique)
    csv = chemin / "indicateurs.csv"
    attendue = prov.get("empreinte_indicateurs")
    if attendue is not None and csv.is_file() and empreinte(csv) != attendue:
        raise HistoriqueError(f"{csv} : modifié ou tronqué depuis son enregistrement (son empreinte SHA-256 ne "
                              f"correspond plus au champ empreinte_indicateurs de {chemin / 'provenance.json'}).")
    df = lire_indicateurs(csv)
    moment = lire_horodatage(chemin.name) if historique else None
    if moment is None and isinstance(prov.get("produit_a"), str):
        try:
            moment = datetime.fromisoformat(prov["produit_a"])
        except ValueError:
            moment = None
    return Releve(chemin, df, prov, moment)


def reporter(ancien: Path, nouveau: Path) -> None:
    """Carry the history of the report folder `ancien` into the folder being written `nouveau` (hard links: an
    entry is never modified, so sharing its files is safe; a copy where links are impossible)."""
    source = Path(ancien) / DOSSIER
    if not source.is_dir():
        return
    for entree in source.iterdir():
        if not entree.is_dir() or entree.name.startswith("."):
            continue
        cible = Path(nouveau) / DOSSIER / entree.name
        cible.mkdir(parents=True, exist_ok=True)
        for f in entree.iterdir():
            if f.is_file():
                if (cible / f.name).exists():
                    continue
                try:
                    os.link(f, cible / f.name)
                except OSError:
                    shutil.copy2(f, cible / f.name)


@contextlib.contextmanager
def verrou(dossier_verrous: Path, cible: Path):
    """Two runs of one territory take turns to carry the history and swap the report folder (a file lock kept
    outside the reports, in `dossier_verrous`), so that neither loses the other's history entry."""
    dossier_verrous.mkdir(parents=True, exist_ok=True)
    nom = hashlib.sha1(str(Path(cible).resolve()).encode()).hexdigest()[:16]
    with open(dossier_verrous / f"rapport-{nom}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ajouter(dossier: Path, moment: datetime | None = None) -> Path:
    """Add the run written in `dossier` (its indicateurs.csv and provenance.json) to `dossier/historique/`."""
    racine = Path(dossier) / DOSSIER
    racine.mkdir(parents=True, exist_ok=True)
    nom = horodatage(moment)
    k = 1
    while (racine / nom).exists():  # two runs in the same second
        k += 1
        nom = f"{horodatage(moment)}-{k}"
    tmp = racine / f".{nom}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for f in FICHIERS:
        shutil.copy2(Path(dossier) / f, tmp / f)
    os.replace(tmp, racine / nom)
    return racine / nom


def precedent(rapport: Path) -> tuple[Releve | None, list[str]]:
    """The latest readable entry of the history (the reference of a new run), with French warnings for the
    entries that could not be read (skipped, never deleted)."""
    avert = []
    for e in reversed(entrees(rapport)):
        try:
            return lire_releve(e), avert
        except HistoriqueError as exc:
            avert.append(f"Historique : entrée ignorée — {exc}")
    return None, avert


def choisir(rapport: Path, depuis: str | None) -> tuple[Releve, Releve]:
    """(reference, current) for `diagnostic evolution`: the current is the latest entry of the history; the
    reference is the entry before it, or, with `depuis`, a report folder, or the latest entry produced on or
    before that date (YYYY-MM-DD, or a full entry name)."""
    liste = entrees(rapport)
    if not liste:
        raise HistoriqueError(f"Aucun historique dans {Path(rapport) / DOSSIER} : lancez d'abord le diagnostic "
                              "(make diagnostic) ; chaque exécution y est conservée.")
    courant = lire_releve(liste[-1])
    if depuis is None:
        if len(liste) < 2:
            raise HistoriqueError(f"Une seule exécution dans {Path(rapport) / DOSSIER} : rien à comparer (relancez le "
                                  "diagnostic plus tard, ou indiquez --depuis <dossier d'un rapport antérieur>).")
        return lire_releve(liste[-2]), courant
    chemin = Path(depuis).expanduser()
    if chemin.is_dir():
        return lire_releve(chemin, historique=(chemin.parent.name == DOSSIER)), courant
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d-]+)?", depuis):
        raise HistoriqueError(f"--depuis « {depuis} » : ni un dossier existant, ni une date AAAA-MM-JJ.")
    candidats = [e for e in liste[:-1] if e.name[: len(depuis)] <= depuis]
    if not candidats:
        raise HistoriqueError(f"--depuis {depuis} : aucune exécution antérieure à cette date dans "
                              f"{Path(rapport) / DOSSIER} (la plus ancienne : {liste[0].name}).")
    return lire_releve(candidats[-1]), courant
