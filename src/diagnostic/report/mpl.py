"""matplotlib for the figure modules, imported on first use (issue 16).

A warm report takes every map and chart from the figure cache (``figures``): importing matplotlib (about half
a second of the run) is then wasted. The figure modules (``maps``, ``filosofi``, ``series``, ``pyramide``,
``evolution``, the actors map) reach matplotlib through this module (``mpl.Figure``, ``mpl.plt``…); the first
such access imports it, with the Agg backend, as their module-level imports did.
"""

from __future__ import annotations

import importlib

_NOMS = {  # name here -> (module, attribute or None for the module itself)
    "matplotlib": ("matplotlib", None),
    "plt": ("matplotlib.pyplot", None),
    "pe": ("matplotlib.patheffects", None),
    "ticker": ("matplotlib.ticker", None),
    "FigureCanvasAgg": ("matplotlib.backends.backend_agg", "FigureCanvasAgg"),
    "Figure": ("matplotlib.figure", "Figure"),
    "PathCollection": ("matplotlib.collections", "PathCollection"),
    "Line2D": ("matplotlib.lines", "Line2D"),
    "MplPath": ("matplotlib.path", "Path"),
    "Patch": ("matplotlib.patches", "Patch"),
    "Rectangle": ("matplotlib.patches", "Rectangle"),
    "Bbox": ("matplotlib.transforms", "Bbox"),
}


def __getattr__(nom: str):
    if nom not in _NOMS:
        raise AttributeError(f"module {__name__!r} has no attribute {nom!r}")
    import matplotlib

    matplotlib.use("Agg")
    module, attribut = _NOMS[nom]
    valeur = importlib.import_module(module)
    if attribut:
        valeur = getattr(valeur, attribut)
    globals()[nom] = valeur  # later accesses are plain lookups
    return valeur
