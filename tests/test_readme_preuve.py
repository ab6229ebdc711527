"""The README's table of evidence levels says, for every source of the registry, the level of its
`[<source>.preuve]` table in `pipelines/sources.toml` (a row may cover several sources with a `*`)."""

from __future__ import annotations

import fnmatch
import re
import tomllib

from conftest import PROJECT

LIGNE = re.compile(r"^\| `([a-z0-9_*]+)` \| (fichier réel|documentation|code tiers|non vérifié) \|", re.M)


def test_every_source_has_its_registry_level_in_the_readme():
    registre = tomllib.loads((PROJECT / "pipelines" / "sources.toml").read_text(encoding="utf-8"))
    niveaux = {sid: t["preuve"]["niveau"] for sid, t in registre.items() if isinstance(t, dict) and "preuve" in t}
    lignes = LIGNE.findall((PROJECT / "README.md").read_text(encoding="utf-8"))
    assert lignes, "aucune ligne du tableau des niveaux de preuve dans README.md"
    dit = {}
    for motif, niveau in lignes:
        couvertes = fnmatch.filter(niveaux, motif)
        assert couvertes, f"README.md : « {motif} » ne désigne aucune source du registre"
        for sid in couvertes:
            dit[sid] = niveau
    assert dit == niveaux
