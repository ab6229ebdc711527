"""The thresholds an analyst may change, read from one place: `pipelines/diagnostic.toml`.

- `[secret_statistique]`: `professionnels` (5), `patients` (11): a count under the threshold is masked;
- `[seuils]`: `apl_sous_densite` (2.5 consultations per year and inhabitant): the APL under which a commune
  is counted as under-served (`part_pop_apl_mg_inf_2_5`, the APL map); `deces_min` (20 deaths over the pooled
  years): under it the crude death rate and the comparative mortality indices are withheld; `icm_couverture_min`
  (99 %): the share of France's population municipale that France's death rates by sex and age must cover for the
  comparative mortality indices to be given; `synthese_marge_relative` (10 %), `synthese_marge_points` (5 points),
  `synthese_marge_evolution` (0.1): the gaps to the département beyond which an indicator enters the report's
  synthesis (report/synthese.py). A key missing from the file takes its default here, never
  nothing (the SQL macro `seuil()` would give NULL and the comparison would let every figure through).

The build stores them in the warehouse (`meta_seuil`, read by the SQL models through the `seuil()` macro);
the catalogue's texts and the report's sentences write them with `texte` / `remplir`, so that a changed
setting changes the figures and every sentence that states it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .secret import DEFAULTS as SECRET

DEFAUTS: dict[str, float] = {**SECRET, "apl_sous_densite": 2.5, "deces_min": 20, "icm_couverture_min": 99,
                             "synthese_marge_relative": 10.0, "synthese_marge_points": 5.0, "synthese_marge_evolution": 0.1}
SECTIONS = ("secret_statistique", "seuils")


def lire(settings_file: Path | None) -> dict[str, float]:
    """Every threshold: the settings file's values over the defaults (secret thresholds are integers)."""
    out = dict(DEFAUTS)
    if settings_file is not None and Path(settings_file).is_file():
        data = tomllib.loads(Path(settings_file).read_text(encoding="utf-8"))
        for section in SECTIONS:
            out.update({k: v for k, v in data.get(section, {}).items() if isinstance(v, (int, float))})
    return completer(out)


def completer(seuils: dict | None) -> dict[str, float]:
    """Defaults for the missing keys; secret thresholds as integers."""
    out = {**DEFAUTS, **(seuils or {})}
    return {k: int(v) if k in SECRET else float(v) for k, v in out.items()}


def texte(x: float) -> str:
    """French writing of a threshold: ``2.5`` -> ``"2,5"``, ``5`` -> ``"5"``."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}".replace(".", ",")


_JETON = re.compile(r"\{seuil\.(\w+)\}")


def remplir(text: str, seuils: dict | None) -> str:
    """``{seuil.<cle>}`` in a catalogue text -> the threshold in French (unknown key: left as is)."""
    s = completer(seuils)
    return _JETON.sub(lambda m: texte(s[m.group(1)]) if m.group(1) in s else m.group(0), text)
