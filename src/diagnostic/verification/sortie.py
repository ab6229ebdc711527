"""What `diagnostic verifier` prints: one French line per source (stdout), a summary (stderr), or JSON."""

from __future__ import annotations

import json
import sys

from ..config import Workspace
from ..registry import load_registry
from . import verifier


def imprimer(ws: Workspace, seulement: list[str] | None, en_json: bool) -> int:
    """Check the sources and print the outcome; the exit code: 1 when a difference would break a run, else 0."""
    resultats = verifier(ws, load_registry(ws.registry), seulement)
    bloquants = [r.source for r in resultats if r.bloquant]
    if en_json:
        json.dump({"bloquant": bool(bloquants), "sources": [r.as_dict() for r in resultats]}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for r in resultats:
            print(r.ligne())
        conformes = sum(r.conforme for r in resultats)
        print(f"{conformes} source(s) conforme(s) sur {len(resultats)}"
              + (f" ; écart bloquant pour : {', '.join(bloquants)}." if bloquants else "."), file=sys.stderr)
    return 1 if bloquants else 0
