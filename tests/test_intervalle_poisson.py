"""The exact Poisson interval of the mortality indices computed without importing scipy.stats (issue 16):
``mortalite._chi2_ppf`` gives the very float ``scipy.stats.chi2.ppf`` gives, and a report does not import
scipy.stats."""

from __future__ import annotations

import subprocess
import sys

from diagnostic.report import mortalite


def test_same_float_as_scipy_stats():
    from scipy.stats import chi2

    for o in (0.5, 1, 2, 3, 7, 13.5, 20, 74, 99, 250, 1234.5, 12345, 1e5):
        for niveau in (0.9, 0.95, 0.99):
            a = (1 - niveau) / 2
            for df, p in ((2 * o, a), (2 * o + 2, 1 - a)):
                assert mortalite._chi2_ppf(p, df) == chi2.ppf(p, df), (o, niveau, df, p)


def test_interval_does_not_import_scipy_stats():
    code = ("import sys; from diagnostic.report import mortalite; print(mortalite.intervalle(74, 54)); "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "False"
