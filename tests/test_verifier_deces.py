"""`diagnostic verifier` on INSEE's death detail files (source `etatcivil_deces`, one zip a year 2019-2023): each
zip's central directory (member names), then the header row of its CSV member or the footer of its parquet member,
through Range requests on the loopback server of test_verifier. One case per kind of difference: conforme (CSV and
parquet members, deflated or stored), member missing, two members for one year, column renamed (CSV and parquet), a
year's URL dead (404), server without Range.

Inputs: the HAND-MADE zips of tests/fixtures/etatcivil_deces (`fabriquer_etatcivil_deces.py`: invented deaths,
header = the variables of INSEE's dictionary varmod_DEC_2020.csv, member names from the registry evidence), copied
to the registry's URLs; a test rewrites one year's zip from the fixture's member, with one column renamed, the
member dropped (leaving a dictionary `varmod_DEC_<YYYY>.csv`, as INSEE's zips of other files hold) or doubled."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pandas as pd

from conftest import FIXTURES, OPENDATA, PROJECT, au_registre
from diagnostic.registry import load_registry
from diagnostic.verification import zip_insee
from test_verifier import RangeMirror, bac, verifier  # noqa: F401 (bac: the fixture)

ICI = FIXTURES / "etatcivil_deces"
ANNEES = ["2019", "2020", "2021", "2022", "2023"]
URL = load_registry(PROJECT / "pipelines" / "sources.toml")["etatcivil_deces"].vintage()["files"]  # year -> URL
PERTE = "sans ce fichier, aucun décès 2019-2023 n'est lu : indices comparatifs de mortalité non disponibles"


def _fixture(annee: str) -> Path:
    return ICI / ("dec2023_fdet.zip" if annee == "2023" else f"etatcivil{annee}_dec{annee}_csv.zip")


def _servir(root: Path, sauf: tuple[str, ...] = ()) -> dict[str, Path]:
    """The fixture zips at the registry's URLs (the years in `sauf` left out: 404); year -> served path."""
    out = {}
    for annee in ANNEES:
        out[annee] = au_registre(root, "etatcivil_deces", _fixture(annee).name)
        if annee not in sauf:
            shutil.copyfile(_fixture(annee), out[annee])
    return out


def _membre(annee: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(_fixture(annee)) as z:
        nom = z.namelist()[0]
        return nom, z.read(nom)


def _zip(cible: Path, membres: dict[str, bytes], methode: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(cible, "w", methode) as z:
        for nom, data in membres.items():
            z.writestr(nom, data)


def _parquet_renomme(data: bytes, ancien: str, nouveau: str) -> bytes:
    buf = io.BytesIO()
    pd.read_parquet(io.BytesIO(data)).rename(columns={ancien: nouveau}).to_parquet(buf, index=False)
    return buf.getvalue()


def test_deces_conforme_by_ranges_then_a_stored_parquet(bac):
    ws, root = bac
    servis = _servir(root)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
        lus = [(p, r) for p, r in m.requests if "insee.fr" in p]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["etatcivil_deces"] == (
        "etatcivil_deces : conforme (2019 : FD_DEC_2019.csv, 9/9 colonnes attendues ; 2020 : FD_DEC_2020.csv, 9/9 "
        "colonnes attendues ; 2021 : FD_DEC_2021.csv, 9/9 colonnes attendues ; 2022 : FD_DEC_2022.csv, 9/9 colonnes "
        "attendues ; 2023 : FD_DEC_2023.parquet, 9/9 colonnes attendues ; 5 fichiers lus)")
    assert all(r and r.startswith("bytes=") for _, r in lus), lus  # never a whole zip without Range

    nom, data = _membre("2023")  # stored, as a zip of an already compressed parquet may be: only its end is read
    _zip(servis["2023"], {nom: data}, zipfile.ZIP_STORED)
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
        fin = [r for p, r in m.requests if p.endswith("dec2023_fdet.zip")]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2023 : FD_DEC_2023.parquet, 9/9 colonnes attendues" in lignes["etatcivil_deces"]
    taille = servis["2023"].stat().st_size
    debut, _, derniere = fin[-1].removeprefix("bytes=").partition("-")
    assert int(derniere) - int(debut) + 1 == zip_insee.PIED and int(derniere) < taille  # the footer, not the member


def test_deces_member_missing_or_doubled_blocks(bac):
    ws, root = bac
    servis = _servir(root)
    _zip(servis["2021"], {"varmod_DEC_2021.csv": b"COD_VAR;LIB_VAR\r\nCOMDOM;Commune de domicile\r\n"})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
    assert proc.returncode == 1
    assert lignes["etatcivil_deces"].startswith(
        "etatcivil_deces : champ absent : fichier des décès de 2021 (.csv ou .parquet, hors varmod) dans l'archive "
        f"(contenu : varmod_DEC_2021.csv) (décès 2021 : {URL['2021']}) (2019 : FD_DEC_2019.csv, 9/9")
    assert "écart bloquant pour : etatcivil_deces." in proc.stderr

    shutil.copyfile(_fixture("2021"), servis["2021"])
    nom, data = _membre("2023")
    _zip(servis["2023"], {nom: data, "FD_DEC_2023.csv": b"ADEC;MDEC\r\n"})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
    assert proc.returncode == 1
    assert lignes["etatcivil_deces"].startswith(
        "etatcivil_deces : format inattendu : 2 fichiers de données de 2023 dans l'archive (FD_DEC_2023.parquet, "
        f"FD_DEC_2023.csv) : l'analyseur en attend un seul (décès 2023 : {URL['2023']}) (")


def test_deces_column_renamed_in_a_csv_or_a_parquet_blocks(bac):
    ws, root = bac
    servis = _servir(root)
    nom, data = _membre("2022")
    _zip(servis["2022"], {nom: data.replace(b";COMDOM;", b";CODCOM_DOM;", 1)})
    nom23, data23 = _membre("2023")
    _zip(servis["2023"], {nom23: _parquet_renomme(data23, "ANAIS", "ANNEE_NAIS")})
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
    assert proc.returncode == 1
    assert lignes["etatcivil_deces"] == (
        f"etatcivil_deces : champ absent : COMDOM (décès 2022 : {URL['2022']}, FD_DEC_2022.csv) ; champ absent : "
        f"ANAIS (décès 2023 : {URL['2023']}, FD_DEC_2023.parquet) (2019 : FD_DEC_2019.csv, 9/9 colonnes attendues ; "
        "2020 : FD_DEC_2020.csv, 9/9 colonnes attendues ; 2021 : FD_DEC_2021.csv, 9/9 colonnes attendues ; 2022 : "
        "FD_DEC_2022.csv, 8/9 colonnes attendues ; 2023 : FD_DEC_2023.parquet, 8/9 colonnes attendues ; 5 fichiers lus)")


def test_deces_a_dead_year_names_year_url_and_what_the_pool_loses(bac):
    ws, root = bac
    _servir(root, sauf=("2021",))
    with RangeMirror([root, OPENDATA]) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
    assert proc.returncode == 1
    assert lignes["etatcivil_deces"].startswith(
        f"etatcivil_deces : URL morte (HTTP 404 ; {PERTE}) (décès 2021 : {URL['2021']}) (2019 : FD_DEC_2019.csv, 9/9 "
        "colonnes attendues ; 2020 : FD_DEC_2020.csv, 9/9 colonnes attendues ; 2022 : FD_DEC_2022.csv")


def test_deces_server_without_range(bac):
    ws, root = bac
    _servir(root)
    with RangeMirror([root, OPENDATA], ranges=False) as m:
        proc, lignes = verifier(ws, m.url, "etatcivil_deces")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lignes["etatcivil_deces"].startswith(
        "etatcivil_deces : conforme (serveur sans requêtes partielles : archive lue depuis son début ; 2019 : "
        "FD_DEC_2019.csv, 9/9 colonnes attendues")
    assert "2023 : FD_DEC_2023.parquet, 9/9 colonnes attendues ; 5 fichiers lus)" in lignes["etatcivil_deces"]
