"""The report looks the same as at a reference commit: a guard for the performance work (issue 16).

On the full mirror of ``test_miroir_complet`` (every source present, every section filled), the CPTS
diagnostic is written with PDF twice on one warehouse: once by the code of ``REFERENCE`` (a fixed
commit, extracted with ``git archive``) and once by the code under test. The PDF pages, printed to PNG
by poppler at low resolution, must match page for page within a small pixel tolerance, and
``indicateurs.csv`` must be identical byte for byte.

``REFERENCE`` is the main commit on which the performance work was last rebased; set
``DIAGNOSTIC_RENDU_REFERENCE=<commit>`` to compare with another one (after a change of the report's
content, the reference is the commit that made it). Needs git history and ``poppler-utils``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import PROJECT, cli_env
from test_miroir_complet import SLUG, miroir_complet

REFERENCE = "4d17fde"
DPI = 30
ECART_MOYEN_MAX = 1.0  # mean absolute difference per page, on the 0-255 scale
PART_PIXELS_MAX = 0.005  # share of pixels of a page differing by more than 40 levels in one channel


def _outil(nom: str) -> str:
    path = shutil.which(nom)
    if not path:
        pytest.fail(f"`{nom}` introuvable : `make system-deps` installe poppler-utils.")
    return path


def _code_reference(commit: str, dest: Path) -> Path:
    """The package ``src/diagnostic`` and the settings ``pipelines/`` (registry, thresholds) as they were at
    ``commit``, extracted into ``dest``; returns ``dest/src``. Each code runs with its own registry, whose format
    may change with the code."""
    git = subprocess.run(["git", "-C", str(PROJECT), "archive", "--format=tar", commit, "src/diagnostic", "pipelines"],
                         capture_output=True)
    if git.returncode != 0:
        pytest.fail(f"commit de référence {commit} introuvable : {git.stderr.decode(errors='replace')}")
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=git.stdout, check=True)
    return dest / "src"


def _rapport(ws: Path, miroir: Path, src: Path | None) -> Path:
    """``diagnostic run`` with PDF, by the package in ``src`` (None: the code under test)."""
    env = cli_env(ws, str(miroir))
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = ws / "reports" / SLUG
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-m", "diagnostic.cli", "run", SLUG, "--strict"], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"diagnostic run ({src or 'code testé'}) a échoué :\n{proc.stdout}\n{proc.stderr}"
    copie = ws.parent / ("rapport_reference" if src is not None else "rapport_teste")
    shutil.copytree(out, copie)
    return copie


def pages(pdf: Path, dossier: Path) -> list[np.ndarray]:
    dossier.mkdir()
    subprocess.run([_outil("pdftoppm"), "-r", str(DPI), "-png", str(pdf), str(dossier / "page")], check=True)
    return [np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in sorted(dossier.glob("page-*.png"))]


def ecarts(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean absolute difference, share of pixels differing by more than 40 levels); pages of different
    sizes differ entirely."""
    if a.shape != b.shape:
        return 255.0, 1.0
    d = np.abs(a - b)
    return float(d.mean()), float((d.max(axis=2) > 40).mean())


def differences(ref: list[np.ndarray], new: list[np.ndarray]) -> list[str]:
    out = [f"{len(new)} pages au lieu de {len(ref)}"] if len(ref) != len(new) else []
    for k, (a, b) in enumerate(zip(ref, new), start=1):
        moyen, part = ecarts(a, b)
        if moyen > ECART_MOYEN_MAX or part > PART_PIXELS_MAX:
            out.append(f"page {k} : écart moyen {moyen:.2f}, {part:.2%} des pixels changés")
    return out


def test_page_comparison_can_fail():
    """The comparison itself: a page with a blank band or one page fewer is a difference."""
    page = np.full((300, 200, 3), 255, dtype=np.int16)
    page[50:60, 20:180] = 0  # a line of "text"
    autre = page.copy()
    autre[50:60, 20:180] = 255
    assert differences([page, page], [page, page]) == []
    assert differences([page, page], [page, autre]) == ["page 2 : écart moyen 6.80, 2.67% des pixels changés"]
    assert differences([page, page], [page]) == ["1 pages au lieu de 2"]


def test_report_pages_and_csv_unchanged(tmp_path):
    reference = os.environ.get("DIAGNOSTIC_RENDU_REFERENCE", REFERENCE)
    miroir = miroir_complet(tmp_path / "miroir")
    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True)
    shutil.copytree(PROJECT / "pipelines", ws / "pipelines")
    shutil.copytree(PROJECT / "data" / "territoires", ws / "data" / "territoires")
    teste = _rapport(ws, miroir, None)
    code = _code_reference(reference, tmp_path / "reference")
    shutil.rmtree(ws / "pipelines")
    shutil.copytree(code.parent / "pipelines", ws / "pipelines")  # the reference's registry and settings
    ref = _rapport(ws, miroir, code)

    assert (teste / "indicateurs.csv").read_bytes() == (ref / "indicateurs.csv").read_bytes(), (
        f"indicateurs.csv différent de celui du commit {reference}")
    p_ref, p_new = pages(ref / "diagnostic.pdf", tmp_path / "pages_ref"), pages(teste / "diagnostic.pdf", tmp_path / "pages_new")
    assert len(p_ref) > 20
    assert differences(p_ref, p_new) == [], (
        f"rendu différent de celui du commit {reference} ; si le contenu du rapport a changé exprès depuis, "
        "mettre REFERENCE à jour (commit de ce changement) ou DIAGNOSTIC_RENDU_REFERENCE=<commit>")
