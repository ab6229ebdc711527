"""The exact Poisson interval of the mortality indices computed without scipy (issue 16): ``mortalite._chi2_ppf``
agrees with ``scipy.stats.chi2.ppf`` (scipy: a development dependency, the oracle of this test) to 1e-12 relative
on a grid of observed deaths, and a report does not import scipy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from diagnostic.report import mortalite


def test_agrees_with_scipy_stats():
    from scipy.stats import chi2

    grille = [*range(0, 5001), 0.5, 13.5, 1234.5, 12345, 18211, 1e5, 1.5e5, 1e6]
    for o in grille:
        for niveau in (0.9, 0.95, 0.99):
            a = (1 - niveau) / 2
            for df, p in ((2 * o, a), (2 * o + 2, 1 - a)):
                if df > 0:
                    assert mortalite._chi2_ppf(p, df) == pytest.approx(chi2.ppf(p, df), rel=1e-12, abs=0), (o, niveau)


def test_interval_does_not_import_scipy():
    code = ("import sys; from diagnostic.report import mortalite; print(mortalite.intervalle(74, 54)); "
            "print(any(m.split('.')[0] == 'scipy' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "False"
