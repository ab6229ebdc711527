"""The report reads marts only (issue 15): every query of the report stage is a file of `models/rapport/` that
reads stored marts (`mart_*`) and build metadata, run by `report/donnees.py` and by no other module of `report/`;
the report runs on a warehouse that holds nothing else; the secret statistique of the commune counts of the maps
is the masking of the indicator rows (`secret.apply`), applied by the build; `report/` has no import cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from diagnostic import catalogue, graphe, warehouse
from diagnostic.config import Workspace
from diagnostic.report import donnees

REPORT = Path(donnees.__file__).parent
RAPPORT = warehouse.MODELS / "rapport"
MARTS_STOCKES = {t: p.name for p in (warehouse.MODELS / "marts").glob("*.sql") for t in graphe.lire(p).cree}
NON_MARTS = re.compile(r"\b((?:int|stg|geo|ref)_\w+)\b")


def _sans_commentaires(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def test_every_stored_mart_is_named_mart():
    assert MARTS_STOCKES and all(t.startswith("mart_") for t in MARTS_STOCKES), MARTS_STOCKES


@pytest.mark.parametrize("fichier", sorted(p.name for p in RAPPORT.glob("*.sql")))
def test_report_query_reads_marts_only(fichier):
    m = graphe.lire(RAPPORT / fichier)
    assert m.lit, f"{fichier}: no « -- reads: » line"
    assert not m.cree, f"{fichier}: a report query creates no table"
    for t in m.lit:
        assert t in MARTS_STOCKES or t.startswith("meta_"), f"{fichier} declares reading {t}, not a stored mart"
    corps = _sans_commentaires(m.chemin.read_text(encoding="utf-8"))
    assert not NON_MARTS.findall(corps), f"{fichier} reads {NON_MARTS.findall(corps)}"
    lues = set(re.findall(r"\b(mart_\w+)\b", corps))
    assert lues and lues <= set(m.lit), f"{fichier} reads {sorted(lues - set(m.lit))} without declaring it"


def test_donnees_runs_every_report_query_and_only_those():
    assert sorted(donnees.REQUETES) == sorted(p.name for p in RAPPORT.glob("*.sql"))
    with pytest.raises(ValueError, match="not a report query"):
        donnees._requete(duckdb.connect(), "comparateurs.sql")


def test_only_donnees_touches_the_warehouse():
    """No other module of report/ runs SQL, registers a frame, reads a model file or imports duckdb."""
    appels = {"sql", "execute", "register", "model_sql", "connect"}
    fautes = []
    for p in sorted(REPORT.glob("*.py")):
        if p.name == "donnees.py":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in appels:
                fautes.append(f"{p.name}:{node.lineno} .{node.func.attr}(")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                noms = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[-1] in ("duckdb", "warehouse") for n in noms):
                    fautes.append(f"{p.name}:{node.lineno} import {noms}")
    assert not fautes, fautes


def _imports_internes(p: Path) -> set[str]:
    """Modules of report/ imported by `p`, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            noms = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            out |= {n for n in noms if (REPORT / f"{n}.py").is_file()}
    return out


def test_report_has_no_import_cycle():
    graphe_imports = {p.stem: _imports_internes(p) for p in REPORT.glob("*.py") if p.stem != "__init__"}
    cycles = []

    def visiter(n, chemin):
        for m in sorted(graphe_imports.get(n, ())):
            if m in chemin:
                cycles.append(" -> ".join(chemin[chemin.index(m):] + [m]))
            elif len(chemin) < len(graphe_imports):
                visiter(m, chemin + [m])

    for n in sorted(graphe_imports):
        visiter(n, [n])
    assert not cycles, sorted(set(cycles))[:10]
    # the data module and the context below everything else
    assert graphe_imports["donnees"] <= {"context"} and not graphe_imports["context"]


def test_commune_counts_masked_by_the_indicator_masking():
    """mart_commune's nb_mg goes through secret.apply with the build's thresholds: 1 to threshold − 1 masked,
    0 kept, no extraction kept as non_disponible; a changed threshold masks accordingly."""
    for seuil, masques in ((5, {"b", "c"}), (11, {"b", "c", "d"})):
        con = duckdb.connect()
        con.register("_cat", catalogue.cadre(None))
        con.execute("CREATE TABLE ref_indicateur AS SELECT * FROM _cat")
        con.execute(f"CREATE TABLE meta_secret AS SELECT * FROM (VALUES ('professionnels', {seuil}), "
                    "('patients', 11)) t(cle, seuil)")
        con.execute("CREATE TABLE mart_commune AS SELECT * FROM (VALUES ('a', 0, 'ok'), ('b', 1, 'ok'), ('c', 4, 'ok'), "
                    "('d', 5, 'ok'), ('e', 12, 'ok'), ('f', NULL, 'non_disponible')) t(code, nb_mg, statut_nb_mg)")
        warehouse.masquer(con, ["mart_commune"])
        got = con.sql("SELECT code, nb_mg, statut_nb_mg FROM mart_commune ORDER BY code").fetchall()
        attendu = {"a": 0, "b": 1, "c": 4, "d": 5, "e": 12, "f": None}
        assert got == [(c, None, "secret") if c in masques else
                       (c, v, "non_disponible" if c == "f" else "ok") for c, v in attendu.items()], seuil


def test_report_runs_on_a_warehouse_of_marts_only(built_workspace, tmp_path):
    """The report's data read from a copy of the built warehouse that keeps only the stored marts and the build
    metadata equal those read from the full warehouse."""
    from diagnostic.territoire import resolve

    ws = Workspace(built_workspace)
    copie = tmp_path / "marts.duckdb"
    with warehouse.connect(ws) as con:
        tables = [t for (t,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert set(MARTS_STOCKES) <= set(tables)
        garder = [t for t in tables if t.startswith(("mart_", "meta_"))]
        selection = resolve("cpts-centre-saone-et-loire", con, ws.territoires).selection(con)
        indicateurs = warehouse.indicateurs(con, selection)
        deps = sorted(set(indicateurs.loc[indicateurs["territoire_type"] == "departement", "territoire_code"]))
        complet = _lire(con, selection, indicateurs, deps)
    with duckdb.connect(str(copie)) as dst:
        dst.execute(f"ATTACH '{ws.warehouse}' AS src (READ_ONLY)")
        for t in garder:
            dst.execute(f'CREATE TABLE "{t}" AS SELECT * FROM src."{t}"')
        dst.execute("DETACH src")
        dst.execute(warehouse.model_sql("00_macros.sql"))
        restants = {t for (t,) in dst.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert not {t for t in restants if not t.startswith(("mart_", "meta_"))}
        marts_seuls = _lire(dst, selection, indicateurs, deps)
    assert len(complet["communes"]) > 500 and len(complet["departements"]) >= 96
    for nom, df in complet.items():
        pd.testing.assert_frame_equal(marts_seuls[nom], df, obj=nom)


def _lire(con, selection, indicateurs, deps) -> dict[str, pd.DataFrame]:
    return {"series": donnees.series(con, indicateurs),
            "communes": _wkb(donnees.communes(con, deps)),
            "departements": _wkb(donnees.departements(con)),
            "pyramide": donnees.pyramide_ages(con, selection),
            "etablissements": donnees.etablissements(con, selection)}


def _wkb(gdf) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns="geometry")).assign(geometry=gdf.geometry.to_wkb().to_numpy())
