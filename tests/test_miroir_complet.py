"""With a mirror holding every source of the registry, `make diagnostic` fills every section.

The mirror is ../shared/opendata (real files: COG, contours, GP APL) plus, for every other source, the
hand-made fixture in the official format (tests/fixtures, invented figures) placed at its registry URL. The
run is the command an analyst types, with --strict: it fails if any source is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES, PROJECT, miroir_lie, run_cli, projet_complet
from diagnostic.fetch import mirror_location
from diagnostic.registry import load_registry

SLUG = "cpts-centre-saone-et-loire"


def miroir_complet(dest: Path) -> Path:
    """Links to the real mirror's files, then each fixture at its registry URL (sources absent from it)."""
    miroir_lie(dest)
    for sid, source in load_registry(PROJECT / "pipelines" / "sources.toml").items():
        for name, url in source.files().items():
            target = Path(mirror_location(url, str(dest)))
            if target.exists():
                continue
            folder = FIXTURES / sid
            fichiers = [p for p in folder.iterdir() if p.is_file()]
            src = folder / name if (folder / name).is_file() else (fichiers[0] if len(fichiers) == 1 else None)
            assert src is not None, f"pas de fixture pour {sid}/{name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    return dest


def test_every_section_is_filled_with_a_full_mirror(tmp_path):
    miroir = miroir_complet(tmp_path / "miroir")
    ws = projet_complet(tmp_path / "ws")
    proc = run_cli(ws, "run", SLUG, "--strict", "--sans-pdf", mirror=str(miroir))
    assert "Source indisponible" not in proc.stderr
    html = (ws / "reports" / SLUG / "diagnostic.html").read_text(encoding="utf-8")
    assert "Source non disponible" not in html and "Sources non disponibles" not in html
    # the fixture of the Cartographie des pathologies holds département values for diabetes and ALD only: the
    # others are said to be absent from the file received, not from an unavailable source
    blocs = [b[:b.index("</ul>")] for b in html.split("Valeurs absentes des fichiers reçus")[1:]]
    assert any("Cartographie des pathologies" in b for b in blocs)
    assert "Section à compléter" not in html
    cartes = {p.name for p in (ws / "reports" / SLUG / "cartes").glob("*.png")}
    assert cartes == {"situation.png", "apl_mg.png", "medecins.png", "etablissements.png", "acteurs.png", "niveau_vie_median.png", "taux_pauvrete.png"}
    assert "ÉTABLISSEMENT FICTIF 1" in html  # the FINESS list (fixture names: invented)
