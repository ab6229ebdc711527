"""`diagnostic verifier` on INSEE's zip bases Filosofi and Dossier complet: the zip's central directory (member
names) and the header row of each member read, through Range requests on the loopback server of test_verifier.
One case per kind of difference: conforme, member missing (blocking for the commune file, not for a
supra-communal one), column missing, another format, newer vintage, server without Range.

Inputs: the genuine Filosofi commune file (realdata, bytes untouched) and the hand-made supra-communal files of
tests/fixtures/filosofi (header copied from the genuine file); the hand-made Dossier complet fixture
(tests/fixtures/dossier_complet, variable names from INSEE's dictionary). Headers written in a test are built from
those headers, with one column renamed or dropped; the long-format member name is the one third-party code reads
(registry evidence)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import FIXTURES, OPENDATA
from diagnostic.registry import load_registry
from test_verifier import REALDATA, RangeMirror, bac, verifier  # noqa: F401 (bac: the fixture)

COM = REALDATA / "filosofi-2021" / "cc_filosofi_2021_COM.csv"
SUPRA = ("EPCI", "DEP", "REG")


def _cible(ws: Path, root: Path, source: str) -> Path:
    spec = load_registry(ws / "pipelines" / "sources.toml")[source]
    cible = root / spec.files()[next(iter(spec.files()))].split("://", 1)[1]
    cible.parent.mkdir(parents=True, exist_ok=True)
    return cible


def _zip(cible: Path, membres: dict[str, bytes]) -> None:
    with zipfile.ZipFile(cible, "w", zipfile.ZIP_DEFLATED) as z:
        for nom, data in membres.items():
            z.writestr(nom, data)


def _filosofi(supra=SUPRA) -> dict[str, bytes]:
    out = {"cc_filosofi_2021_COM.csv": COM.read_bytes()}
    for niveau in supra:
        out[f"cc_filosofi_2021_{niveau}.csv"] = (FIXTURES / "filosofi" / f"cc_filosofi_2021_{niveau}.csv").read_bytes()
    return out


def test_filosofi_conforme_then_a_supra_member_missing_without_blocking(bac):
    ws, root = bac
    cible = _cible(ws, root, "filosofi")
    _zip(cible, _filosofi())
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
        lus = [r for p, r in m.requests if p.endswith(cible.name)]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["filosofi"] == ("filosofi : conforme (cc_filosofi_2021_COM.csv : 5/5 colonnes attendues ; "
                                  "cc_filosofi_2021_EPCI.csv : 5/5 colonnes attendues ; cc_filosofi_2021_DEP.csv : 5/5 "
                                  "colonnes attendues ; cc_filosofi_2021_REG.csv : 5/5 colonnes attendues)")
    assert lus[0].startswith("bytes=-") and all(r and r.startswith("bytes=") for r in lus)  # never the whole zip

    _zip(cible, _filosofi(("EPCI", "DEP")))
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 0, proc.stdout
    assert lignes["filosofi"].startswith(
        "filosofi : champ absent : fichier « cc_filosofi_2021_REG.csv » dans l'archive (contenu : "
        "cc_filosofi_2021_COM.csv, cc_filosofi_2021_EPCI.csv, cc_filosofi_2021_DEP.csv)")


def test_filosofi_commune_member_missing_or_long_format_blocks(bac):
    ws, root = bac
    cible = _cible(ws, root, "filosofi")
    _zip(cible, {"cc_filosofi_2021_DEP.csv": _filosofi()["cc_filosofi_2021_DEP.csv"]})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 1
    assert lignes["filosofi"] == ("filosofi : champ absent : fichier « cc_filosofi_2021_COM.csv » dans l'archive "
                                  "(contenu : cc_filosofi_2021_DEP.csv)")

    _zip(cible, {"DS_FILOSOFI_CC_data.csv": b"GEO;GEO_OBJECT;FILOSOFI_MEASURE;UNIT_MEASURE;UNIT_MULT;CONF_STATUS;"
                                              b"OBS_STATUS;TIME_PERIOD;OBS_VALUE\n"})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 1
    assert lignes["filosofi"] == ("filosofi : format inattendu : format long DS_FILOSOFI_CC_data.csv au lieu de "
                                  "« cc_filosofi_2021_COM.csv » (non lu par l'analyseur)")


def test_filosofi_column_missing_blocks_and_a_newer_vintage_does_not(bac):
    ws, root = bac
    cible = _cible(ws, root, "filosofi")
    entete, reste = COM.read_bytes().split(b"\n", 1)
    membres = _filosofi()
    membres["cc_filosofi_2021_COM.csv"] = entete.replace(b";MED21;", b";MEDIANE21;") + b"\n" + reste
    _zip(cible, membres)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 1
    assert lignes["filosofi"].startswith("filosofi : champ absent : MED21 (cc_filosofi_2021_COM.csv) (cc_filosofi_2021_COM.csv : 4/5")

    membres = _filosofi()
    membres["cc_filosofi_2022_COM.csv"] = entete.replace(b"21;", b"22;").replace(b"RD21", b"RD22") + b"\n"
    _zip(cible, membres)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 0, proc.stdout
    assert lignes["filosofi"].startswith("filosofi : nouveau millésime disponible : cc_filosofi_2022_COM (registre : 2021) (")


def test_filosofi_server_without_range(bac):
    ws, root = bac
    _zip(_cible(ws, root, "filosofi"), _filosofi())
    with RangeMirror([root, OPENDATA], ranges=False) as m:
        proc, lignes = verifier(ws, m.url, "filosofi")
    assert proc.returncode == 0, proc.stdout
    assert lignes["filosofi"].startswith("filosofi : conforme (serveur sans requêtes partielles : archive lue depuis son début ; "
                                         "cc_filosofi_2021_COM.csv : 5/5 colonnes attendues")


DOSSIER = FIXTURES / "dossier_complet" / "dossier_complet_31_12_2024.zip"


def _entete_dossier() -> bytes:
    with zipfile.ZipFile(DOSSIER) as z:
        return z.read("dossier_complet.csv").split(b"\n", 1)[0].rstrip(b"\r")


def test_dossier_complet_conforme_member_missing_and_newer_years(bac):
    ws, root = bac
    cible = _cible(ws, root, "dossier_complet")
    cible.write_bytes(DOSSIER.read_bytes())
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "dossier_complet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["dossier_complet"] == "dossier_complet : conforme (dossier_complet.csv : 32/32 colonnes attendues)"

    _zip(cible, {"meta_dossier_complet.csv": b"COD_VAR;LIB_VAR\n"})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "dossier_complet")
    assert proc.returncode == 1
    assert lignes["dossier_complet"] == ("dossier_complet : champ absent : fichier « dossier_complet.csv » dans "
                                         "l'archive (contenu : meta_dossier_complet.csv)")

    # the next edition: census 2022 (P22_…), deaths up to 2024 — the registry's P21_ names are gone
    suivant = _entete_dossier().replace(b"P21_", b"P22_").replace(b"C21_", b"C22_") + b";DECESD24\n"
    _zip(cible, {"dossier_complet.csv": suivant})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "dossier_complet")
    assert proc.returncode == 1
    ligne = lignes["dossier_complet"]
    assert "champ absent : P21_POP (dossier_complet.csv)" in ligne
    assert "nouveau millésime disponible : recensement 2022 (P22_POP ; registre : 2021)" in ligne
    assert "nouveau millésime disponible : décès domiciliés 2024 (DECESD24 ; registre : 2019-2023)" in ligne
