"""What changed between an earlier run and the current one, indicator by indicator, and why.

Grain: one row per (territoire_type, territoire_code, indicateur) present in either run. The change is in
points for rates and shares (unit « % ») and for evolutions (unit « points »), in % of the earlier value for
everything else. Its causes are computed from what both runs recorded, never guessed:

- ``nouveau_millesime``: the row's vintage changed (both named);
- ``perimetre``: the perimeter's communes changed (listed); the figures are recomputed on the old perimeter with
  today's data, so that the perimeter's effect (today's data, new minus old perimeter) and the data's effect
  (the rest) are told apart; only the data's effect is then attributed to the causes below;
- ``revision``: same vintage, different value (the source file's fingerprint says whether the file changed);
- ``definition``: a defining field of the indicator changed (fingerprints of `definitions.py`);
- ``statut``: the status changed (``ok`` → ``secret``, ``non_disponible`` → ``ok``...).

A change is significant when it reaches the threshold of its unit (`pipelines/diagnostic.toml`, table
``[evolution.seuils]``), or when the status changed.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import definitions
from .historique import Releve

# Default thresholds (`[evolution.seuils]` of pipelines/diagnostic.toml overrides them), by unit: points for
# « % » and « points », % of the earlier value for any other unit (key "*").
SEUILS = {"%": 1.0, "points": 0.1, "communes": 0.0, "*": 5.0}
TOLERANCE = 1e-9
COLONNES = ["territoire_type", "territoire_code", "territoire_nom", "indicateur", "libelle", "unite",
            "valeur_avant", "valeur_apres", "variation", "unite_variation", "significatif",
            "millesime_avant", "millesime_apres", "statut_avant", "statut_apres",
            "valeur_ancien_perimetre", "effet_perimetre", "effet_donnees", "causes", "explication"]
LIBELLES_CAUSES = {"nouveau_millesime": "nouveau millésime", "perimetre": "périmètre modifié",
                   "revision": "chiffre révisé", "definition": "définition modifiée", "statut": "changement de statut"}
STATUTS_FR = {"ok": "publié", "secret": "secret statistique", "non_disponible": "non disponible",
              "estimation": "estimation", "absent": "absent"}


def seuils(settings: Path | None) -> dict[str, float]:
    """Thresholds by unit: defaults, then `[evolution.seuils]` of the settings file."""
    out = dict(SEUILS)
    if settings is not None and Path(settings).is_file():
        data = tomllib.loads(Path(settings).read_text(encoding="utf-8")).get("evolution", {}).get("seuils", {})
        out.update({str(k): float(v) for k, v in data.items()})
    return out


def en_points(unite: str) -> bool:
    return str(unite).strip() in ("%", "points")


def variation(avant: float | None, apres: float | None, unite: str) -> float | None:
    if avant is None or apres is None:
        return None
    if en_points(unite):
        return apres - avant
    if avant == 0:
        return None
    return 100 * (apres - avant) / abs(avant)


def seuil_de(s: dict[str, float], unite: str) -> float:
    return s.get(str(unite).strip(), s.get("*", SEUILS["*"]))


@dataclass
class ChangementPerimetre:
    ajoutees: list[str] = field(default_factory=list)
    retirees: list[str] = field(default_factory=list)
    noms: dict[str, str] = field(default_factory=dict)
    inconnu: bool = False  # the earlier run did not record its communes
    avant_apres: tuple | None = None  # (communes before, after) when only the count is known

    @property
    def change(self) -> bool:
        return bool(self.ajoutees or self.retirees)

    def texte(self) -> str:
        if self.inconnu:
            n = ""
            if self.avant_apres and None not in self.avant_apres:
                n = f"{int(self.avant_apres[0])} communes avant, {int(self.avant_apres[1])} maintenant ; "
            return n + "communes du périmètre de la référence non enregistrées (rapport d'une version antérieure)"
        nomme = lambda cs: ", ".join(f"{c} {self.noms[c]}" if c in self.noms else c for c in cs)  # noqa: E731
        parts = []
        if self.ajoutees:
            parts.append(f"commune{'s' if len(self.ajoutees) > 1 else ''} ajoutée{'s' if len(self.ajoutees) > 1 else ''} : "
                         + nomme(self.ajoutees))
        if self.retirees:
            parts.append(f"commune{'s' if len(self.retirees) > 1 else ''} retirée{'s' if len(self.retirees) > 1 else ''} : "
                         + nomme(self.retirees))
        return " ; ".join(parts)


def perimetre(avant: Releve, apres: Releve, noms: dict[str, str] | None = None) -> ChangementPerimetre:
    a, b = avant.communes, apres.communes
    if a is None or b is None:
        return ChangementPerimetre(inconnu=True)
    return ChangementPerimetre(sorted(set(b) - set(a)), sorted(set(a) - set(b)), noms or {})


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _txt(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _sha_sources(r: Releve) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in r.sources:
        if s.get("sha256"):
            out.setdefault(str(s.get("source")), set()).add(str(s["sha256"]))
    return out


def _differe(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b))


def _par_cle(df: pd.DataFrame, key: list[str]) -> dict[tuple, dict]:
    """The rows of `df` as dicts by `key` (first row of a duplicated key, in the frame's order): a dict lookup per
    indicator instead of a MultiIndex ``.loc`` (about half a second per warm report for 360 rows; issue 16)."""
    return {tuple(r[c] for c in key): r for r in df.drop_duplicates(key).to_dict("records")}


def comparer(avant: Releve, apres: Releve, *, recalcul: pd.DataFrame | None = None,
             noms_communes: dict[str, str] | None = None, seuils_unite: dict[str, float] | None = None
             ) -> tuple[pd.DataFrame, ChangementPerimetre]:
    """The evolution table (``COLONNES``) from `avant` to `apres`, and the perimeter's change.

    `recalcul`: today's data on both perimeters for the perimeter rows (columns indicateur, valeur_ancien,
    valeur_nouveau), when the perimeter changed; None otherwise."""
    s = seuils_unite or dict(SEUILS)
    chg = perimetre(avant, apres, noms_communes)
    key = ["territoire_type", "territoire_code", "indicateur"]
    a = avant.indicateurs.drop_duplicates(key).set_index(key)
    b = apres.indicateurs.drop_duplicates(key).set_index(key)
    lignes_a, lignes_b = _par_cle(avant.indicateurs, key), _par_cle(apres.indicateurs, key)
    keys = list(dict.fromkeys([*lignes_b, *lignes_a]))
    sha_a, sha_b = _sha_sources(avant), _sha_sources(apres)
    rec = recalcul.set_index("indicateur") if recalcul is not None and len(recalcul) else None
    taille = {}  # the earlier run recorded no communes: its size says whether the perimeter changed
    for ind in ("nb_communes", "population"):
        va_ = a[(a.index.get_level_values(0) == "perimetre") & (a.index.get_level_values(2) == ind)]["valeur"]
        vb_ = b[(b.index.get_level_values(0) == "perimetre") & (b.index.get_level_values(2) == ind)]["valeur"]
        if len(va_) and len(vb_):
            taille[ind] = (_num(va_.iloc[0]), _num(vb_.iloc[0]))
    perimetre_inconnu_change = chg.inconnu and any(_differe(x, y) for x, y in taille.values())
    if perimetre_inconnu_change and "nb_communes" in taille:
        chg.avant_apres = taille["nb_communes"]
    rows = []
    for k in keys:
        ra, rb = lignes_a.get(k), lignes_b.get(k)
        ref = rb if rb is not None else ra
        unite = _txt(ref["unite"])
        st_a = _txt(ra["statut"]) if ra is not None else "absent"
        st_b = _txt(rb["statut"]) if rb is not None else "absent"
        va = _num(ra["valeur"]) if ra is not None else None
        vb = _num(rb["valeur"]) if rb is not None else None
        ma = _txt(ra["millesime"]) if ra is not None else ""
        mb = _txt(rb["millesime"]) if rb is not None else ""
        var = variation(va, vb, unite)
        causes, expl = [], []
        if st_a != st_b:
            causes.append("statut")
            expl.append(f"statut : {STATUTS_FR.get(st_a, st_a)} → {STATUTS_FR.get(st_b, st_b)}")
        champs = definitions.modifies(avant.definitions, apres.definitions, k[2])
        if champs:
            causes.append("definition")
            expl.append("définition modifiée (" + ", ".join(champs) + ")")
        v_ancien = eff_p = eff_d = None
        base = va  # the value the data's effect is measured from
        if k[0] == "perimetre" and chg.change and rec is not None and k[2] in rec.index:
            v_ancien = _num(rec.loc[k[2], "valeur_ancien"])
            v_nouveau = _num(rec.loc[k[2], "valeur_nouveau"])
            if v_ancien is not None and v_nouveau is not None and vb is not None:
                eff_p = v_nouveau - v_ancien
                eff_d = (vb - va - eff_p) if va is not None else None
            if _differe(v_ancien, v_nouveau):
                causes.append("perimetre")
                effet = variation(v_ancien, v_nouveau, unite)
                expl.append(f"périmètre modifié ({chg.texte()})"
                            + (f", effet du périmètre à données d'aujourd'hui : {_signe(effet)} "
                               f"{'points' if en_points(unite) else '%'}" if effet is not None else ""))
                base = None if v_ancien is None or va is None else va + (v_nouveau - v_ancien)
        elif k[0] == "perimetre" and perimetre_inconnu_change and _differe(va, vb):
            causes.append("perimetre")
            expl.append("périmètre modifié (" + chg.texte() + ") : effet du périmètre non séparable de celui des données")
            base = vb
        donnees = _differe(base, vb) if base is not None else _differe(va, vb)
        if ma != mb and ra is not None and rb is not None:
            causes.append("nouveau_millesime")
            expl.append(f"nouveau millésime : {ma or '?'} → {mb or '?'}")
        elif donnees and va is not None and vb is not None and not champs:
            causes.append("revision")
            sids = [x for x in _txt(ref["source"]).split("+") if x]
            fichiers = [sid for sid in sids if sid in sha_a and sid in sha_b and sha_a[sid] != sha_b[sid]]
            if fichiers:
                expl.append(f"chiffre révisé : même millésime {mb}, fichier source modifié ({', '.join(fichiers)})")
            elif all(sid in sha_a and sid in sha_b for sid in sids) and sids:
                expl.append(f"chiffre révisé : même millésime {mb} et mêmes fichiers source, calcul modifié")
            else:
                expl.append(f"chiffre révisé : même millésime {mb}")
        signif = st_a != st_b or (var is not None and _differe(va, vb) and abs(var) >= seuil_de(s, unite) - TOLERANCE)
        rows.append({
            "territoire_type": k[0], "territoire_code": k[1], "territoire_nom": _txt(ref["territoire_nom"]),
            "indicateur": k[2], "libelle": _txt(ref["libelle"]), "unite": unite,
            "valeur_avant": va, "valeur_apres": vb, "variation": var,
            "unite_variation": ("points" if en_points(unite) else "%") if var is not None else "",
            "significatif": bool(signif), "millesime_avant": ma, "millesime_apres": mb,
            "statut_avant": st_a, "statut_apres": st_b, "valeur_ancien_perimetre": v_ancien,
            "effet_perimetre": eff_p, "effet_donnees": eff_d,
            "causes": "+".join(causes), "explication": " ; ".join(expl) if expl else
            ("inchangé" if not _differe(va, vb) else ""),
        })
    df = pd.DataFrame(rows, columns=COLONNES)
    return df, chg


def _signe(v: float | None) -> str:
    from ..report import fmt

    return "" if v is None else fmt.nombre(v, 2, signe=True)


def significatifs_d_abord(df: pd.DataFrame) -> pd.DataFrame:
    """Changed rows first: significant ones by decreasing size of the change, then the others."""
    ordre = df.assign(_s=~df["significatif"], _a=-df["variation"].abs().fillna(0))
    return ordre.sort_values(["_s", "_a"], kind="stable").drop(columns=["_s", "_a"])
