"""Text of Word runs written by segments (issue 16): the same XML as python-docx, without its loop per character.

python-docx turns a run's text into ``<w:t>``, ``<w:tab/>`` and ``<w:br/>`` elements one character at a time
(``docx.oxml.text.run._RunContentAppender``): about a hundred thousand calls for the diagnostic's Word file.
``par_segments()`` replaces, while it is open, that loop by a split on tabs and line breaks: each run of
ordinary characters still becomes one ``<w:t>`` (``CT_R.add_t``, which sets ``xml:space``), each tab a
``<w:tab/>``, each ``\\r`` or ``\\n`` a ``<w:br/>``, in the same order (``tests/test_figures.py`` compares the
``document.xml`` written with and without it).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

_SEPARATEURS = re.compile(r"([\t\r\n])")


def _ajouter_texte(self, text: str) -> None:
    for morceau in _SEPARATEURS.split(text):
        if morceau == "\t":
            self._r.add_tab()
        elif morceau in ("\r", "\n"):
            self._r.add_br()
        elif morceau:
            self._r.add_t(morceau)


@contextmanager
def par_segments():
    """While open, python-docx writes run text by segments (see the module)."""
    from docx.oxml.text.run import _RunContentAppender

    avant = _RunContentAppender.add_text
    _RunContentAppender.add_text = _ajouter_texte
    try:
        yield
    finally:
        _RunContentAppender.add_text = avant
