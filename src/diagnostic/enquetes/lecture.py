"""Reading a survey export as the tool wrote it: encoding, separator, the tool's own header conventions.

One reader per tool, each recognised from the header the tool writes, and nothing less:

- **Google Forms** (CSV downloaded from the responses tab): first column ``Horodateur`` (French interface) or
  ``Timestamp``, then one column per question titled by its text; checkbox answers are joined in one cell.
  Evidence: third-party code reading Google Forms responses keys its timestamp column on ``Horodateur`` /
  ``timestamp`` (public GitHub code found by ``find_string "Horodateur",`` : a Google Forms submitter's
  ``TIMESTAMP_HEADERS = {"timestamp", …, "horodateur", …}``, a sheet config ``horodateur: "Horodateur"`` on
  « Form Responses 1 »). The ``, `` joining of checkbox options is what issue #12 states; no genuine export
  was at hand to confirm it (level « non vérifié » in ``tests/fixtures/README.md``).
- **Microsoft Forms** (XLSX « Ouvrir dans Excel »): ``ID``, ``Heure de début``, ``Heure de fin``,
  ``Adresse de messagerie``, ``Nom`` (+ ``Heure de la dernière modification``, quiz columns), then questions;
  English interface ``ID``, ``Start time``, ``Completion time``, ``Email``, ``Name``, ``Last modified time``.
  Evidence: third-party code holding those exact header lists (``META_HEADERS`` of a French MS Forms workbook
  reader; ``COLUNAS_ORIGINAIS`` / ``usecols`` of several readers of English exports), found by ``find_string``.
  Multiple answers are joined by ``;`` (issue #12; a trailing ``;`` is tolerated).
- **LimeSurvey** (« Exporter les réponses », CSV): ``LimeSurvey/LimeSurvey``
  ``application/helpers/admin/export/CsvWriter.php`` @ d23a8dc7 (UTF-8 BOM, ``;`` by default or the chosen
  separator, every value quoted, ``\\r\\n`` records, line breaks inside a value kept as ``\\n``) and ``Writer.php``
  @ a0f5c4dd (heading formats: codes ``Q3[SQ001]`` — ``getFieldCode`` with ``[``/``]`` — or full text
  « question [sous-question] »; multiple-choice cells ``Y``/empty in codes, the translated « Oui » in full
  answers). Fixed columns in codes: ``id``, ``submitdate``, ``lastpage``, ``startlanguage`` (+ ``seed``,
  ``startdate``, ``datestamp``, ``ipaddr``, ``refurl``); in French full headings ``ID de la réponse``,
  ``Date de soumission``, ``Dernière page``, ``Langue de départ``, ``Tête de série``, ``Date de lancement``,
  ``Date de la dernière action`` (third-party code dropping exactly these columns from a LimeSurvey export).
  A response without ``submitdate`` is incomplete.
- **Framaforms** (Drupal Webform 7.x-4.x, « Téléchargement » of the results): ``drupalprojects/webform`` @
  1e3714d3 ``includes/webform.report.inc`` (``webform_results_download_headers``: three header rows — the form
  title, « Submission Details », then ``Serial``, ``SID``, ``Time``, ``Draft``, ``IP Address``, ``UID``,
  ``Username`` and the components), ``components/select.inc`` (multiple choice « separate »: the question name
  in row 2 above one column per option in row 3, cells ``X``; « compact »: options joined by ``,``),
  ``includes/exporters/webform_exporter_delimited.inc`` (every value quoted, delimiter chosen by the user:
  tab by default, ``,`` or ``;``). Framaforms' own use of these components:
  ``romaricbeltran/framaforms-csv-auto-exporter`` @ 59bd52f5 ``pages/webform_page.py``
  (``edit-components-webform-serial`` … ``-username``, ``edit-select-format-compact``). ``Draft`` = 1 is an
  incomplete response.

Identity columns (name, e-mail, IP address, respondent id, user name) are recognised here and their values
are never kept: the ``Export`` holds no copy of them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..sources import SourceFormatError


class EnqueteError(SourceFormatError):
    """A survey file that cannot be read as an export of a known tool (message in French: file, row, column)."""


OUTILS = {"google": "Google Forms", "microsoft": "Microsoft Forms", "limesurvey": "LimeSurvey", "framaforms": "Framaforms"}


def norm(text: str) -> str:
    """Lower case, no accents, single spaces (to compare headers and values)."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", t.replace("\u00a0", " ")).strip().lower()


# Columns that identify a respondent: never read (values dropped as the file is parsed).
IDENTITE = re.compile(
    r"^(id|sid|uid|serial|response id|id de la reponse|respondent id|token|jeton|ipaddr|ip address|adresse ip|"
    r"refurl|referrer url|url de provenance|username|nom d'utilisateur|email|e-mail|adresse e-mail|"
    r"adresse de messagerie|adresse mail|adresse electronique|email address|courriel|name|nom|prenom|nom et prenom|"
    r"nom prenom|prenom nom|nom, prenom|prenom et nom|nom - prenom|prenom - nom|votre nom|votre prenom|"
    r"nom de famille|votre nom et prenom|adresse de courriel|votre adresse e-mail|votre e-mail|telephone|tel|numero de telephone|n° rpps|numero rpps|rpps|adeli|n° adeli|"
    r"numero adeli|webform_serial|webform_sid|webform_ip_address|webform_uid|webform_username|seed|tete de serie)$"
)
# Technical columns of the tools, not questions (read where they tell completion or time).
TECHNIQUE = re.compile(
    r"^(horodateur|timestamp|heure de debut|heure de fin|start time|completion time|last modified time|"
    r"heure de la derniere modification|total points|quiz feedback|points - .*|feedback - .*|submitdate|lastpage|"
    r"startlanguage|startdate|datestamp|date de soumission|derniere page|langue de depart|date de lancement|"
    r"date de la derniere action|date submitted|last page|start language|date started|date last action|time|"
    r"draft|webform_time|webform_draft|webform_completed_time|webform_modified_time|completed time|modified time|"
    r"interviewtime|temps total)$"
)


@dataclass
class Colonne:
    """One question column of an export. ``option``: for a multiple-choice question exported as one column
    per option (LimeSurvey, Framaforms « separate »), the option this column holds; ``question`` the
    question's text (or code)."""

    index: int
    entete: str
    question: str
    option: str | None = None
    code: str | None = None  # LimeSurvey code heading (Q3 / Q3[SQ001])


@dataclass
class Export:
    """The answers of one export, identity columns left out. ``lignes[k]`` maps a question column index to
    the cell's text; ``numeros[k]`` is the file row (1 = first line) where that response starts."""

    fichier: str
    outil: str
    colonnes: list[Colonne]
    lignes: list[dict[int, str]]
    numeros: list[int]
    complet: list[bool]
    horodatage: list[str]
    identite_ignoree: list[str] = field(default_factory=list)


def _texte(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise EnqueteError(f"Fichier {path.name} : fichier vide, aucune réponse à lire.")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EnqueteError(f"Fichier {path.name} : marque UTF-8 en tête mais octets invalides à la position "
                               f"{exc.start + 3} ; enregistrez à nouveau l'export en UTF-8.") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # Excel « CSV (séparateur : point-virgule) »


def _enregistrements(texte: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """CSV records and the file row where each starts (quoted cells may hold line breaks)."""
    lecteur = csv.reader(io.StringIO(texte, newline=""), delimiter=sep)
    rows, debuts = [], []
    debut = 1
    for row in lecteur:
        rows.append(row)
        debuts.append(debut)
        debut = lecteur.line_num + 1
    return rows, debuts


def _outil(entetes: list[str], ligne2: list[str] | None, ligne3: list[str] | None) -> str | None:
    n = [norm(h) for h in entetes]
    if n and n[0] in ("horodateur", "timestamp"):
        return "google"
    if len(n) >= 3 and n[0] == "id" and n[1] in ("heure de debut", "start time") and n[2] in ("heure de fin", "completion time"):
        return "microsoft"
    s = set(n)
    if {"id", "submitdate", "lastpage"} <= s or {"id de la reponse", "date de soumission", "derniere page"} <= s \
            or {"response id", "date submitted", "last page"} <= s:
        return "limesurvey"
    if ligne2 is not None and ligne3 is not None:
        l2, l3 = [norm(h) for h in ligne2], [norm(h) for h in ligne3]
        if l2 and l2[0] in ("submission details", "submission_details") and (
                {"sid", "serial", "time", "draft"} & set(l3) or {"webform_sid", "webform_serial"} & set(l3)):
            return "framaforms"
    return None


def _lire_csv(path: Path) -> tuple[str, list[list[str]], list[int]]:
    texte = _texte(path)
    for sep in (";", ",", "\t"):
        rows, debuts = _enregistrements(texte, sep)
        outil = _outil(rows[0] if rows else [], rows[1] if len(rows) > 1 else None, rows[2] if len(rows) > 2 else None)
        if outil:
            return outil, rows, debuts
    raise EnqueteError(
        f"Fichier {path.name}, ligne 1 : ce fichier n'est pas un export d'enquête reconnu. En-têtes attendus : "
        "« Horodateur » ou « Timestamp » en première colonne (Google Forms) ; « ID », « Heure de début », « Heure de "
        "fin »… (Microsoft Forms) ; « id », « submitdate », « lastpage »… ou « ID de la réponse », « Date de "
        "soumission », « Dernière page »… (LimeSurvey) ; trois lignes d'en-tête « Submission Details » puis « Serial », "
        "« SID », « Time »… (Framaforms).")


def _cellule_xlsx(v) -> str:
    from datetime import datetime

    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _lire_xlsx(path: Path) -> tuple[str, list[list[str]], list[int]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise EnqueteError(f"Fichier {path.name} illisible comme classeur Excel : {exc}") from None
    ws = wb.worksheets[0]
    rows = [[_cellule_xlsx(v) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise EnqueteError(f"Fichier {path.name} : classeur vide, aucune réponse à lire.")
    outil = _outil(rows[0], rows[1] if len(rows) > 1 else None, rows[2] if len(rows) > 2 else None)
    if outil is None:
        return _lire_csv_refus(path)
    return outil, rows, list(range(1, len(rows) + 1))


def _lire_csv_refus(path: Path):
    raise EnqueteError(
        f"Fichier {path.name}, ligne 1 : ce classeur n'est pas un export d'enquête reconnu (Microsoft Forms : "
        "« ID », « Heure de début », « Heure de fin », « Adresse de messagerie », « Nom », puis les questions).")


OPTION = re.compile(r"^(?P<q>.*\S)\s*\[(?P<o>[^\[\]]+)\]$")


def lire(path: Path) -> Export:
    """The export of ``path`` (CSV or XLSX) with identity columns left out."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        outil, rows, debuts = _lire_xlsx(path)
    else:
        outil, rows, debuts = _lire_csv(path)
    if outil == "framaforms":
        return _framaforms(path.name, rows, debuts)
    entetes = [h.strip() for h in rows[0]]
    data, nums = rows[1:], debuts[1:]
    keep = [(i, r) for i, r in zip(nums, data) if any(c.strip() for c in r)]
    if not keep:
        raise EnqueteError(f"Fichier {path.name} : l'export ne contient aucune réponse (en-têtes seuls).")
    n = [norm(h) for h in entetes]
    colonnes, ignorees = [], []
    for k, (h, nh) in enumerate(zip(entetes, n)):
        if IDENTITE.match(nh):
            ignorees.append(h)
            continue
        if TECHNIQUE.match(nh) or not h:
            continue
        col = Colonne(k, h, h)
        if outil == "limesurvey":
            m = OPTION.match(h)
            if m:
                col.question, col.option = m.group("q").strip(), m.group("o").strip()
                if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", col.question):
                    col.code = col.question
        colonnes.append(col)
    idx = {nh: k for k, nh in enumerate(n)}
    lignes, complet, horo, numeros = [], [], [], []
    for num, r in keep:
        if len(r) != len(entetes):
            raise EnqueteError(f"Fichier {path.name}, ligne {num} : {len(r)} valeurs pour {len(entetes)} colonnes "
                               "(export tronqué ou séparateur modifié ?).")
        lignes.append({c.index: r[c.index].strip() for c in colonnes})
        numeros.append(num)
        if outil == "limesurvey":
            k = idx.get("submitdate", idx.get("date de soumission", idx.get("date submitted")))
            complet.append(bool(r[k].strip()) if k is not None else True)
            t = idx.get("startdate", idx.get("date de lancement", k))
        else:
            complet.append(True)
            t = 0 if outil == "google" else 1
        horo.append(r[t].strip() if t is not None else "")
    return Export(path.name, outil, colonnes, lignes, numeros, complet, horo, ignorees)


def _framaforms(fichier: str, rows: list[list[str]], debuts: list[int]) -> Export:
    groupes, entetes = rows[1], [h.strip() for h in rows[2]]
    data = [(d, r) for d, r in zip(debuts[3:], rows[3:]) if any(c.strip() for c in r)]
    if not data:
        raise EnqueteError(f"Fichier {fichier} : l'export ne contient aucune réponse (en-têtes seuls).")
    n = [norm(h) for h in entetes]
    colonnes, ignorees = [], []
    question = None
    for k, (h, nh) in enumerate(zip(entetes, n)):
        g = groupes[k].strip() if k < len(groupes) else ""
        if k == 0 or nh in ("serial", "sid", "time", "draft", "ip address", "uid", "username") or nh.startswith("webform_"):
            if IDENTITE.match(nh) or nh in ("ip address", "username"):
                ignorees.append(h)
            question = None
            continue
        if IDENTITE.match(nh) and not g:
            ignorees.append(h)
            question = None
            continue
        valeurs = {r[k].strip() for _, r in data if k < len(r)}
        if g:  # « separate » multiple choice: the question's name above its first option
            question = g
            colonnes.append(Colonne(k, f"{g} [{h}]", g, option=h))
        elif question is not None and valeurs <= {"", "X"}:  # the next options of that question hold only X
            colonnes.append(Colonne(k, f"{question} [{h}]", question, option=h))
        else:
            question = None
            colonnes.append(Colonne(k, h, h))
    idx = {nh: k for k, nh in enumerate(n)}
    lignes, complet, horo, numeros = [], [], [], []
    for num, r in data:
        if len(r) != len(entetes):
            raise EnqueteError(f"Fichier {fichier}, ligne {num} : {len(r)} valeurs pour {len(entetes)} colonnes "
                               "(export tronqué ou séparateur modifié ?).")
        lignes.append({c.index: r[c.index].strip() for c in colonnes})
        numeros.append(num)
        d = idx.get("draft", idx.get("webform_draft"))
        complet.append(not (d is not None and r[d].strip() == "1"))
        t = idx.get("time", idx.get("webform_time"))
        horo.append(r[t].strip() if t is not None else "")
    return Export(fichier, "framaforms", colonnes, lignes, numeros, complet, horo, ignorees)
