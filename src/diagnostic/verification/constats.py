"""What the format check finds, per source: differences (« constats ») and notes, one French line per source,
or JSON for scripts. A difference is blocking when a run of the diagnostic would fail on it (exit code 1)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..fetch import FetchError
from .distant import UrlMorte

# kind -> (French wording, blocking by default)
GENRES = {
    "champ_absent": ("champ absent : {}", True),
    "code_introuvable": ("code introuvable : {}", True),
    "url_morte": ("URL morte ({})", True),
    "injoignable": ("injoignable : {}", True),
    "format_inattendu": ("format inattendu : {}", True),
    "millesime_absent": ("millésime attendu absent : {}", False),
    "nouveau_millesime": ("nouveau millésime disponible : {}", False),
}


@dataclass
class Constat:
    genre: str
    detail: str
    fichier: str = ""
    bloquant: bool | None = None  # None: the kind's default

    def __post_init__(self):
        if self.bloquant is None:
            self.bloquant = GENRES[self.genre][1]

    @property
    def texte(self) -> str:
        return GENRES[self.genre][0].format(self.detail) + (f" ({self.fichier})" if self.fichier else "")

    def as_dict(self) -> dict:
        return {"genre": self.genre, "texte": self.texte, "detail": self.detail, "fichier": self.fichier or None,
                "bloquant": self.bloquant}


@dataclass
class Resultat:
    """The check of one registered source."""

    source: str
    constats: list[Constat] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was read, or could not be (never a difference)

    @property
    def bloquant(self) -> bool:
        return any(c.bloquant for c in self.constats)

    @property
    def conforme(self) -> bool:
        return not self.constats

    def ajoute(self, genre: str, detail: str, fichier: str = "", bloquant: bool | None = None) -> None:
        c = Constat(genre, detail, fichier, bloquant)
        if all(c.texte != d.texte for d in self.constats):
            self.constats.append(c)

    def erreur(self, exc: Exception, fichier: str = "", suite: str = "") -> None:
        """A file that could not be read (HTTP error, host unreachable, not the expected kind), `suite` (what a run
        would lose) appended to the detail."""
        suite = f" ; {suite}" if suite else ""
        if isinstance(exc, UrlMorte):
            if exc.status >= 500:
                self.ajoute("injoignable", f"erreur du serveur (HTTP {exc.status}){suite}", fichier)
            else:
                self.ajoute("url_morte", f"HTTP {exc.status}{suite}", fichier)
        elif isinstance(exc, FetchError):
            self.ajoute("injoignable", exc.cause + suite, fichier)
        else:
            self.ajoute("format_inattendu", str(exc) + suite, fichier)

    def ligne(self) -> str:
        """One French line: « cog : conforme », « ameli_effectifs : code introuvable : MCV_CAT_CAT »."""
        corps = " ; ".join(c.texte for c in self.constats) or "conforme"
        if self.notes:
            corps += " (" + " ; ".join(dict.fromkeys(self.notes)) + ")"
        return f"{self.source} : {corps}"

    def as_dict(self) -> dict:
        return {"source": self.source, "conforme": self.conforme, "bloquant": self.bloquant, "ligne": self.ligne(),
                "constats": [c.as_dict() for c in self.constats], "notes": list(dict.fromkeys(self.notes))}
