"""Integrity of the raw store (`data/raw/<source>/<vintage>/`, each folder with its `manifest.json`).

- Before a file is parsed it is checked against its manifest record: size first (free), then sha256. A file
  that does not match is « altéré », never « indisponible ».
- An altered file is fetched again (the source, or the mirror) into the temporary area, and replaces the
  altered one only if its sha256 equals the manifest's: the bytes the warehouse was built from come back.
- A build that would leave a source the current warehouse holds with nothing keeps the warehouse as it is
  (`garder_les_chiffres`), unless the user explicitly accepts the loss.
- `inventaire` checks the whole store (`diagnostic status --verifier`): altered, missing and orphan files.

Cost, measured on the store of a mirror run (107 files, 66 MB, files in the page cache): hashing all of it
takes about 50 ms on an idle machine (1.4 GB/s), 170 ms with the two cores shared by ten processes; the warm
check (a `stat` per file against the last verification) 15 to 30 ms. A build and `status --verifier` hash
every file; a run that does not rebuild hashes only the files whose size or mtime differ from what the last
successful verification recorded (`.verification.json` in each folder, replaced atomically, never edited).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import DiagnosticError
from .fetch import MANIFEST_NAME, FetchError, _sha256_file, fetch, mirror_location, read_manifest
from .sources import SourceFormatError

log = logging.getLogger(__name__)

VERIFICATION_NAME = ".verification.json"  # file name -> {bytes, mtime_ns, sha256} of its last good check
CONSEIL = ("relancez avec --refresh pour le télécharger à nouveau (réseau, ou MIRROR=<miroir>), "
           "ou restaurez le fichier d'origine depuis une sauvegarde")

OK, ALTERE, ABSENT, ORPHELIN = "ok", "altéré", "absent", "orphelin"


@dataclass(frozen=True)
class Constat:
    """The state of one file of the store against its manifest record."""

    chemin: Path
    etat: str  # OK, ALTERE, ABSENT (recorded, not on disk), ORPHELIN (on disk, not recorded)
    sha256_attendu: str | None = None
    sha256_trouve: str | None = None
    octets_attendus: int | None = None
    octets_trouves: int | None = None

    def texte(self) -> str:
        """French description naming the file and both hashes."""
        if self.etat == ALTERE:
            taille = ("" if self.octets_attendus == self.octets_trouves else
                      f" ; taille attendue {self.octets_attendus} octets, trouvée {self.octets_trouves}")
            return (f"fichier altéré : {self.chemin} ne correspond plus à son manifeste "
                    f"(sha256 attendu {self.sha256_attendu}, trouvé {self.sha256_trouve}{taille})")
        if self.etat == ABSENT:
            return f"fichier absent : {self.chemin} figure au manifeste (sha256 {self.sha256_attendu}) mais n'est plus sur le disque"
        if self.etat == ORPHELIN:
            return f"fichier orphelin : {self.chemin} n'a pas d'entrée au manifeste (sha256 {self.sha256_trouve})"
        return f"{self.chemin} : conforme au manifeste (sha256 {self.sha256_attendu})"


class FichierAltere(SourceFormatError):
    """A raw file that no longer matches its manifest: it is not parsed."""

    def __init__(self, constats: list[Constat]):
        self.constats = constats
        super().__init__(" ; ".join(c.texte() for c in constats) + f". Que faire : {CONSEIL}.")


# --------------------------------------------------------------------------- one file


def _record_ok(rec) -> bool:
    return isinstance(rec, dict) and isinstance(rec.get("sha256"), str) and "bytes" in rec


def _lire_verifications(folder: Path) -> dict:
    try:
        data = json.loads((folder / VERIFICATION_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _noter_verifications(folder: Path, faites: dict[str, dict | None]) -> None:
    """Record (or, for None, forget) the last good check of some files; a lost update only costs a hash."""
    if not faites:
        return
    data = _lire_verifications(folder)
    for name, rec in faites.items():
        if rec is None:
            data.pop(name, None)
        else:
            data[name] = rec
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{VERIFICATION_NAME}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True, indent=1)
        os.replace(tmp, folder / VERIFICATION_NAME)
    except OSError as exc:  # a read-only store still gets verified, only not remembered
        log.debug("Vérifications non enregistrées dans %s : %s", folder, exc)
        if tmp:
            Path(tmp).unlink(missing_ok=True)


def _constat(path: Path, rec: dict, deja: dict | None, complet: bool) -> tuple[Constat, dict | None]:
    """Check one recorded file; return the finding and the verification record to keep (None: forget)."""
    attendu, octets = rec["sha256"], int(rec["bytes"])
    try:
        st = path.stat()
    except FileNotFoundError:
        return Constat(path, ABSENT, attendu, None, octets, None), None
    if (not complet and isinstance(deja, dict) and deja.get("sha256") == attendu
            and deja.get("bytes") == st.st_size == octets and deja.get("mtime_ns") == st.st_mtime_ns):
        return Constat(path, OK, attendu, attendu, octets, octets), deja
    taille, trouve = _sha256_file(path)  # a different size is already an alteration; the hash names it
    if taille == octets and trouve == attendu:
        return Constat(path, OK, attendu, trouve, octets, taille), {"bytes": taille, "mtime_ns": st.st_mtime_ns, "sha256": trouve}
    return Constat(path, ALTERE, attendu, trouve, octets, taille), None


def verifier(folder: Path, names, *, complet: bool) -> list[Constat]:
    """Check the recorded files `names` of one folder (`complet`: hash every one; otherwise only those whose
    size or mtime differ from their last good check). Files without a record are not checked here."""
    folder = Path(folder)
    manifest, deja = read_manifest(folder), _lire_verifications(folder)
    out, faites = [], {}
    for name in names:
        rec = manifest.get(name)
        if not _record_ok(rec):
            continue
        constat, garder = _constat(folder / name, rec, deja.get(name), complet)
        out.append(constat)
        if garder != deja.get(name):
            faites[name] = garder
    _noter_verifications(folder, faites)
    return out


def verifier_avant_lecture(folder: Path, names) -> None:
    """Every file about to be parsed matches its manifest, hashed in full; raise FichierAltere otherwise."""
    mauvais = [c for c in verifier(folder, names, complet=True) if c.etat != OK]
    if mauvais:
        raise FichierAltere(mauvais)


# --------------------------------------------------------------------------- healing


def _horodatage(retrieved_at: str) -> float | None:
    try:
        return datetime.strptime(retrieved_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def _maintenant() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evenement(source_id: str, vintage: str, constat: Constat, repare: bool, depuis: str, cause: str | None,
               root: Path | None) -> dict:
    chemin = str(constat.chemin.relative_to(root)) if root and constat.chemin.is_relative_to(root) else str(constat.chemin)
    if constat.etat == ORPHELIN:
        quoi = f"fichier sans entrée au manifeste : {chemin} (sha256 {constat.sha256_trouve})"
        suite = (f"téléchargé à nouveau depuis {depuis} et enregistré au manifeste" if repare else
                 f"nouveau téléchargement impossible ({cause}) ; le fichier est gardé tel quel, non vérifiable")
    else:
        quoi = constat.texte()
        suite = (f"réparé : le fichier d'origine a été récupéré depuis {depuis} (sha256 vérifié)" if repare else
                 f"réparation impossible ({cause}) ; l'entrepôt actuel, construit avec le fichier d'origine, est "
                 f"conservé ; {CONSEIL}")
    return {
        "source": source_id, "millesime": vintage, "fichier": chemin, "constat": constat.etat,
        "sha256_attendu": constat.sha256_attendu, "sha256_trouve": constat.sha256_trouve,
        "octets_attendus": constat.octets_attendus, "octets_trouves": constat.octets_trouves,
        "repare": repare, "depuis": depuis, "cause": cause, "le": _maintenant(),
        "message": f"{quoi[0].upper()}{quoi[1:]} ; {suite}.",
    }


def _sha_egal(attendu: str):
    def check(path: Path) -> None:
        _, trouve = _sha256_file(path)
        if trouve != attendu:
            raise SourceFormatError(f"le fichier obtenu n'est pas celui du manifeste (sha256 {trouve} au lieu de "
                                    f"{attendu}) : le fichier publié a peut-être changé")
    return check


def reparer(constat: Constat, rec: dict, *, expect: str, tmp: Path, reprises: dict) -> None:
    """Fetch the file of `rec` again (source or mirror) into `tmp`; it replaces the altered file only if its
    sha256 equals the manifest's. The manifest is left as it is (same bytes, same record). Raise FetchError."""
    tmp.mkdir(parents=True, exist_ok=True)
    zone = Path(tempfile.mkdtemp(dir=tmp, prefix=f"reparation.{os.getpid()}."))
    try:
        got = fetch(rec["url"], zone / constat.chemin.name, expect=expect, refresh=True, progress=False,
                    check=_sha_egal(rec["sha256"]), tmp_dir=zone, **reprises)
        quand = _horodatage(rec.get("retrieved_at"))
        if quand is not None:
            os.utime(got.path, (quand, quand))
        os.replace(got.path, constat.chemin)
    finally:
        shutil.rmtree(zone, ignore_errors=True)
    verifier(constat.chemin.parent, [constat.chemin.name], complet=True)  # records the good check


def controler_avant_ingestion(folder: Path, urls: dict[str, str], *, source_id: str, vintage: str, expect: str,
                              tmp: Path, reprises: dict, check_for=None, root: Path | None = None) -> list[dict]:
    """Check the files of one vintage already on disk and heal what can be healed; return the events (French
    `message` in each). A recorded file that does not match is fetched again and must match its manifest's
    sha256; a file with no record is fetched again (checked by the parser's check, `check_for(name)`), and kept
    as it is if that fails (the download layer then records it as found)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    events = []
    for constat in verifier(folder, [n for n in urls if (folder / n).is_file()], complet=False):
        if constat.etat != ALTERE:
            continue
        rec = manifest[constat.chemin.name]
        depuis = _origine(rec["url"])
        try:
            reparer(constat, rec, expect=expect, tmp=tmp, reprises=reprises)
            events.append(_evenement(source_id, vintage, constat, True, depuis, None, root))
        except FetchError as exc:
            events.append(_evenement(source_id, vintage, constat, False, depuis, exc.cause, root))
    for name, url in urls.items():
        path = folder / name
        if name in manifest or not path.is_file():
            continue
        _, trouve = _sha256_file(path)
        constat = Constat(path, ORPHELIN, None, trouve, None, path.stat().st_size)
        depuis = _origine(url)
        try:
            fetch(url, path, expect=expect, refresh=True, progress=False, check=check_for(name) if check_for else None,
                  tmp_dir=tmp, **reprises)
            events.append(_evenement(source_id, vintage, constat, True, depuis, None, root))
        except FetchError as exc:
            events.append(_evenement(source_id, vintage, constat, False, depuis, exc.cause, root))
    for e in events:  # the caller shows them (run summary, `diagnostic ingest`)
        log.debug("Intégrité (%s) : %s", source_id, e["message"])
    return events


def _origine(url: str) -> str:
    try:
        return mirror_location(url, os.environ.get("DIAGNOSTIC_MIRROR") or None)
    except ValueError:
        return url


# --------------------------------------------------------------------------- the warehouse's figures


def sources_detenues(warehouse: Path) -> set[str]:
    """Sources whose figures the warehouse at `warehouse` holds (every source of its build but those it
    recorded as unavailable); empty when there is no readable warehouse."""
    import duckdb

    if not Path(warehouse).exists():
        return set()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            sources = {s for (s,) in con.sql("SELECT source FROM meta_source WHERE cle = source").fetchall()}
            meta = dict(con.sql("SELECT cle, valeur FROM meta_build").fetchall())
    except duckdb.Error:
        return set()
    try:
        absentes = set(json.loads(meta.get("indisponibles") or "{}"))
    except ValueError:
        absentes = set()
    return sources - absentes


class PerteRefusee(DiagnosticError):
    """A rebuild that would lose figures the current warehouse holds (`sources`: their ids)."""

    def __init__(self, message: str, sources: list[str] = ()):
        super().__init__(message)
        self.sources = list(sources)

    def avec_telechargements(self, echecs: dict[str, str]) -> "PerteRefusee":
        """The same refusal, with why the lost sources' files could not be fetched again (`echecs`: source id ->
        the download failure of this run), when the build alone only saw their files missing."""
        lignes = [f"- {sid}, téléchargement : {echecs[sid]}" for sid in self.sources if sid in echecs]
        if not lignes:
            return self
        return PerteRefusee(str(self) + "\n" + "\n".join(lignes), self.sources)


def garder_les_chiffres(warehouse: Path, indisponibles: dict[str, str], *, accepter_perte: bool) -> list[str]:
    """Refuse (PerteRefusee) a build whose unavailable sources include some the current warehouse holds,
    unless `accepter_perte`; return the sources lost (for a warning when accepted)."""
    perdues = sorted(set(indisponibles) & sources_detenues(warehouse)) if indisponibles else []
    if perdues and not accepter_perte:
        detail = "\n".join(f"- {sid} : {indisponibles[sid]}" for sid in perdues)
        conseil = "" if all("Que faire" in indisponibles[sid] for sid in perdues) else (
            "Que faire : relancez avec --refresh pour télécharger à nouveau les fichiers (réseau, ou "
            "MIRROR=<miroir>), ou restaurez-les depuis une sauvegarde. ")
        raise PerteRefusee(
            f"Reconstruction de l'entrepôt refusée : elle perdrait les chiffres de {', '.join(perdues)}, que "
            f"l'entrepôt actuel contient. L'entrepôt {warehouse} est conservé tel quel.\n{detail}\n{conseil}"
            "Pour reconstruire quand même sans ces chiffres : --accepter-perte (l'option --force ne suffit pas).",
            perdues,
        )
    return perdues


def refuser_avant_lecture(warehouse: Path, candidats: dict[str, list[tuple[Path, list[str]]]], *,
                          accepter_perte: bool) -> None:
    """Before any file is parsed (hashing is cheap, parsing is not): a source whose every complete candidate
    vintage (`candidats`: source id -> [(folder, file names)]) holds an altered file would be lost; refuse the
    build now if the current warehouse holds it (`garder_les_chiffres`). Unreadable files are caught after, and
    so is an alteration that kept size and mtime: each file is hashed in full just before it is parsed."""
    if accepter_perte:
        return
    perdues = {}
    for sid, dossiers in candidats.items():
        raisons = []
        for folder, names in dossiers:
            mauvais = [c for c in verifier(folder, names, complet=False) if c.etat != OK]
            if not mauvais:
                break
            raisons.append(f"millésime {Path(folder).name} : {FichierAltere(mauvais)}")
        else:
            if raisons:
                perdues[sid] = " ; ".join(raisons)
    garder_les_chiffres(warehouse, perdues, accepter_perte=False)


def reconstruire_apres_reparation(warehouse: Path, dossiers: dict[str, list[tuple[Path, list[str]]]]) -> bool:
    """True when the warehouse lacks a source because its file was altered (a build with --accepter-perte)
    and that source's files now match their manifest (healed, or restored by hand): its inputs look unchanged
    (same manifest), yet it must be built again. `dossiers`: source id -> [(folder, file names)]."""
    from .warehouse import stored_build

    try:
        indisponibles = json.loads(stored_build(warehouse).get("indisponibles") or "{}")
    except ValueError:
        return False
    for sid, raison in indisponibles.items():
        if "fichier altéré : " not in raison:
            continue
        for folder, names in dossiers.get(sid, []):
            constats = verifier(folder, names, complet=False)
            if len(constats) == len(names) and all(c.etat == OK for c in constats):
                return True
    return False


# --------------------------------------------------------------------------- the whole store


def _dossiers(raw: Path):
    """Every vintage folder of the store: data/raw/<source>/<vintage>/ holding a manifest or files."""
    if not raw.is_dir():
        return
    for source in sorted(p for p in raw.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
            yield source.name, folder


def _fichiers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith("."))


def inventaire(raw: Path) -> list[Constat]:
    """Hash every file of the store against its manifest: one finding per recorded file (ok, altered,
    missing) and per file on disk with no record (orphan)."""
    out = []
    for _, folder in _dossiers(Path(raw)):
        manifest = read_manifest(folder)
        out += verifier(folder, sorted(manifest), complet=True)
        for name in _fichiers(folder):
            if not _record_ok(manifest.get(name)):
                taille, trouve = _sha256_file(folder / name)
                out.append(Constat(folder / name, ORPHELIN, None, trouve, None, taille))
    return out


def ecarts_rapides(raw: Path) -> list[str]:
    """Without hashing: the recorded files whose size or modification time differ from their manifest (and from
    their last good check), and the recorded files missing; French lines for plain `diagnostic status`."""
    out = []
    for _, folder in _dossiers(Path(raw)):
        manifest, deja = read_manifest(folder), _lire_verifications(folder)
        for name, rec in sorted(manifest.items()):
            if not _record_ok(rec):
                continue
            path = folder / name
            try:
                st = path.stat()
            except FileNotFoundError:
                out.append(f"{path} : absent du disque (au manifeste : {rec['bytes']} octets)")
                continue
            v = deja.get(name) or {}
            if st.st_size != int(rec["bytes"]):
                out.append(f"{path} : taille {st.st_size} octets, le manifeste en indique {rec['bytes']}")
            elif int(st.st_mtime) != _horodatage(rec.get("retrieved_at")) and v.get("mtime_ns") != st.st_mtime_ns:
                modifie = datetime.fromtimestamp(st.st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                out.append(f"{path} : modifié le {modifie}, récupéré le {rec.get('retrieved_at')} selon le manifeste")
    return out


def rapport(constats: list[Constat]) -> list[str]:
    """French lines for `status --verifier`: one per problem, then a count."""
    mauvais = [c for c in constats if c.etat != OK]
    lignes = [c.texte() for c in mauvais]
    compte = {e: sum(c.etat == e for c in constats) for e in (OK, ALTERE, ABSENT, ORPHELIN)}
    lignes.append(f"{len(constats)} fichier(s) vérifié(s) : {compte[OK]} conforme(s), {compte[ALTERE]} altéré(s), "
                  f"{compte[ABSENT]} absent(s), {compte[ORPHELIN]} orphelin(s).")
    return lignes
