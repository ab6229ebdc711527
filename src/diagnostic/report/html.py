"""``diagnostic.html``: one self-contained French document (CSS inline, maps as data URIs).

The same HTML is printed to ``diagnostic.pdf`` by WeasyPrint (see ``pdf.py``): the print rules
(cover page, table of contents with page numbers, running header, page numbers) live in its CSS.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path

import jinja2

from .context import ReportContext
from .document import document
from .maps import Carte

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    """One per process: it keeps the compiled template (a batch of reports compiled it once per report)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every name that reaches the page is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_html(ctx: ReportContext, cartes: list[Carte], doc: dict | None = None, images=data_uri) -> str:
    """``images(path)``: an image's ``src`` (a data URI; ``pdf.image_fichier`` for the HTML that is printed)."""
    doc = document(ctx, cartes) if doc is None else doc
    return environment().get_template("diagnostic.html.j2").render(doc=doc, data_uri=images)


def write_html(ctx: ReportContext, cartes: list[Carte], path: Path, doc: dict | None = None) -> Path:
    path.write_text(render_html(ctx, cartes, doc), encoding="utf-8")
    return path
