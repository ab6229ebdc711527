"""Each raw file read once per run (issue 16).

A cold ``diagnostic run`` parses every downloaded file twice: once when it arrives (the parser's
``check_file``, before the file replaces the previous one) and once more when the warehouse is built. The
large ones cost seconds each time (contours: about a hundred GeoJSON files; the APL workbook; the COG).
Inside ``une_lecture()`` (``pipeline.prepare``: ingest then build), a reader decorated with ``@lu_une_fois``
keeps what it returned for a file, keyed on the file's content (sha256: the check reads the temporary file,
the build the same bytes under their final name), its other arguments and the reader; the next call with
the same key takes it (once: the taker may change it). Outside that block, or for another content, the file
is read as before. The raw store's integrity checks (``integrite``) run before the build reads anything,
whatever this memo holds.
"""

from __future__ import annotations

import functools
import hashlib
from contextlib import contextmanager
from pathlib import Path

_memos: list[dict] = []  # one per open une_lecture() block, innermost last


@contextmanager
def une_lecture():
    """While open, decorated readers keep their result for the next identical read."""
    _memos.append({})
    try:
        yield
    finally:
        _memos.pop()


def _empreinte(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for bloc in iter(lambda: fh.read(1 << 20), b""):
            h.update(bloc)
    return h.hexdigest()


def lu_une_fois(lecteur):
    """Decorator of ``lecteur(path, *args, **libelles)``: its result for given file content and ``args`` is
    computed once inside ``une_lecture()``. Keyword arguments are not in the key: they may only name the file in
    error messages (an error is never kept). Only for readers whose result does not hold the path itself."""

    @functools.wraps(lecteur)
    def lire(path, *args, **libelles):
        if not _memos:
            return lecteur(path, *args, **libelles)
        memo = _memos[-1]
        cle = (lecteur.__module__, lecteur.__qualname__, _empreinte(Path(path)), args)
        if cle in memo:
            return memo.pop(cle)
        resultat = lecteur(path, *args, **libelles)
        memo[cle] = resultat
        return resultat

    return lire
