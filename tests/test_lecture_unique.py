"""A raw file checked when downloaded is not parsed again by the build of the same run (issue 16,
``diagnostic.sources.memo``), on genuine files of the offline mirror."""

from __future__ import annotations

import shutil

import pytest

from conftest import OPENDATA
from diagnostic.sources import SourceFormatError, contours, cog
from diagnostic.sources.memo import une_lecture

BELFORT = OPENDATA / "raw.githubusercontent.com/gregoiredavid/france-geojson/master/departements/90-territoire-de-belfort/communes-90-territoire-de-belfort.geojson"
REGIONS = OPENDATA / "unpkg.com/@etalab/decoupage-administratif@6.0.0/data/regions.json"


def test_checked_file_taken_by_the_build_once(tmp_path):
    import json

    attendu = sorted(f["properties"]["code"] for f in json.loads(BELFORT.read_text(encoding="utf-8"))["features"])
    tmp = tmp_path / ".communes-90-territoire-de-belfort.geojson.1.x.part"  # the check reads the temporary file
    shutil.copy(BELFORT, tmp)
    dossier = tmp_path / "raw"
    dossier.mkdir()
    with une_lecture():
        lu = contours._communes(tmp)
        assert contours._communes(tmp) is lu  # kept by the first read, taken by the second
        assert contours._communes(tmp) is not lu  # taken once: this read parsed the file again
        contours.check_file(tmp, name="communes-90-territoire-de-belfort.geojson")
        shutil.move(tmp, dossier / BELFORT.name)  # same bytes under their final name
        construit = contours.parse_communes([dossier / BELFORT.name])
    assert sorted(construit["code"]) == attendu and len(attendu) == 102
    # outside the block every read parses the file
    assert contours._communes(dossier / BELFORT.name) is not contours._communes(dossier / BELFORT.name)


def test_other_content_read_again_and_errors_not_kept(tmp_path):
    a = tmp_path / "regions.json"
    shutil.copy(REGIONS, a)
    with une_lecture():
        premier = cog.parse_regions(a)
        a.write_text(REGIONS.read_text(encoding="utf-8").replace('"Bretagne"', '"Bretagne (modifiée)"'), encoding="utf-8")
        second = cog.parse_regions(a)  # another content: another key
        assert second is not premier
        assert "Bretagne (modifiée)" in set(second["nom"]) and "Bretagne" in set(premier["nom"])
        a.write_text("{}", encoding="utf-8")
        with pytest.raises(SourceFormatError, match="liste JSON"):
            cog.parse_regions(a)
        with pytest.raises(SourceFormatError, match="liste JSON"):  # the error is not kept: read and raised again
            cog.parse_regions(a)
