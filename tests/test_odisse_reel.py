"""Odissé vaccination parser on the genuine files of ../shared/realdata/odisse-vaccination, untouched: the portal
downloads (labels, BOM, CRLF, `,` or `;`) and the API JSON exports (field names), read without any catalogue
record; then a full mirror holding the genuine portal files at the registry's URLs fills the report's rows."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from diagnostic.registry import load_registry
from conftest import PROJECT, run_cli, projet_complet
from diagnostic.fetch import mirror_location
from diagnostic.sources import odisse

REELS = PROJECT.parent / "shared" / "realdata" / "odisse-vaccination"
REGISTRE = load_registry(PROJECT / "pipelines" / "sources.toml")  # shared blocks ([communs]) resolved
FICHIERS = {  # source -> (genuine file name without extension, separator of the portal download)
    "odisse_vaccination_departement": ("couvertures-vaccinales-des-adolescent-et-adultes-departement", ","),
    "odisse_vaccination_region": ("couvertures-vaccinales-des-adolescents-et-adultes-depuis-2011-region", ","),
    "odisse_vaccination_france": ("couvertures-vaccinales-des-adolescents-et-adultes-depuis-2011-france", ";"),
}

pytestmark = pytest.mark.skipif(not REELS.is_dir(), reason="fichiers réels absents (../shared/realdata)")


def spec(sid: str) -> dict:
    return REGISTRE[sid].vintage()


def dossier(tmp_path: Path, sid: str, forme: str) -> Path:
    """A raw folder as the pipeline stores it (the export under the last segment of its URL), holding a link to the
    genuine file: `csv` for the portal download, `json` for the API JSON export. No catalogue record."""
    nom, _ = FICHIERS[sid]
    folder = tmp_path / f"{sid}-{forme}"
    folder.mkdir()
    os.symlink(REELS / f"{nom}.{forme}", folder / forme)
    return folder


def lignes_csv(sid: str) -> list[dict]:
    """The portal download read independently of the parser (csv module)."""
    nom, sep = FICHIERS[sid]
    with open(REELS / f"{nom}.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=sep))


def grippe_65_2024(sid: str, code_col: str | None, code: str | None) -> float:
    rows = [r for r in lignes_csv(sid) if r["Année"] == "2024" and (code_col is None or r[code_col].zfill(2) == code)]
    assert len(rows) == 1
    return float(rows[0]["Grippe 65 ans et plus"])


def test_label_mapping_is_the_one_the_genuine_files_show():
    """For each dataset, the portal CSV's labels and the JSON export's keys, column for column, are LIBELLES."""
    for sid, (nom, sep) in FICHIERS.items():
        with open(REELS / f"{nom}.csv", encoding="utf-8-sig", newline="") as fh:
            labels = next(csv.reader(fh, delimiter=sep))
        keys = list(json.loads((REELS / f"{nom}.json").read_text(encoding="utf-8"))[0])
        assert len(labels) == len(keys), sid
        assert {lab: odisse.LIBELLES.get(lab) for lab in labels} == dict(zip(labels, keys)), sid
        for mesure, cfg in spec(sid)["mesures"].items():  # every registry field name exists in the genuine export
            assert cfg["champs"][0] in keys, (sid, mesure)


def test_influenza_65_plus_2024_read_from_the_genuine_portal_downloads(tmp_path):
    dep = odisse.parse(dossier(tmp_path, "odisse_vaccination_departement", "csv"), spec("odisse_vaccination_departement"))
    df = dep["stg_odisse_vaccination_departement"]
    row = df[(df.annee == "2024") & (df.territoire_code == "71") & (df.mesure == "grippe_65_plus")]
    assert row.valeur.tolist() == [grippe_65_2024("odisse_vaccination_departement", "Département Code", "71")] == [53.1]
    assert set(df.territoire_type) == {"departement"} and df.territoire_code.nunique() == 101  # `1` and `01` are one code
    assert sorted(df.annee.unique())[-1] == "2024" == REGISTRE["odisse_vaccination_departement"].latest
    assert dep["stg_odisse_vaccination_departement_champs"].set_index("mesure").loc["meningo_c_10_14", "champ"] == "menc10_14"

    reg = odisse.parse(dossier(tmp_path, "odisse_vaccination_region", "csv"), spec("odisse_vaccination_region"))
    df = reg["stg_odisse_vaccination_region"]
    row = df[(df.annee == "2024") & (df.territoire_code == "27") & (df.mesure == "grippe_65_plus")]
    assert row.valeur.tolist() == [grippe_65_2024("odisse_vaccination_region", "Région Code", "27")]
    assert {"01", "02", "03", "04"} <= set(df.territoire_code)  # DROM régions coded 1-4 in the file

    fr = odisse.parse(dossier(tmp_path, "odisse_vaccination_france", "csv"), spec("odisse_vaccination_france"))
    df = fr["stg_odisse_vaccination_france"]
    row = df[(df.annee == "2024") & (df.mesure == "grippe_65_plus")]
    assert row.valeur.tolist() == [grippe_65_2024("odisse_vaccination_france", None, None)] == [53.7]
    assert set(df.territoire_code) == {"FR"}


def test_json_export_gives_the_same_rows_as_the_portal_download(tmp_path):
    for sid in FICHIERS:
        table = spec(sid)["table"]
        par_csv = odisse.parse(dossier(tmp_path, sid, "csv"), spec(sid))[table]
        par_json = odisse.parse(dossier(tmp_path, sid, "json"), spec(sid))[table]
        cle = ["annee", "territoire_code", "mesure"]
        a = par_csv.sort_values(cle).reset_index(drop=True)
        b = par_json.sort_values(cle).reset_index(drop=True)
        assert len(a) == len(b) > 0, sid
        assert a[cle].equals(b[cle]), sid
        assert ((a.valeur == b.valeur) | (a.valeur.isna() & b.valeur.isna())).all(), sid
        assert a.statut.fillna("").tolist() == b.statut.fillna("").tolist(), sid


def test_mirror_with_the_genuine_files_and_no_catalogue_record_fills_the_vaccination_rows(tmp_path):
    from test_miroir_complet import SLUG, miroir_complet

    miroir = miroir_complet(tmp_path / "miroir")
    for sid, (nom, _) in FICHIERS.items():
        urls = [u for u in (spec(sid)["files"].values())]
        assert len(urls) == 1 and "/exports/csv" in urls[0]  # the export only: no catalogue record in the registry
        cible = Path(mirror_location(urls[0], str(miroir)))
        cible.unlink()
        os.symlink(REELS / f"{nom}.csv", cible)
    ws = projet_complet(tmp_path / "ws")
    run_cli(ws, "run", SLUG, "--strict", "--sans-pdf", mirror=str(miroir))
    with open(ws / "reports" / SLUG / "indicateurs.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["indicateur"] == "couv_vacc_grippe_65_plus"]
    got = {r["territoire_type"]: (r["territoire_code"], float(r["valeur"]) if r["valeur"] else None, r["millesime"],
                                  r["source"], r["statut"]) for r in rows}
    assert got["departement"] == ("71", grippe_65_2024("odisse_vaccination_departement", "Département Code", "71"), "2024",
                                  "odisse_vaccination_departement", "ok")
    assert got["region"] == ("27", grippe_65_2024("odisse_vaccination_region", "Région Code", "27"), "2024",
                             "odisse_vaccination_region", "ok")
    assert got["france"][1:] == (grippe_65_2024("odisse_vaccination_france", None, None), "2024",
                                 "odisse_vaccination_france", "ok")
    assert got["perimetre"][4] == "non_disponible"  # published for départements, régions and France only
