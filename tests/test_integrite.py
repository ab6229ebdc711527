"""The raw store checks itself (issue 17), on a workspace built from the mirror: a raw file that no longer
matches its manifest is reported by `status --verifier`, is never parsed, is healed from the mirror when it can
be, and never costs the warehouse its figures; without network a run gives up in seconds.

`copied_workspace` hard-links the session's raw files: every alteration below writes a new file and renames it
over the old one (`remplacer`), so the session's workspace is never touched. The unreachable mirror is a host
under the reserved `.invalid` top-level domain (RFC 2606): it never resolves, no real host is contacted."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from conftest import OPENDATA, run_cli

APL_URL = ("https://data.drees.solidarites-sante.gouv.fr/api/explore/v2.1/catalog/datasets/"
           "530_l-accessibilite-potentielle-localisee-apl/attachments/"
           "indicateur_d_accessibilite_potentielle_localisee_apl_aux_medecins_generalistes_xlsx")
APL_NAME = APL_URL.rsplit("/", 1)[-1]
APL_MIRROR = OPENDATA / APL_URL.removeprefix("https://")
INJOIGNABLE = "http://miroir.invalid"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def apl(ws: Path) -> Path:
    return ws / "data" / "raw" / "apl_mg" / "2023" / APL_NAME


def manifeste(ws: Path) -> dict:
    return json.loads((apl(ws).parent / "manifest.json").read_text(encoding="utf-8"))


def remplacer(path: Path, data: bytes) -> None:
    """Write `data` over `path` through a new file (breaks the hard link to the session's workspace)."""
    tmp = path.with_name(path.name + ".essai")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def entrepot(ws: Path) -> Path:
    return ws / "data" / "processed" / "diagnostic.duckdb"


def lignes_apl(ws: Path) -> int:
    with duckdb.connect(str(entrepot(ws)), read_only=True) as con:
        return con.sql("SELECT count(*) FROM stg_apl_mg").fetchone()[0]


def donnees_du_membre(data: bytes, membre: str) -> tuple[int, int]:
    """(offset, length) of the compressed data of one member of a zip archive (the local header read as
    the ZIP format defines it: 30 bytes, then the name and the extra field)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(membre)
    nom, extra = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + nom + extra, info.compress_size


def feuille(data: bytes, nom: str) -> str:
    """The zip member holding the sheet called `nom`, from the workbook's own description."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    rid = re.search(rf'<sheet name="{nom}" sheetId="\d+" r:id="(rId\d+)"', zf.read("xl/workbook.xml").decode()).group(1)
    cible = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"',
                      zf.read("xl/_rels/workbook.xml.rels").decode())
    return "xl/" + (cible.group(1) or cible.group(2)).lstrip("/").removeprefix("xl/")


def inverser(data: bytes, membre: str, n: int) -> bytes:
    """Flip `n` bytes in the middle of a member's compressed data."""
    debut, longueur = donnees_du_membre(data, membre)
    assert longueur > 2 * n
    out = bytearray(data)
    for i in range(debut + longueur // 2, debut + longueur // 2 + n):
        out[i] ^= 0xFF
    return bytes(out)


def autre_classeur_valide(data: bytes) -> bytes:
    """A valid workbook in the same layout, built by this test from the genuine one: its first 40 rows (title,
    metadata, header, units, first communes) of both APL sheets, values untouched, what a user who saved a
    filtered copy over the file would leave. The parser accepts it: only the hash tells it from the original."""
    src = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    wb = openpyxl.Workbook()
    for nom in ("APL 2022", "APL 2023"):
        ws = wb.create_sheet(nom)
        for row in src[nom].iter_rows(max_row=40, values_only=True):
            ws.append(list(row))
    del wb["Sheet"]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ALTERATIONS = {
    "octets d'une feuille non lue": lambda d: inverser(d, feuille(d, "Paramètres"), 100),
    "octets de la feuille lue": lambda d: inverser(d, feuille(d, "APL 2023"), 50),
    "fichier tronqué": lambda d: d[: len(d) // 2],
    "autre classeur valide": autre_classeur_valide,
}


def test_le_classeur_de_remplacement_passe_l_analyseur(tmp_path):
    """Premise of the « autre classeur valide » case: the parser alone would take the replaced workbook."""
    from diagnostic.sources import apl as parser

    dossier = tmp_path / "apl"
    dossier.mkdir()
    (dossier / APL_NAME).write_bytes(autre_classeur_valide(APL_MIRROR.read_bytes()))
    spec = {"sheets": ["APL 2022", "APL 2023"], "files": {"workbook": APL_URL}}
    lignes = parser.parse(dossier, spec)["stg_apl_mg"]
    assert 0 < len(lignes) < 100


@pytest.mark.parametrize("alteration", ALTERATIONS.values(), ids=ALTERATIONS.keys())
def test_fichier_altere(copied_workspace, mirror_url, alteration):
    ws = copied_workspace
    path, bon = apl(ws), APL_MIRROR.read_bytes()
    attendu = manifeste(ws)[APL_NAME]["sha256"]
    assert sha(path.read_bytes()) == attendu == sha(bon)
    altere = alteration(bon)
    trouve = sha(altere)
    assert trouve != attendu
    remplacer(path, altere)
    avant, lignes_avant = sha(entrepot(ws).read_bytes()), lignes_apl(ws)
    assert lignes_avant > 60000

    # plain status notices the change of size or mtime without hashing; --verifier hashes and names both hashes
    simple = run_cli(ws, "status")
    assert f"Attention : {path}" in simple.stdout
    verif = run_cli(ws, "status", "--verifier", check=False)
    assert verif.returncode == 1
    assert f"fichier altéré : {path}" in verif.stdout and attendu in verif.stdout and trouve in verif.stdout
    assert re.search(r"\d+ fichier\(s\) vérifié\(s\) : \d+ conforme\(s\), 1 altéré\(s\), 0 absent\(s\), 0 orphelin\(s\)",
                     verif.stdout)

    # it cannot be healed (mirror unreachable): --force does not rebuild, the warehouse keeps its figures
    refus = run_cli(ws, "build", "--force", mirror=INJOIGNABLE, check=False)
    assert refus.returncode == 2, refus.stderr
    erreur = refus.stderr
    assert "Reconstruction de l'entrepôt refusée" in erreur and "apl_mg" in erreur
    assert str(path) in erreur and f"sha256 attendu {attendu}, trouvé {trouve}" in erreur
    assert "--refresh" in erreur and "--accepter-perte" in erreur
    assert "Source indisponible" not in erreur and "Traceback" not in erreur
    assert sha(entrepot(ws).read_bytes()) == avant and lignes_apl(ws) == lignes_avant
    assert path.read_bytes() == altere  # kept for the user to inspect; not recorded as good
    assert manifeste(ws)[APL_NAME]["sha256"] == attendu

    # the next ingestion heals it from the mirror: the original bytes, checked against the manifest
    soin = run_cli(ws, "ingest", "apl_mg", mirror=mirror_url)
    assert "réparé" in soin.stderr and trouve in soin.stderr and attendu in soin.stderr
    assert path.read_bytes() == bon
    assert manifeste(ws)[APL_NAME]["sha256"] == attendu
    assert run_cli(ws, "status", "--verifier").returncode == 0
    assert f"Attention : {path}" not in run_cli(ws, "status").stdout


def test_reparation_dans_le_resume_et_la_provenance(copied_workspace, mirror_url):
    """A run that finds an altered file heals it, says so in its summary and in provenance.json, and does not
    rebuild: the bytes the warehouse was built from are back."""
    ws = copied_workspace
    path, bon = apl(ws), APL_MIRROR.read_bytes()
    altere = ALTERATIONS["octets de la feuille lue"](bon)
    remplacer(path, altere)
    avant = sha(entrepot(ws).read_bytes())
    proc = run_cli(ws, "run", "cpts-centre-saone-et-loire", "--sans-pdf", "--strict", mirror=mirror_url, check=False)
    assert "Intégrité (apl_mg)" in proc.stderr and "réparé" in proc.stderr
    assert path.read_bytes() == bon
    assert sha(entrepot(ws).read_bytes()) == avant
    prov = json.loads((ws / "reports" / "cpts-centre-saone-et-loire" / "provenance.json").read_text(encoding="utf-8"))
    [evenement] = prov["integrite"]
    assert evenement["source"] == "apl_mg" and evenement["constat"] == "altéré" and evenement["repare"] is True
    assert evenement["sha256_attendu"] == sha(bon) and evenement["sha256_trouve"] == sha(altere)
    assert evenement["fichier"] == f"data/raw/apl_mg/2023/{APL_NAME}"
    csv = (ws / "reports" / "cpts-centre-saone-et-loire" / "indicateurs.csv").read_text(encoding="utf-8")
    assert re.search(r"^perimetre,.*,apl_mg,.*,ok$", csv, re.M)


def test_perte_acceptee_explicitement_puis_reparation(copied_workspace, mirror_url):
    """Only --accepter-perte rebuilds without the altered source (« fichier altéré » named as the reason); once the
    file is healed, the next build puts the figures back although the manifest did not change."""
    ws = copied_workspace
    path, bon = apl(ws), APL_MIRROR.read_bytes()
    lignes_avant = lignes_apl(ws)
    remplacer(path, ALTERATIONS["fichier tronqué"](bon))
    proc = run_cli(ws, "build", "--force", "--accepter-perte", mirror=INJOIGNABLE)
    assert "Source indisponible (apl_mg)" in proc.stderr and "fichier altéré" in proc.stderr
    assert "--accepter-perte" in proc.stderr  # the warning says the figures were given up on request
    assert lignes_apl(ws) == 0
    strict = run_cli(ws, "run", "cpts-centre-saone-et-loire", "--sans-pdf", "--strict", mirror=INJOIGNABLE, check=False)
    assert strict.returncode == 1 and "réparation impossible" in strict.stderr
    run_cli(ws, "build", mirror=mirror_url)
    assert path.read_bytes() == bon and lignes_apl(ws) == lignes_avant


def test_entree_de_manifeste_supprimee(copied_workspace, mirror_url):
    """A file whose manifest entry is gone is an orphan: fetched again when the mirror has it; otherwise kept
    as found (recorded as such), and the figures stay."""
    ws = copied_workspace
    path = apl(ws)
    dossier = path.parent
    entree = manifeste(ws)[APL_NAME]

    def supprimer_entree():
        m = manifeste(ws)
        del m[APL_NAME]
        remplacer(dossier / "manifest.json", json.dumps(m).encode())

    supprimer_entree()
    verif = run_cli(ws, "status", "--verifier", check=False)
    assert verif.returncode == 1
    assert f"fichier orphelin : {path} n'a pas d'entrée au manifeste (sha256 {entree['sha256']})" in verif.stdout
    assert "0 altéré(s), 0 absent(s), 1 orphelin(s)" in verif.stdout

    soin = run_cli(ws, "ingest", "apl_mg", mirror=mirror_url)
    assert "téléchargé à nouveau" in soin.stderr
    rec = manifeste(ws)[APL_NAME]
    assert rec["sha256"] == entree["sha256"] and rec["url"] == APL_URL and rec["fetched_from"].startswith(mirror_url)
    assert run_cli(ws, "status", "--verifier").returncode == 0

    supprimer_entree()
    lignes_avant = lignes_apl(ws)
    garde = run_cli(ws, "build", mirror=INJOIGNABLE)
    assert "non vérifiable" in garde.stderr and entree["sha256"] in garde.stderr
    assert manifeste(ws)[APL_NAME]["fetched_from"] == "inconnu (fichier déjà présent)"
    assert lignes_apl(ws) == lignes_avant


def test_fichier_absent_n_efface_pas_les_chiffres(copied_workspace):
    """A recorded file deleted from the store, with nowhere to fetch it from: listed as missing, and the build
    keeps the warehouse (the file is not there to rebuild from)."""
    ws = copied_workspace
    path = apl(ws)
    path.unlink()
    verif = run_cli(ws, "status", "--verifier", check=False)
    assert verif.returncode == 1 and f"fichier absent : {path}" in verif.stdout
    assert f"Attention : {path} : absent du disque" in run_cli(ws, "status").stdout
    avant = sha(entrepot(ws).read_bytes())
    refus = run_cli(ws, "build", "--force", mirror=INJOIGNABLE, check=False)
    assert refus.returncode == 2 and "Reconstruction de l'entrepôt refusée" in refus.stderr
    assert f"apl_mg : millésime 2023 : fichiers bruts absents ou incomplets dans {path.parent}" in refus.stderr
    assert f"apl_mg, téléchargement : Échec du téléchargement de {APL_URL} : miroir injoignable" in refus.stderr
    assert sha(entrepot(ws).read_bytes()) == avant


def test_sans_reseau_ni_miroir_abandon_en_quelques_secondes(copied_workspace):
    """No network, no mirror: every host of the registry is made unresolvable (`.invalid`); the run gives up on
    the missing sources at once (one attempt each, no retry), instead of retrying each five times (~150 s)."""
    ws = copied_workspace
    registre = ws / "pipelines" / "sources.toml"
    texte, n = re.subn(r"(https?://[^/\"\s]+)/", r"\1.invalid/", registre.read_text(encoding="utf-8"))
    assert n > 20
    registre.write_text(texte, encoding="utf-8")
    debut = time.monotonic()
    proc = run_cli(ws, "run", "cpts-centre-saone-et-loire", "--sans-pdf", mirror="", check=False)
    duree = time.monotonic() - debut
    assert proc.returncode == 0, proc.stderr
    assert "nom d'hôte introuvable" in proc.stderr and "MIRROR" in proc.stderr
    assert "(1 tentative)" in proc.stderr and "tentatives" not in proc.stderr
    assert duree < 30, duree  # the report itself takes ~8 s here


def test_hote_introuvable_sans_nouvel_essai(tmp_path):
    """The download layer: a host name that does not resolve is not retried, and the next file of that host
    fails without asking the resolver again."""
    from diagnostic.fetch import FetchError, fetch

    debut = time.monotonic()
    for nom in ("a.json", "b.json"):
        with pytest.raises(FetchError) as ei:
            fetch(f"https://hote-absent.invalid/{nom}", tmp_path / nom, expect="json", mirror="", retries=4,
                  backoff=5, progress=False)
        assert "nom d'hôte introuvable" in str(ei.value) and "(1 tentative)" in str(ei.value)
    assert "déjà constaté" in str(ei.value)
    assert time.monotonic() - debut < 5
    assert not list(tmp_path.iterdir())


def test_alteration_qui_garde_taille_et_date(tmp_path):
    """The trade-off of the warm check, stated: an alteration that keeps size and mtime escapes the check by
    `stat` (a run that does not rebuild), never the full hash done before each file is parsed (a build)."""
    from diagnostic import integrite

    dossier = tmp_path / "raw" / "source" / "2026"
    dossier.mkdir(parents=True)
    donnees = b'{"a": 1}'
    fichier = dossier / "f.json"
    fichier.write_bytes(donnees)
    (dossier / "manifest.json").write_text(json.dumps({"f.json": {"bytes": len(donnees), "sha256": sha(donnees)}}))
    [constat] = integrite.verifier(dossier, ["f.json"], complet=True)
    assert constat.etat == integrite.OK
    st = fichier.stat()
    altere = b'{"a": 2}'
    fichier.write_bytes(altere)
    os.utime(fichier, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [c.etat for c in integrite.verifier(dossier, ["f.json"], complet=False)] == [integrite.OK]
    with pytest.raises(integrite.FichierAltere) as ei:
        integrite.verifier_avant_lecture(dossier, ["f.json"])
    assert f"sha256 attendu {sha(donnees)}, trouvé {sha(altere)}" in str(ei.value) and str(fichier) in str(ei.value)
    assert [c.etat for c in integrite.inventaire(tmp_path / "raw")] == [integrite.ALTERE]
