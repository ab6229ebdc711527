"""Parser of the DREES APL workbooks of the other professions (infirmiers, kinésithérapeutes, sages-femmes,
chirurgiens-dentistes) on hand-made workbooks laid out like the GP workbook of the mirror: metadata rows,
header row « Code commune INSEE », units row, `APL <year>` sheets (tests/fixtures/apl_autres, invented).
Then the attachments found in the dataset's metadata before download, through a loopback server (no internet)."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

import openpyxl
import pytest

from diagnostic.fetch import mirror_location, read_manifest
from diagnostic.registry import load_registry
from diagnostic.sources import SourceFormatError, apl_autres, catalogue

from conftest import FIXTURES, PROJECT, FaultyMirror, one as row

FOLDER = FIXTURES / "apl_autres"
INFIRMIERS = "indicateur_d_accessibilite_potentielle_localisee_apl_aux_infirmieres_xlsx"


def edited(dest, sheet, cell, value):
    """Copy of the infirmiers workbook with one cell changed (openpyxl needs a file object: no .xlsx suffix)."""
    wb = openpyxl.load_workbook(io.BytesIO((FOLDER / INFIRMIERS).read_bytes()))
    wb[sheet][cell] = value
    buf = io.BytesIO()
    wb.save(buf)
    dest.write_bytes(buf.getvalue())


@pytest.fixture(scope="module")
def apl():
    return apl_autres.parse(FOLDER, {"sheets": ["APL 2022", "APL 2023"]})["stg_apl_autres"]




def test_four_professions_two_years(apl):
    assert sorted(apl["profession"].unique()) == ["dentistes", "infirmiers", "kines", "sages_femmes"]
    assert len(apl) == 4 * 2 * 7
    r = row(apl, profession="kines", millesime="2023", code="71153")
    assert (r.apl, r.pop_standardisee, r.pop_totale, r.annee_population) == (45.0, 200.0, 200.0, "2021")
    assert r.unite == "En nombre d'ETP accessibles pour 100 000 habitants standardisés"
    assert row(apl, profession="infirmiers", millesime="2022", code="75101").apl == 101.0
    assert row(apl, profession="sages_femmes", millesime="2023", code="20004").pop_standardisee == 50.0  # « Population féminine standardisée »


def test_ns_cell_is_missing_not_zero(apl):
    assert row(apl, profession="dentistes", millesime="2023", code="99999").apl != row(apl, profession="dentistes", millesime="2023", code="99999").apl


def test_sheets_found_from_the_workbook_when_not_listed():
    df = apl_autres.parse(FOLDER, {})["stg_apl_autres"]
    assert sorted(df["millesime"].unique()) == ["2022", "2023"]


def test_malformed_cell_names_file_sheet_row_and_column(tmp_path):
    (tmp_path / "raw").mkdir()
    edited(tmp_path / "raw" / INFIRMIERS, "APL 2023", "C12", "beaucoup")  # 75102's row (first data row is 11)
    with pytest.raises(SourceFormatError) as err:
        apl_autres.parse(tmp_path / "raw", {"sheets": ["APL 2023"]})
    message = str(err.value)
    assert INFIRMIERS in message and "« APL 2023 »" in message and "ligne 12" in message
    assert "'APL aux infirmiers'" in message and "'beaucoup'" in message


def test_missing_column_and_unknown_profession(tmp_path):
    (tmp_path / "raw").mkdir()
    edited(tmp_path / "raw" / INFIRMIERS, "APL 2023", "E9", "Habitants")
    with pytest.raises(SourceFormatError, match=r"ligne 9 : colonne « Population \(\?:féminine \)\?totale"):
        apl_autres.parse(tmp_path / "raw", {"sheets": ["APL 2023"]})
    (tmp_path / "autre").mkdir()
    shutil.copy(FOLDER / INFIRMIERS, tmp_path / "autre" / "apl_orthophonistes_xlsx")
    with pytest.raises(SourceFormatError, match="profession non reconnue"):
        apl_autres.parse(tmp_path / "autre", {})


# ---------------------------------------------------------------------------- attachments from the metadata
# The dataset's metadata (hand-made v2.0 record, tests/fixtures/apl_autres/metadonnees) lists the workbooks under new
# ids (`indicateur_d_apl_aux_…_xlsx`, the 2024 form seen in third-party code) and a PDF note naming every profession.
METADONNEES = FIXTURES / "apl_autres" / "metadonnees"
DATASET = "https://data.drees.solidarites-sante.gouv.fr/api/explore/v2.1/catalog/datasets/530_l-accessibilite-potentielle-localisee-apl"
LISTING = "https://data.drees.solidarites-sante.gouv.fr/api/v2/catalog/datasets/530_l-accessibilite-potentielle-localisee-apl"
REGISTRE = {  # registry key -> fixture workbook = file name on disk = last segment of the registry URL
    "infirmiers": INFIRMIERS,
    "kines": "indicateur_d_accessibilite_potentielle_localisee_apl_aux_kinesitherapeutes_xlsx",
    "sages_femmes": "indicateur_d_accessibilite_potentielle_localisee_apl_aux_sages_femmes_xlsx",
    "dentistes": "indicateur_d_accessibilite_potentielle_localisee_apl_aux_chirurgiens_dentistes_xlsx",
}
NOUVEAUX = {"infirmiers": "indicateur_d_apl_aux_infirmiers_xlsx", "kines": "indicateur_d_apl_aux_kinesitherapeutes_xlsx",
            "sages_femmes": "indicateur_d_apl_aux_sages_femmes_xlsx",
            "dentistes": "indicateur_d_apl_aux_chirurgiens_dentistes_xlsx"}


def record(drop=(), extra=()):
    """The fixture record, without the attachments whose id is in `drop`, with `extra` attachments added."""
    data = json.loads((METADONNEES / "530_l-accessibilite-potentielle-localisee-apl").read_text(encoding="utf-8"))
    data["dataset"]["attachments"] = [a for a in data["dataset"]["attachments"] if a["id"] not in drop] + list(extra)
    return data


def mirror_with(root, listing, served):
    """A mirror folder: the metadata record (unless None) and, for each registry key, its fixture workbook at
    `<dataset>/attachments/<served[key]>`."""
    if listing is not None:
        dest = Path(mirror_location(LISTING, str(root)))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(listing, ensure_ascii=False), encoding="utf-8")
    for key, ident in served.items():
        dest = Path(mirror_location(f"{DATASET}/attachments/{ident}", str(root)))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FOLDER / REGISTRE[key], dest)
    return root


def ingested(tmp_path, root, monkeypatch):
    """Run the real ingestion of apl_autres through a loopback server serving `root`: (manifest, requests, folder)."""
    from diagnostic.config import Workspace
    from diagnostic.ingest import ingest, raw_folder

    source = load_registry(PROJECT / "pipelines" / "sources.toml")["apl_autres"]
    with FaultyMirror(root) as m:
        monkeypatch.setenv("DIAGNOSTIC_MIRROR", m.url)
        got = ingest(Workspace(tmp_path / "ws"), source)
        requests = list(m.requests)
    folder = raw_folder(Workspace(tmp_path / "ws"), source)
    assert all(f.downloaded for f in got) and sorted(f.path.name for f in got) == sorted(REGISTRE.values())
    return read_manifest(folder), requests, folder


def test_registry_declares_the_metadata_and_one_pattern_per_profession():
    spec = load_registry(PROJECT / "pipelines" / "sources.toml")["apl_autres"].vintage()
    assert spec["metadonnees"] == LISTING
    assert set(spec["pieces_jointes"]) == set(spec["files"]) == set(REGISTRE)
    assert {k: v.rsplit("/", 1)[-1] for k, v in spec["files"].items()} == REGISTRE


def test_renamed_attachments_are_found_in_the_metadata_and_downloaded(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="diagnostic.ingest")
    root = mirror_with(tmp_path / "miroir", record(), NOUVEAUX)  # the registry's ids are not served at all
    manifest, requests, folder = ingested(tmp_path, root, monkeypatch)
    for key, name in REGISTRE.items():  # stored under the registry's name; the manifest says where it came from
        assert manifest[name]["url"] == f"{DATASET}/attachments/{NOUVEAUX[key]}"
        assert manifest[name]["resolved_from"] == LISTING
    assert requests[0] == "/data.drees.solidarites-sante.gouv.fr/api/v2/catalog/datasets/530_l-accessibilite-potentielle-localisee-apl"
    assert "pièce jointe indicateur_d_apl_aux_infirmiers_xlsx trouvée dans les métadonnées du jeu" in caplog.text
    df = apl_autres.parse(folder, {"sheets": ["APL 2022", "APL 2023"]})["stg_apl_autres"]
    assert sorted(df["profession"].unique()) == ["dentistes", "infirmiers", "kines", "sages_femmes"]


def test_profession_missing_from_the_metadata_keeps_the_registry_url(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="diagnostic.ingest")
    served = {**NOUVEAUX, "dentistes": REGISTRE["dentistes"]}
    root = mirror_with(tmp_path / "miroir", record(drop={NOUVEAUX["dentistes"]}), served)
    manifest, _, _ = ingested(tmp_path, root, monkeypatch)
    assert manifest[REGISTRE["dentistes"]]["url"] == f"{DATASET}/attachments/{REGISTRE['dentistes']}"
    assert "resolved_from" not in manifest[REGISTRE["dentistes"]]
    assert manifest[REGISTRE["kines"]]["url"] == f"{DATASET}/attachments/{NOUVEAUX['kines']}"
    assert ("Source apl_autres, dentistes : aucune pièce jointe xlsx ne correspond à « (?i)dentist » "
            "(autres fichiers : note_methodologique_apl_pdf) ; URL du registre utilisée.") in caplog.text


def test_two_matching_workbooks_warn_and_keep_the_registry_url(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="diagnostic.ingest")
    ancien = {"mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "url": "odsfile://indicateur_d_apl_aux_infirmiers_2019.xlsx", "id": "indicateur_d_apl_aux_infirmiers_2019_xlsx",
              "title": "Indicateur d'APL aux infirmiers, 2019.xlsx"}
    served = {**NOUVEAUX, "infirmiers": REGISTRE["infirmiers"]}
    root = mirror_with(tmp_path / "miroir", record(extra=[ancien]), served)
    manifest, _, _ = ingested(tmp_path, root, monkeypatch)
    assert manifest[INFIRMIERS]["url"] == f"{DATASET}/attachments/{INFIRMIERS}"
    assert "resolved_from" not in manifest[INFIRMIERS]
    assert manifest[REGISTRE["sages_femmes"]]["url"] == f"{DATASET}/attachments/{NOUVEAUX['sages_femmes']}"
    assert ("Source apl_autres, infirmiers : 2 pièces jointes correspondent à « (?i)infirmi » "
            "(indicateur_d_apl_aux_infirmiers_xlsx, indicateur_d_apl_aux_infirmiers_2019_xlsx) au lieu d'une ; "
            "URL du registre utilisée.") in caplog.text


def test_unreachable_metadata_falls_back_to_the_registry_urls(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="diagnostic.ingest")  # expected offline: said at DEBUG level only
    root = mirror_with(tmp_path / "miroir", None, REGISTRE)  # what ../shared/opendata would serve, plus the workbooks
    manifest, requests, _ = ingested(tmp_path, root, monkeypatch)
    assert {n: r["url"] for n, r in manifest.items()} == {n: f"{DATASET}/attachments/{n}" for n in REGISTRE.values()}
    assert not any("resolved_from" in r for r in manifest.values())
    assert len(requests) == 5  # the metadata (404), then the four workbooks
    assert "métadonnées du jeu non lues" in caplog.text and "HTTP 404" in caplog.text


def test_attachments_listing_shape_and_xlsx_preference():
    """The v2.1 attachments listing (`{links, attachments: [{href, metas: {"mime-type", title}}]}`, hand-made
    fixture) reads like the record: ids from `href`, the PDF note never picked."""
    listing = json.loads((METADONNEES / "attachments").read_text(encoding="utf-8"))
    pieces = catalogue.pieces_jointes(listing)
    assert [p["id"] for p in pieces] == [p["id"] for p in catalogue.pieces_jointes(record())]
    base = f"{DATASET}/attachments"
    choisies, avertissements = catalogue.urls_des_pieces_jointes(
        listing, {"infirmiers": "(?i)infirmi", "dentistes": "(?i)dentist"},
        {"infirmiers": f"{base}/{INFIRMIERS}", "dentistes": f"{base}/ancien", "kines": f"{base}/x"})
    assert choisies == {"infirmiers": f"{base}/indicateur_d_apl_aux_infirmiers_xlsx",
                        "dentistes": f"{base}/indicateur_d_apl_aux_chirurgiens_dentistes_xlsx"}
    assert avertissements == []
    bad = {"attachments": [{"id": "../../autre_xlsx", "title": "infirmiers.xlsx", "mimetype": ""}]}
    assert catalogue.urls_des_pieces_jointes(bad, {"infirmiers": "(?i)infirmi"}, {"infirmiers": f"{base}/a"})[0] == {}
    with pytest.raises(SourceFormatError, match="« attachments » absente"):
        catalogue.pieces_jointes({"dataset": {"dataset_id": "x"}})
