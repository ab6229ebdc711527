"""Questions of a survey export, typed: single choice, multiple choice, scale, number, free text, profession of
the respondent, commune of practice. Types are inferred from the answers and the question's text; the
optional ``<fichier>.toml`` beside the export overrides them.

``<fichier>.toml`` (every key optional)::

    public = "professionnels"          # or "usagers"
    titre = "Enquête auprès des professionnels de santé du territoire"
    ventilation = ["Besoins prioritaires"]   # questions broken down by profession
    [questions."Texte de la question (ou code LimeSurvey)"]
    type = "choix_multiple"  # choix_unique, choix_multiple, echelle, nombre, texte, profession, commune, ignorer
    libelle = "Besoins prioritaires"
    theme = "Besoins"
    options = ["Option A, avec une virgule", "Option B"]   # the options, in order (commas inside kept)
    echelle = ["Pas du tout d'accord", "Plutôt pas d'accord", "Plutôt d'accord", "Tout à fait d'accord"]
    synthese = "vigilance"   # or "appui": its most cited answers feed the synthesis
    codes = { A1 = "Infirmier", SQ001 = "Prévention" }   # LimeSurvey answer / sub-question codes -> text
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .lecture import Colonne, EnqueteError, Export, norm

TYPES = ("choix_unique", "choix_multiple", "echelle", "nombre", "texte", "profession", "commune", "ignorer")

# Known scales, from negative to positive (the order of the diverging bars).
ECHELLES = [
    ["Pas du tout d'accord", "Plutôt pas d'accord", "Plutôt d'accord", "Tout à fait d'accord"],
    ["Pas du tout d'accord", "Plutôt pas d'accord", "Ni d'accord ni pas d'accord", "Plutôt d'accord",
     "Tout à fait d'accord"],
    ["Pas du tout d'accord", "Pas d'accord", "Neutre", "D'accord", "Tout à fait d'accord"],
    ["Pas du tout satisfait", "Peu satisfait", "Plutôt satisfait", "Satisfait", "Très satisfait"],
    ["Très insatisfait", "Insatisfait", "Neutre", "Satisfait", "Très satisfait"],
    ["Pas du tout satisfait", "Plutôt pas satisfait", "Plutôt satisfait", "Très satisfait"],
    ["Jamais", "Rarement", "Parfois", "Souvent", "Toujours"],
    ["Pas du tout important", "Peu important", "Important", "Très important"],
    ["Très difficile", "Difficile", "Facile", "Très facile"],
]
OUI = {"oui", "y", "yes", "x", "1"}
AUTRE = "Autre (réponse libre)"

# Respondent's profession -> RPPS profession group (int_professionnel); None: no RPPS count for it.
PROFESSIONS = [
    (r"generaliste", "medecin_generaliste", "Médecin généraliste"),
    (r"specialiste|psychiatre|pediatre|cardiolog|gyneco|ophtalmo|dermato", "specialiste", "Médecin spécialiste"),
    (r"infirmi", "infirmier", "Infirmier"),
    (r"kine", "masseur_kinesitherapeute", "Masseur-kinésithérapeute"),
    (r"pharmacien", "pharmacien", "Pharmacien"),
    (r"sage.?femme|maieuticien", "sage_femme", "Sage-femme"),
    (r"dentiste", "chirurgien_dentiste", "Chirurgien-dentiste"),
]
TEXTE_PROFESSION = re.compile(r"(votre profession|quelle profession|votre metier|quel metier|vous etes\b|^profession|"
                              r"^metier|votre specialite)")
TEXTE_COMMUNE = re.compile(r"(^(votre |la |quelle )?(commune|ville|lieu)\b|commune d'exercice|lieu d'exercice|"
                           r"dans quelle commune|commune principale)")
TEXTE_ECHELLE = re.compile(r"(de 1 a 5|de 0 a 10|de 1 a 10|sur 5|sur 10|\bnote\b|notez|echelle)")


@dataclass
class Question:
    code: str  # stable id: slug of the text (and code when LimeSurvey gives one)
    texte: str
    type: str
    colonnes: list[int]
    options: list[str] = field(default_factory=list)  # single/multiple choice, ordered scale levels
    libelle: str = ""
    theme: str = ""
    synthese: str = ""
    ventiler: bool = False
    reponses: list = field(default_factory=list)  # per response: str | list[str] | float | None


@dataclass
class Configuration:
    public: str = "professionnels"
    titre: str = ""
    ventilation: list[str] = field(default_factory=list)
    questions: dict[str, dict] = field(default_factory=dict)


def slug(text: str, longueur: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", norm(text)).strip("_")
    if len(s) > longueur:
        s = s[:longueur].rstrip("_") + "_" + hashlib.sha1(norm(text).encode()).hexdigest()[:6]
    return s or "q"


def configuration(path: Path) -> Configuration:
    """The ``<export>.toml`` beside an export (an absent file gives the defaults)."""
    if not path.is_file():
        return Configuration()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EnqueteError(f"Fichier {path.name} : TOML illisible ({exc}).") from None
    public = str(data.get("public", "professionnels"))
    if public not in ("professionnels", "usagers"):
        raise EnqueteError(f"Fichier {path.name}, clé « public » : « {public} » (valeurs admises : professionnels, usagers).")
    qs = data.get("questions", {})
    for q, spec in qs.items():
        t = spec.get("type")
        if t is not None and t not in TYPES:
            raise EnqueteError(f"Fichier {path.name}, question « {q} », clé « type » : « {t} » inconnu "
                               f"(types admis : {', '.join(TYPES)}).")
    return Configuration(public, str(data.get("titre", "")), [str(v) for v in data.get("ventilation", [])], qs)


def profession_rpps(valeur: str) -> tuple[str | None, str]:
    """(RPPS profession group or None, label) of a respondent's answer."""
    v = norm(valeur)
    if re.search(r"medecin", v) and not re.search(r"specialiste", v) and not any(re.search(p, v) for p, _, _ in PROFESSIONS[1:2]):
        return "medecin_generaliste", "Médecin généraliste"
    for motif, code, libelle in PROFESSIONS:
        if re.search(motif, v):
            return code, libelle
    return None, valeur.strip()


def _echelle_de(valeurs: set[str]) -> list[str] | None:
    nv = {norm(v) for v in valeurs}
    possibles = [e for e in ECHELLES if nv <= {norm(x) for x in e}]
    return min(possibles, key=len) if possibles else None  # the shortest known scale holding every answer


def _echelle_probable(remplies: list[str]) -> list[str] | None:
    """A known scale holding at least 80 % of the answers and 3 of its levels: the question is that scale,
    and an answer outside it is an error (never a silent extra category)."""
    for e in sorted(ECHELLES, key=len):
        niveaux = {norm(x) for x in e}
        dedans = [v for v in remplies if norm(v) in niveaux]
        if remplies and len(dedans) >= 0.8 * len(remplies) and len({norm(v) for v in dedans}) >= 3:
            return e
    return None


def _nombre(v: str) -> float | None:
    t = v.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    return float(t) if re.fullmatch(r"-?\d+(\.\d+)?", t) else None


def _decouper(cellule: str, sep: str, connues: list[str]) -> list[str]:
    """Split a joined multiple-choice cell, keeping the known options whole even when they hold ``sep``."""
    morceaux = [m.strip() for m in cellule.split(sep) if m.strip()]
    connues_n = {norm(o): o for o in connues}
    out, i = [], 0
    while i < len(morceaux):
        for j in range(len(morceaux), i, -1):
            essai = sep.join(morceaux[i:j])
            if norm(essai) in connues_n:
                out.append(connues_n[norm(essai)])
                i = j
                break
        else:
            out.append(morceaux[i])
            i += 1
    return out


def _regrouper(export: Export) -> list[tuple[str, str | None, list]]:
    """(question text, LimeSurvey code, columns) in file order; option columns grouped under their question."""
    groupes: dict[str, list] = {}
    codes: dict[str, str | None] = {}
    for c in export.colonnes:
        cle = c.question if c.option is not None else f"\x00{c.index}"
        groupes.setdefault(cle, []).append(c)
        codes.setdefault(cle, c.code)
    out = []
    for k, cols in groupes.items():
        if cols[0].option is not None and not _coches(cols, export):
            # an array (LimeSurvey « Tableau »: one scale or choice per sub-question), not a multiple choice:
            # each sub-question is a question of its own, titled « question [sous-question] »
            for c in cols:
                out.append((c.entete, c.code and f"{c.code}_{c.option}", [Colonne(c.index, c.entete, c.entete)]))
        else:
            out.append((cols[0].question, codes[k], cols))
    return out


AUTRE_COLONNE = ("other", "autre", "other...", "autre...", "autres", "autre (precisez)")


def _coches(cols, export: Export) -> bool:
    """The option columns hold ticks (Y, Oui, X…) or nothing: a multiple choice."""
    valeurs = {norm(ligne.get(c.index, "")) for c in cols if norm(c.option or "") not in AUTRE_COLONNE
               for ligne in export.lignes}
    return valeurs <= OUI | {"", "non", "n", "no"}


def typer(export: Export, config: Configuration, fichier_toml: str) -> list[Question]:
    """The typed questions of an export, over all its responses (complete or not)."""
    groupes = _regrouper(export)
    noms = {norm(t) for t, _, _ in groupes} | {norm(c) for _, c, _ in groupes if c}
    for q in config.questions:
        if norm(q) not in noms:
            raise EnqueteError(f"Fichier {fichier_toml} : la question « {q} » n'est pas dans l'export {export.fichier} "
                               f"(questions trouvées : {', '.join(t for t, _, _ in groupes)}).")
    for q in config.ventilation:
        if norm(q) not in noms and not any(norm(s.get("libelle", "")) == norm(q) for s in config.questions.values()):
            raise EnqueteError(f"Fichier {fichier_toml}, clé « ventilation » : la question « {q} » n'est pas dans "
                               f"l'export {export.fichier}.")
    specs = {norm(k): v for k, v in config.questions.items()}
    out: list[Question] = []
    codes_vus: set[str] = set()
    for texte, code_ls, cols in groupes:
        spec = specs.get(norm(texte)) or (specs.get(norm(code_ls)) if code_ls else None) or {}
        if spec.get("type") == "ignorer":
            continue
        code = slug(code_ls or texte)
        while code in codes_vus:
            code += "_b"
        codes_vus.add(code)
        q = Question(code, texte, spec.get("type", ""), [c.index for c in cols], list(spec.get("options", [])),
                     spec.get("libelle", "") or "", spec.get("theme", "") or "", spec.get("synthese", "") or "")
        q.ventiler = any(norm(v) in (norm(texte), norm(code_ls or ""), norm(q.libelle)) for v in config.ventilation) \
            or bool(spec.get("ventilation", False))
        codes = {str(k): str(v) for k, v in spec.get("codes", {}).items()}
        if cols[0].option is not None:
            for c in cols:
                c.option = codes.get(c.option, c.option)
            _multiple_colonnes(q, cols, export)
        else:
            if codes:  # LimeSurvey answer codes (A1, A2…) -> their text, as the .toml gives them
                for ligne in export.lignes:
                    v = ligne.get(cols[0].index, "")
                    ligne[cols[0].index] = codes.get(v, v)
            _simple(q, cols[0].index, export, spec, fichier_toml)
        out.append(q)
    return out


def _multiple_colonnes(q: Question, cols, export: Export) -> None:
    q.type = q.type or "choix_multiple"
    q.options = q.options or [c.option for c in cols]
    autre = {c.index: c for c in cols}
    for ligne in export.lignes:
        choix = []
        for c in cols:
            v = ligne.get(c.index, "")
            if not v:
                continue
            if norm(v) in OUI:
                choix.append(c.option)
            elif norm(c.option) in AUTRE_COLONNE:
                choix.append(c.option)  # the « other » column holds the text typed in
            elif norm(v) in ("non", "n", "no"):
                continue
            else:
                choix.append(c.option)
        q.reponses.append(choix if any(ligne.get(i, "") for i in autre) else None)


def _simple(q: Question, index: int, export: Export, spec: dict, fichier_toml: str) -> None:
    brut = [ligne.get(index, "") for ligne in export.lignes]
    remplies = [v for v in brut if v]
    nt = norm(q.texte)
    t = q.type
    sep = {"google": ", ", "microsoft": ";", "framaforms": ",", "limesurvey": ", "}[export.outil]
    if not t:
        echelle = (_echelle_de(set(remplies)) or _echelle_probable(remplies)) if remplies else None
        nombres = [_nombre(v) for v in remplies]
        if TEXTE_PROFESSION.search(nt) and not TEXTE_COMMUNE.search(nt):
            t = "profession"
        elif TEXTE_COMMUNE.search(nt):
            t = "commune"
        elif echelle:
            t, q.options = "echelle", list(spec.get("echelle", echelle))
        elif remplies and all(n is not None for n in nombres):
            if TEXTE_ECHELLE.search(nt) and all(float(n).is_integer() and 0 <= n <= 10 for n in nombres):
                t = "echelle"
            else:
                t = "nombre"
        else:
            t = _choix_ou_texte(remplies, sep, q.options, export.outil)
    q.type = t
    if t == "echelle":
        if not q.options:
            q.options = list(spec.get("echelle", []))
        if not q.options:
            nombres = sorted({_nombre(v) for v in remplies if _nombre(v) is not None})
            hi = 5 if nombres and max(nombres) <= 5 and min(nombres) >= 1 else 10
            lo = 1 if hi == 5 or (nombres and min(nombres) >= 1) else 0
            q.options = [str(i) for i in range(lo, hi + 1)]
        niveaux = {norm(o): o for o in q.options}
        for ligne, num in zip(export.lignes, export.numeros):
            v = ligne.get(index, "")
            if not v:
                q.reponses.append(None)
                continue
            nv = norm(v)
            if nv not in niveaux and _nombre(v) is not None and norm(str(int(_nombre(v)))) in niveaux and _nombre(v).is_integer():
                nv = norm(str(int(_nombre(v))))
            if nv not in niveaux:
                raise EnqueteError(
                    f"Fichier {export.fichier}, ligne {num}, colonne « {q.texte} » : valeur « {v} » hors de l'échelle "
                    f"({' ; '.join(q.options)}). Donnez l'échelle complète dans {fichier_toml} (clé « echelle »).")
            q.reponses.append(niveaux[nv])
    elif t == "nombre":
        for ligne, num in zip(export.lignes, export.numeros):
            v = ligne.get(index, "")
            n = _nombre(v) if v else None
            if v and n is None:
                raise EnqueteError(f"Fichier {export.fichier}, ligne {num}, colonne « {q.texte} » : « {v} » n'est pas "
                                   "un nombre.")
            q.reponses.append(n)
    elif t == "choix_multiple":
        # without listed options, the answers chosen alone are the options (an option with a comma inside is
        # kept whole once someone chose it alone; give the options in the .toml otherwise)
        connues = list(q.options) or [v for v in dict.fromkeys(remplies) if len(_decouper(v, sep, [])) == 1]
        for v in brut:
            q.reponses.append(_decouper(v, sep, connues) if v else None)
        if not q.options:
            q.options = list(dict.fromkeys(o for r in q.reponses if r for o in r))
        if spec.get("options"):  # an answer typed in « Autre » is never shown as such: counted as « Autre »
            q.reponses = [[o if o in q.options else AUTRE for o in r] if r else r for r in q.reponses]
            if any(r and AUTRE in r for r in q.reponses):
                q.options.append(AUTRE)
    else:  # choix_unique, texte, profession, commune: the text itself
        q.reponses = [v or None for v in brut]
        if t == "choix_unique" and not q.options:
            q.options = list(dict.fromkeys(remplies))
        elif t == "choix_unique":
            q.reponses = [r if r is None or r in q.options else AUTRE for r in q.reponses]
            if AUTRE in q.reponses:
                q.options.append(AUTRE)


def _choix_ou_texte(remplies: list[str], sep: str, options: list[str], outil: str) -> str:
    if options:
        return "choix_unique"
    if not remplies:
        return "texte"
    distinctes = set(remplies)
    seuls = {v for v in distinctes if len(_decouper(v, sep, [])) == 1}
    morceaux = {m for v in distinctes for m in _decouper(v, sep, sorted(seuls))}
    plusieurs = any(len(_decouper(v, sep, sorted(seuls))) > 1 for v in distinctes)
    longues = sum(len(v) > 60 for v in remplies) / len(remplies)
    if plusieurs and len(morceaux) <= 15 and len(morceaux) < len(remplies) and longues < 0.3 \
            and all(m in seuls or len(m) <= 60 for m in morceaux):
        return "choix_multiple"
    if len(distinctes) <= max(2, min(12, len(remplies) // 2)) and longues < 0.3:
        return "choix_unique"
    return "texte"
