"""French formatting helpers for everything the report shows to a reader.

Conventions (Imprimerie nationale, as used by INSEE and DREES publications):

- thousands separator: narrow no-break space U+202F (``90 474``);
- decimal comma (``3,2``); negative numbers with a true minus sign U+2212;
- a narrow no-break space between a number and ``%`` or a unit (``16,4 %``);
- ``n.d.`` for an unavailable value, ``s`` for a value under statistical secrecy.

Machine-readable outputs (``indicateurs.csv``) never go through this module.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real

NNBSP = "\u202f"  # narrow no-break space: thousands separator, before % and units
NBSP = "\u00a0"
MINUS = "\u2212"
ND = "n.d."
SECRET = "s"

STATUT_OK = "ok"
STATUT_SECRET = "secret"
STATUT_ND = "non_disponible"
STATUT_ESTIMATION = "estimation"

MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

# Decimals shown per unit (tables, text, Excel formats). Matching is done on the
# normalised unit (lower case, no accents), first on equality then on prefix.
_DECIMALES_EXACT = {
    "communes": 0,
    "commune": 0,
    "habitants": 0,
    "nombre": 0,
    "km2": 1,
    "hab./km2": 1,
    "%": 1,
    "points": 2,
    "ans": 1,
    "euros": 0,
    "eur": 0,
}
_DECIMALES_PREFIX = (
    ("consultations", 1),  # APL: consultations/visites accessibles par an et par habitant
    ("pour ", 1),          # rates "pour 10 000 habitants", "pour 1 000 ..."
    ("hab", 0),            # "habitants de 75 ans ou plus", etc.
    ("profession", 0),
    ("medecin", 0),
    ("patients", 0),
    ("etablissement", 0),
)
DECIMALES_DEFAUT = 1


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return text.strip().lower()


def est_manquant(x: object) -> bool:
    """True for None, NaN, pandas NA/NaT."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, pd.NA raise or compare unequal
    except (TypeError, ValueError):
        return True


def decimales(unite: str | None) -> int:
    """Number of decimals used to show a value expressed in ``unite``."""
    if unite is None or est_manquant(unite):
        return DECIMALES_DEFAUT
    u = _norm(unite).replace("²", "2")
    if u in _DECIMALES_EXACT:
        return _DECIMALES_EXACT[u]
    for prefix, n in _DECIMALES_PREFIX:
        if u.startswith(prefix):
            return n
    return DECIMALES_DEFAUT


def nombre(x: object, decimales: int = 0, signe: bool = False) -> str:
    """French number: ``nombre(90474) == "90\u202f474"``, ``nombre(3.14, 1) == "3,1"``.

    ``signe=True`` prefixes positive values with ``+`` (evolutions). Missing -> ``n.d.``.
    """
    if est_manquant(x):
        return ND
    if not isinstance(x, Real):
        raise TypeError(f"not a number: {x!r}")
    v = float(x)
    if math.isinf(v):
        return ND
    # Round half up on the shortest decimal representation (2.55 -> 2,6), as a
    # spreadsheet displays it, rather than on the binary value (2.5499...).
    q = Decimal(repr(abs(v))).quantize(Decimal(1).scaleb(-decimales), rounding=ROUND_HALF_UP)
    text = f"{q:,.{decimales}f}"  # "90,474.5"
    if float(text.replace(",", "")) == 0:  # no "-0,0"
        v = 0.0
    text = text.replace(",", NNBSP).replace(".", ",")
    if v < 0:
        return MINUS + text
    if signe and v > 0:
        return "+" + text
    return text


def pourcent(x: object, decimales: int = 1) -> str:
    """``pourcent(16.42) == "16,4\u202f%"`` (x is already in percent)."""
    if est_manquant(x):
        return ND
    return f"{nombre(x, decimales)}{NNBSP}%"


def unite_courte(unite: str | None) -> str:
    """Unit as appended to a number in running text (``%`` glued with a thin space)."""
    return "" if unite is None or est_manquant(unite) else str(unite).strip()


def avec_unite(x: object, unite: str | None, decimales_: int | None = None, signe: bool = False) -> str:
    """``avec_unite(90474, "habitants") == "90\u202f474 habitants"``; ``n.d.`` if missing."""
    if est_manquant(x):
        return ND
    d = decimales(unite) if decimales_ is None else decimales_
    u = unite_courte(unite)
    num = nombre(x, d, signe=signe)
    return f"{num}{NNBSP}{u}" if u else num


def valeur(x: object, unite: str | None = None, statut: str | None = STATUT_OK, signe: bool | None = None,
           decimales_: int | None = None) -> str:
    """Table cell text for an indicator value, honouring its status.

    ``non_disponible`` (or a missing value) -> ``n.d.``; ``secret`` -> ``s``;
    ``estimation`` -> the value (the table marks it separately). Units in ``points``
    are signed by default (they are evolutions). Decimals follow the unit unless given.
    """
    if statut == STATUT_SECRET:
        return SECRET
    if statut == STATUT_ND or est_manquant(x):
        return ND
    if signe is None:
        signe = unite is not None and not est_manquant(unite) and _norm(unite) == "points"
    return nombre(x, decimales(unite) if decimales_ is None else decimales_, signe=signe)


def format_excel(decimales_: int) -> str:
    """Excel number format with thousands separator (rendered per the user's locale)."""
    return "#,##0" if decimales_ <= 0 else "#,##0." + "0" * decimales_


def as_date(d: object) -> date | None:
    """A date from a date, a datetime or an ISO string (``2026-11-24T10:02:00Z``); else None."""
    if est_manquant(d) or d == "":
        return None
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    text = str(d).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def date_fr(d: object) -> str:
    """``date_fr(date(2026, 1, 1)) == "1er janvier 2026"``; unparseable text is returned as is."""
    dd = as_date(d)
    if dd is None:
        return "" if est_manquant(d) else str(d)
    jour = "1er" if dd.day == 1 else str(dd.day)
    return f"{jour} {MOIS[dd.month - 1]} {dd.year}"


def date_courte(d: object) -> str:
    """``date_courte("2026-11-24T10:00:00Z") == "24/11/2026"``."""
    dd = as_date(d)
    if dd is None:
        return "" if est_manquant(d) else str(d)
    return dd.strftime("%d/%m/%Y")


def octets(n: object) -> str:
    """Human file size in French units: ``octets(3803291) == "3,6\u202fMo"``."""
    if est_manquant(n):
        return ""
    try:
        v = float(n)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(n)
    for unit, factor in (("Go", 1024**3), ("Mo", 1024**2), ("ko", 1024)):
        if v >= factor:
            return f"{nombre(v / factor, 1)}{NNBSP}{unit}"
    return f"{nombre(v, 0)}{NNBSP}o"


def liste(items: list[str], conjonction: str = "et") -> str:
    """``liste(["a", "b", "c"]) == "a, b et c"``."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conjonction} " + items[-1]


def millesimes(values: list[str]) -> list[str]:
    """Distinct vintages, ranges (``2022-2023``) folded into their years, dated extractions (``2026-04-27``)
    written in French (``27 avril 2026``), sorted (dates after years)."""
    years: set[str] = set()
    dates: set[str] = set()
    for v in values:
        if est_manquant(v) or str(v).strip() == "":
            continue
        text = str(v).strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            dates.add(text)
            continue
        for part in re.split(r"\s*[-–/]\s*", text):
            if part:
                years.add(part)
    return sorted(years) + [date_fr(d) for d in sorted(dates)]


def sha_court(sha: object, n: int = 12) -> str:
    if est_manquant(sha) or not str(sha):
        return ""
    s = str(sha)
    return s if len(s) <= n else s[:n] + "…"


def cle_tri(text: object) -> str:
    """Accent- and case-insensitive sort key for French names."""
    return _norm("" if est_manquant(text) else str(text))
