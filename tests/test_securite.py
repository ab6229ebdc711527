"""Security of inputs: archives, SQL, HTML, perimeter files."""

from __future__ import annotations

import zipfile
import pytest

from diagnostic.sources import SourceFormatError
from diagnostic.sources.lecture import zip_member

def test_zip_member_path_leaving_folder_is_read_in_memory_only(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.csv", "a;b\n1;2\n")
    zf, name = zip_member(archive, r"evil\.csv")
    with zf:
        assert zf.read(name) == b"a;b\n1;2\n"
    assert not (tmp_path.parent.parent / "evil.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_zip_bomb_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("donnees.csv", b"0" * 5_000_000)  # 5 MB that compress to a few KB
    assert archive.stat().st_size < 50_000
    with pytest.raises(SourceFormatError, match="au-delà de la limite"):
        zip_member(archive, r"donnees\.csv", max_bytes=1_000_000)


def test_territory_codes_reach_sql_as_parameters_only(built_workspace):
    """Codes typed by an analyst go to DuckDB as parameters or registered frames, never formatted into SQL:
    an injection attempt is just an unknown code, and the warehouse is untouched."""
    import duckdb

    from diagnostic.territoire import TerritoireError, resolve

    db = built_workspace / "data" / "processed" / "diagnostic.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        for spec in ["communes:71153');DROP TABLE int_commune;--", "epci:1' OR '1'='1", "dep:71' --"]:
            with pytest.raises(TerritoireError, match="inconnu"):
                resolve(spec, con, built_workspace / "data" / "territoires")
        assert con.sql("SELECT count(*) FROM int_commune").fetchone()[0] > 30000


def test_perimeter_file_is_data_never_executed(tmp_path):
    """A perimeter file is parsed as TOML; text that looks like code stays text and is refused as a key."""
    import duckdb

    from diagnostic.territoire import TerritoireError, resolve

    marker = tmp_path / "pwned"
    (tmp_path / "t.toml").write_text(
        f'nom = "__import__(\'os\').system(\'touch {marker}\')"\ncommunes = ["71153"]\nexec = "x"\n', encoding="utf-8"
    )
    with pytest.raises(TerritoireError, match="clé « exec » inconnue"):
        resolve("t", duckdb.connect(), tmp_path)
    assert not marker.exists()
