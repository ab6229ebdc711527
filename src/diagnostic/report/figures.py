"""Writing a drawn figure: PNG always, SVG only when asked (issue 16).

Each ``savefig`` renders the whole figure again; the SVG copies doubled the cost of every map and chart
while no page of the report uses them (HTML, PDF and Word embed the PNG). ``write_report(svg=True)``
(``diagnostic run --svg``) asks for them; ``avec_svg`` holds that choice for the figure functions, which
run in this process or in workers forked inside it (``report.parallele``), so they inherit it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

_svg: list[bool] = [False]  # a stack: the innermost write_report's choice last


@contextmanager
def avec_svg(oui: bool):
    _svg.append(bool(oui))
    try:
        yield
    finally:
        _svg.pop()


def svg_demande() -> bool:
    return _svg[-1]


def chemin_svg(png: Path) -> Path | None:
    """The SVG beside ``png`` when SVG files are asked for, else None."""
    return Path(png).with_suffix(".svg") if svg_demande() else None


def enregistrer(fig, png: Path, *, svg_kwargs: dict | None = None, **png_kwargs) -> Path | None:
    """``fig`` saved as ``png`` and, when asked for, as SVG beside it (returned, else None)."""
    fig.savefig(png, **png_kwargs)
    svg = chemin_svg(png)
    if svg is not None:
        fig.savefig(svg, **(svg_kwargs or {}))
    return svg
