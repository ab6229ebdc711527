"""Checks of INSEE's zip bases whose member and columns the registry's vintage names (Filosofi, Dossier complet,
the death detail files): the member names from the zip's central directory, then the header row of each member the
parser reads, from its first compressed bytes, or the footer of a parquet member (Range reads, see
`distant.Archive`). The vintage is in the names: `cc_filosofi_2021_COM.csv` and `MED21` for Filosofi, `P21_POP` and
`DECESD23` for the Dossier complet; a later one is reported, not blocking."""

from __future__ import annotations

import re
import struct

from ..fetch import FetchError
from ..registry import Source
from ..sources import dossier_complet as dc
from ..sources import etatcivil_deces as ec
from ..sources import filosofi as fi
from . import distant
from .constats import Resultat

FILOSOFI_ANNEE = re.compile(r"cc_filosofi_(\d{4})_COM", re.IGNORECASE)
FILOSOFI_LONG = re.compile(r"DS_FILOSOFI_CC_data\.csv", re.IGNORECASE)


def _lisible(motif: str) -> str:
    return motif.replace("\\.", ".")


def _liste(valeurs, n: int = 12) -> str:
    valeurs = [str(v) for v in valeurs]
    return ", ".join(valeurs[:n]) + (f", … ({len(valeurs)} en tout)" if len(valeurs) > n else "")


def _membre(archive: distant.Archive, motif: str) -> str | None:
    noms = [n for n in archive.membres if re.fullmatch(motif, n.rsplit("/", 1)[-1], flags=re.IGNORECASE)]
    return noms[0] if noms else None


def _entete(res: Resultat, archive: distant.Archive, membre: str) -> list[str] | None:
    """The header row of `membre` (`;`), None when it lies beyond what was read (said in a note)."""
    debut = archive.debut(membre)
    if debut is None or b"\n" not in debut:
        res.notes.append(f"en-tête de {membre} hors de la partie lue")
        return None
    ligne = distant.texte(debut.split(b"\n", 1)[0]).lstrip("\ufeff").rstrip("\r")
    return [c.strip().strip('"').strip() for c in ligne.split(";")]


def _absent(res: Resultat, archive: distant.Archive, motif: str, bloquant: bool = True) -> None:
    if archive.complete:
        res.ajoute("champ_absent", f"fichier « {_lisible(motif)} » dans l'archive (contenu : {_liste(archive.membres)})",
                   bloquant=bloquant)
    else:
        res.notes.append(f"fichier « {_lisible(motif)} » non vu dans le début de l'archive (liste incomplète sans "
                         "requêtes partielles)")


def _colonnes(res: Resultat, colonnes: list[str], attendues: list[str], membre: str) -> None:
    presentes = set(colonnes)
    for c in attendues:
        if c not in presentes:
            res.ajoute("champ_absent", c, membre)
    res.notes.append(f"{membre} : {sum(c in presentes for c in attendues)}/{len(attendues)} colonnes attendues")


def filosofi(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """The commune member (`membre` of the vintage) and its columns (CODGEO, NBMENFISCyy…); the supra-communal
    members (`territoires`) and theirs. A missing supra-communal member does not block: its territories would only
    stay « non disponible »."""
    spec = source.vintage()
    annee, motif = str(spec["annee"]), str(spec["membre"])
    attendues = ["CODGEO", *fi.colonnes(annee)]
    for url in urls.values():
        archive = distant.Archive(url)
        if not archive.ranged:
            res.notes.append("serveur sans requêtes partielles : archive lue depuis son début")
        noms = [n.rsplit("/", 1)[-1] for n in archive.membres]
        autres = sorted({m.group(1) for n in noms if (m := FILOSOFI_ANNEE.match(n))} - {annee})
        if any(a > annee for a in autres):
            res.ajoute("nouveau_millesime", f"cc_filosofi_{max(autres)}_COM (registre : {annee})")
        membre = _membre(archive, motif)
        if membre is None:
            if any(FILOSOFI_LONG.fullmatch(n) for n in noms):
                res.ajoute("format_inattendu", "format long DS_FILOSOFI_CC_data.csv au lieu de "
                           f"« {_lisible(motif)} » (non lu par l'analyseur)")
            else:
                _absent(res, archive, motif)
            continue
        if (colonnes := _entete(res, archive, membre)) is not None:
            _colonnes(res, colonnes, attendues, membre)
        for niveau, motif_niveau in dict(spec.get("territoires", {})).items():
            membre_niveau = _membre(archive, str(motif_niveau))
            if membre_niveau is None:
                _absent(res, archive, str(motif_niveau), bloquant=False)
            elif (colonnes := _entete(res, archive, membre_niveau)) is not None:
                _colonnes(res, colonnes, attendues, membre_niveau)


DECES = re.compile(r"DECESD(\d{2})$")
RECENSEMENT = re.compile(r"P(\d{2})_POP$")


def dossier_complet(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """The member `dossier_complet.csv` and, in its header row (about 1 900 variables), the census variables of
    the registry's year and the deaths DECESDyy of its pooled years; a later census or death year is reported."""
    spec = source.vintage()
    annee, deces = str(spec["annee"]), [str(y) for y in spec["deces"]]
    attendues = ["CODGEO", *dc.variables(annee, deces).values(), *dc.variables_age_sexe(annee).values()]
    for url in urls.values():
        archive = distant.Archive(url)
        if not archive.ranged:
            res.notes.append("serveur sans requêtes partielles : archive lue depuis son début")
        membre = _membre(archive, dc.MEMBRE)
        if membre is None:
            _absent(res, archive, dc.MEMBRE)
            continue
        colonnes = _entete(res, archive, membre)
        if colonnes is None:
            continue
        _colonnes(res, colonnes, attendues, membre)
        recensements = sorted(m.group(1) for c in colonnes if (m := RECENSEMENT.match(c)))
        if recensements and recensements[-1] > annee[-2:]:
            res.ajoute("nouveau_millesime", f"recensement 20{recensements[-1]} (P{recensements[-1]}_POP ; registre : {annee})")
        morts = sorted(m.group(1) for c in colonnes if (m := DECES.match(c)))
        if morts and morts[-1] > deces[-1][-2:]:
            res.ajoute("nouveau_millesime", f"décès domiciliés 20{morts[-1]} (DECESD{morts[-1]} ; registre : "
                       f"{deces[0]}-{deces[-1]})")


PARQUET = b"PAR1"  # the magic number at both ends of a parquet file
PIED = 16_384  # bytes read first at the end of a parquet member: its footer (schema), mostly; more if it says so


def _colonnes_parquet(archive: distant.Archive, membre: str) -> list[str] | None:
    """The column names of a parquet member, from its footer (schema); None when the footer is out of reach."""
    queue = archive.fin(membre, PIED)
    if queue is None:
        return None
    if len(queue) < 12 or not queue.endswith(PARQUET):
        raise distant.FormatInattendu(f"{membre} n'est pas un fichier parquet (signature PAR1 absente à la fin)")
    (n,) = struct.unpack("<I", queue[-8:-4])
    if n > distant.FIN_MAX:
        raise distant.FormatInattendu(f"pied du fichier parquet {membre} de {n} octets annoncés (illisible)")
    if n + 8 > len(queue):
        queue = archive.fin(membre, n + 8) or b""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(pa.BufferReader(PARQUET + queue[-8 - n:])).names
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise distant.FormatInattendu(f"pied du fichier parquet {membre} illisible ({exc})") from None


def _deces_annee(res: Resultat, annee: str, url: str, fichier: str) -> None:
    archive = distant.Archive(url)
    if not archive.ranged:
        res.notes.append("serveur sans requêtes partielles : archive lue depuis son début")
    trouves = [n for n in archive.membres
               if re.fullmatch(ec.motif_membre(annee), n.rsplit("/", 1)[-1], flags=re.IGNORECASE)]
    if len(trouves) > 1:
        res.ajoute("format_inattendu", f"{len(trouves)} fichiers de données de {annee} dans l'archive "
                   f"({_liste(trouves)}) : l'analyseur en attend un seul", fichier)
        return
    if not trouves:
        quoi = f"fichier des décès de {annee} (.csv ou .parquet, hors varmod)"
        if archive.complete:
            res.ajoute("champ_absent", f"{quoi} dans l'archive (contenu : {_liste(archive.membres)})", fichier)
        else:
            res.notes.append(f"{quoi} non vu dans le début de l'archive (liste incomplète sans requêtes partielles)")
        return
    membre = trouves[0]
    if membre.lower().endswith(".parquet"):
        colonnes = _colonnes_parquet(archive, membre)
        if colonnes is None:
            res.notes.append(f"colonnes de {membre} non lues (pied du parquet hors de la partie lisible)")
            return
    elif (colonnes := _entete(res, archive, membre)) is None:
        return
    presentes = {c.strip().upper() for c in colonnes}  # as the parser selects them
    for c in ec.COLONNES:
        if c not in presentes:
            res.ajoute("champ_absent", c, f"{fichier}, {membre}")
    res.notes.append(f"{annee} : {membre}, {sum(c in presentes for c in ec.COLONNES)}/{len(ec.COLONNES)} "
                     "colonnes attendues")


def deces(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """INSEE's death detail files, one zip a year (`etatcivil_deces`, the registry's `files` keyed by year): the one
    member the parser reads (`motif_membre`: FD_DEC_<YYYY>.csv, or a parquet) and its columns (`COLONNES`), from the
    CSV's header row or the parquet's footer. Each difference names the year, the URL and the member. The parser
    pools the years: one year's file that cannot be had loses every year, which the line says."""
    spec = source.vintage()
    annees = [str(a) for a in spec["annees"]]
    annee_de = {url: str(annee) for annee, url in dict(spec["files"]).items()}
    perte = (f"sans ce fichier, aucun décès {annees[0]}-{annees[-1]} n'est lu : indices comparatifs de mortalité "
             "non disponibles")
    for url in urls.values():
        annee = annee_de[url]
        fichier = f"décès {annee} : {url}"
        try:
            _deces_annee(res, annee, url, fichier)
        except (distant.UrlMorte, FetchError, distant.FormatInattendu) as exc:
            res.erreur(exc, fichier, perte)
