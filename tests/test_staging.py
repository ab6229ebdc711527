"""The staging tables of a missing source are generated from its parser's pandera schemas (staging.py), in one
place: for every registered source, the generated empty table has exactly the columns and types of the table a
real parse of the mirror's files gives, and a build with sources absent still runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandera.pandas as pa
import pytest

from diagnostic import staging, warehouse
from diagnostic.config import DiagnosticError, Workspace
from diagnostic.ingest import raw_folder
from diagnostic.registry import load_registry
from diagnostic.sources import apl

from conftest import FIXTURES
from test_indicateurs_sante import META, base_staging


def colonnes(con, table: str) -> list[tuple[str, str]]:
    return con.sql(f'SELECT column_name, column_type FROM (DESCRIBE "{table}")').fetchall()


def fichiers_de_fixture(source, dest: Path) -> Path:
    """The raw folder of a source the test mirror does not hold: each file of its registry entry taken from its
    hand-made fixture (tests/fixtures/<id>, official layout), picked as test_miroir_complet places them."""
    folder = FIXTURES / source.id
    fichiers = [p for p in folder.iterdir() if p.is_file()]
    dest.mkdir(parents=True)
    for name in source.files():
        src = folder / name if (folder / name).is_file() else (fichiers[0] if len(fichiers) == 1 else None)
        assert src is not None, f"pas de fixture pour {source.id}/{name}"
        shutil.copy(src, dest / name)
    return dest


def test_generated_empty_tables_match_a_real_parse(built_workspace, tmp_path):
    """Each source parsed from the test mirror workspace's raw files (COG, contours, GP APL: genuine files), or,
    for a source the mirror does not hold, from its hand-made fixture."""
    ws = Workspace(built_workspace)
    sources = load_registry(ws.registry)
    con = duckdb.connect()
    comptes, du_miroir = {}, set()
    for sid, source in sources.items():
        if warehouse.complete(ws, source, source.latest):
            folder = raw_folder(ws, source)
            du_miroir.add(sid)
        else:
            folder = fichiers_de_fixture(source, tmp_path / sid)
        parsed = staging.parser_module(source).parse(folder, source.vintage())
        declared = staging.schemas(source)
        assert sorted(t for t in parsed if t.startswith("stg_")) == sorted(declared), sid
        for table, schema in declared.items():
            staging.create(con, table, parsed[table])
            con.execute(staging.ddl(f"{table}_vide", schema))
            assert colonnes(con, f"{table}_vide") == colonnes(con, table), table
            comptes[sid] = comptes.get(sid, 0) + 1
        assert not declared or any(len(parsed[t]) for t in declared), sid  # a real parse, with rows
    assert "contours" not in comptes and comptes["cog"] == 6 and comptes["odisse_vaccination_region"] == 2
    assert set(comptes) == set(sources) - {"contours"}  # contours: geometries (geo_*), no staging table
    assert du_miroir >= {"cog", "contours", "apl_mg"}


def test_build_with_sources_absent(copied_workspace):
    """The test mirror holds no Odissé nor SAS file, and the GP APL workbook is removed here: the build runs, says
    so, creates their staging tables empty with their schemas' columns, and the marts give « non disponible » for
    what only they provide."""
    ws = Workspace(copied_workspace)
    sources = load_registry(ws.registry)
    avant = set(json.loads(warehouse.stored_build(ws.warehouse)["indisponibles"]))
    assert {"odisse_vaccination_region", "ameli_sas"} <= avant and "apl_mg" not in avant
    for path in sorted(raw_folder(ws, sources["apl_mg"]).iterdir()):
        path.unlink()
    built = warehouse.build(ws, sources, force=True, accepter_perte=True)
    assert set(built.unavailable) == avant | {"apl_mg"}
    with warehouse.connect(ws) as con:
        assert colonnes(con, "stg_ameli_sas") == [("annee", "VARCHAR"), ("territoire_type", "VARCHAR"),
                                                  ("territoire_code", "VARCHAR"), ("territoire_nom", "VARCHAR"),
                                                  ("valeur", "DOUBLE"), ("statut", "VARCHAR")]
        assert [c for c, _ in colonnes(con, "stg_apl_mg")] == list(apl.APL.columns)
        for table in ("stg_apl_mg", "stg_ameli_sas", "stg_odisse_vaccination_region_champs"):
            assert con.sql(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        for indicateur in ("apl_mg", "part_pop_couverte_sas", "couv_vacc_grippe_65_plus"):
            assert con.execute("SELECT DISTINCT statut FROM mart_indicateurs WHERE indicateur = ?", [indicateur]
                           ).fetchall() == [("non_disponible",)], indicateur
        assert con.sql("SELECT count(*) FROM mart_indicateurs WHERE indicateur = 'population' AND statut = 'ok'"
                       ).fetchone()[0] > 0  # the COG's figures are still there


def test_a_staging_table_no_source_declares_stops_the_build():
    with pytest.raises(DiagnosticError, match=r"stg_apl_autres \(lue par 07_int_offre_soins\.sql\)"):
        warehouse.run_models(duckdb.connect(), base_staging(), META, warehouse.BuildReport(rebuilt=True), None, {})


def test_a_dtype_without_duckdb_type_is_named():
    schema = pa.DataFrameSchema({"code": pa.Column(str), "quand": pa.Column("timedelta64[ns]")})
    with pytest.raises(DiagnosticError, match="Table stg_x, colonne quand : type pandera 'timedelta64\\[ns\\]'"):
        staging.ddl("stg_x", schema)
    assert staging.ddl("stg_x", schema.remove_columns(["quand"])) == 'CREATE TABLE "stg_x" ("code" VARCHAR)'
