"""Parser of the DREES APL workbooks of the other professions (infirmiers, kinésithérapeutes, sages-femmes,
chirurgiens-dentistes) on hand-made workbooks laid out like the GP workbook of the mirror: metadata rows,
header row « Code commune INSEE », units row, `APL <year>` sheets (tests/fixtures/apl_autres, invented)."""

from __future__ import annotations

import io
import shutil

import openpyxl
import pytest

from diagnostic.sources import SourceFormatError, apl_autres

from conftest import FIXTURES, one as row

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
