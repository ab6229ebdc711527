"""The declared model graph (graphe.py): models run after what they read, whatever their file names; an
undeclared read, an input nobody creates, a table created twice and a cycle are refused with French messages."""

from __future__ import annotations

import pytest

from diagnostic import graphe, warehouse
from diagnostic.config import DiagnosticError


def modeles(tmp_path, **sql: str) -> list[graphe.Modele]:
    for nom, texte in sql.items():
        (tmp_path / f"{nom}.sql").write_text(texte, encoding="utf-8")
    return [graphe.lire(tmp_path / f"{nom}.sql") for nom in sql]


def test_order_follows_the_declared_reads_not_the_names(tmp_path):
    ms = modeles(tmp_path,
                 a_dernier="-- reads: int_b, stg_x\nCREATE OR REPLACE TABLE int_a AS SELECT * FROM int_b JOIN stg_x USING (k);",
                 b_premier="-- reads: stg_x\nCREATE OR REPLACE TABLE int_b AS SELECT * FROM stg_x;")
    python = graphe.Modele("etape python", ("int_a",), ("geo_c",))
    assert [m.nom for m in graphe.ordre(ms + [python])] == ["b_premier.sql", "a_dernier.sql", "etape python"]


@pytest.mark.parametrize("sql, message", [
    ({"a": "CREATE OR REPLACE TABLE int_a AS SELECT 1;", "b": "CREATE OR REPLACE TABLE int_b AS SELECT * FROM int_a;"},
     "b.sql lit int_a sans le déclarer"),
    ({"a": "CREATE OR REPLACE TABLE int_a AS SELECT * FROM stg_x;"}, "a.sql lit stg_x sans le déclarer"),
    ({"a": "-- reads: int_zz\nCREATE OR REPLACE TABLE int_a AS SELECT 1;"}, "a.sql déclare lire int_zz, qu'aucun modèle ne crée"),
    ({"a": "CREATE OR REPLACE TABLE int_a AS SELECT 1;", "b": "CREATE OR REPLACE TABLE int_a AS SELECT 2;"},
     "la table int_a est créée par a.sql et par b.sql"),
    ({"a": "-- reads: int_b\nCREATE OR REPLACE TABLE int_a AS SELECT * FROM int_b;",
      "b": "-- reads: int_a\nCREATE OR REPLACE TABLE int_b AS SELECT * FROM int_a;"}, "cycle entre a.sql, b.sql"),
])
def test_malformed_graph_is_refused(tmp_path, sql, message):
    with pytest.raises(DiagnosticError, match=message):
        graphe.ordre(modeles(tmp_path, **sql))


def test_project_graph_puts_the_contours_between_the_code_passage_and_int_commune():
    noms = [m.nom for m in warehouse.graphe_build()]
    assert noms.index("01_int_cog_passage.sql") < noms.index(warehouse.GEO.nom) < noms.index("04_int_commune.sql")
    assert noms.index("04_int_commune.sql") < noms.index("089b_int_acces.sql")
    assert noms.index("089_int_prevention.sql") < noms.index("089b_int_acces.sql")
