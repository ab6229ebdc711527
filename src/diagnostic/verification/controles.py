"""One check per kind of source: what the parser needs (columns, codes and labels it selects on, the vintage it
expects, read from the registry and from the parsers' module-level constants) against what the producer serves
today (`distant`). Each check fills a `Resultat`; network failures are handled by the caller."""

from __future__ import annotations

import importlib
import json
import re
import zlib
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..registry import Source
from . import cepidc, distant, zip_insee
from .constats import Resultat

ODS_EXPORT = re.compile(r"^(?P<hote>https?://[^/]+)/api/explore/v2\.1/catalog/datasets/(?P<id>[^/?]+)/exports/")
ANNEE = re.compile(r"(\d{4})")


def parser_module(source: Source):
    try:
        return importlib.import_module(f"diagnostic.sources.{source.parser}")
    except ImportError:
        return None


def _annee(valeur) -> str | None:
    m = ANNEE.search(str(valeur or ""))
    return m.group(1) if m else None


def _liste(valeurs, n: int = 12) -> str:
    valeurs = [str(v) for v in valeurs]
    return ", ".join(valeurs[:n]) + (f", … ({len(valeurs)} en tout)" if len(valeurs) > n else "")


# ---------------------------------------------------------------------------- delimited text


def _entete(data: bytes, sep: str | None) -> list[str]:
    lignes = distant.premieres_lignes(data, 1)
    ligne = lignes[0] if lignes else ""
    if sep is None:
        sep = max((";", ",", "|", "\t"), key=ligne.count)
    return [c.strip().strip('"').strip() for c in ligne.split(sep)]


def _colonnes_manquantes(res: Resultat, colonnes: list[str], attendues: list[str], fichier: str = "", *, casse: bool = True) -> None:
    have = set(colonnes) if casse else {c.lower() for c in colonnes}
    for c in attendues:
        if (c if casse else c.lower()) not in have:
            res.ajoute("champ_absent", c, fichier)


def _lire_tete(res: Resultat, url: str, n: int = distant.TETE):
    p = distant.lire(url, start=0, max_bytes=n)
    if not p.ranged:
        res.notes.append("serveur sans requêtes partielles : début du fichier lu, puis connexion fermée")
    if distant._est_html(p.data):
        raise distant.FormatInattendu("page HTML au lieu du fichier attendu")
    return p


def csv_entete(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """A delimited file with a header row (RPPS `|`, DREES urgences `;`): the parser's columns are in it."""
    module = parser_module(source)
    sep = "|" if source.parser == "rpps" else None
    attendues = list(getattr(module, "COLUMNS", None) or getattr(module, "REQUIRED", None) or [])
    for name, url in urls.items():
        p = _lire_tete(res, url)
        colonnes = _entete(p.data, sep)
        _colonnes_manquantes(res, colonnes, attendues, casse=source.parser == "rpps")
        res.notes.append(f"{len(colonnes)} colonnes lues")


def finess(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """FINESS: the FINESS+ flux (gzipped JSON: `schemaVersion`, `generatedAt` at its start), or the older
    `;` extraction (first line `finess;etalab;<n>;<date>`; a later date is a newer extraction)."""
    module = parser_module(source)
    entete = getattr(module, "ENTETE", None)
    for name, url in urls.items():
        p = _lire_tete(res, url, 16_384)
        if p.data[:2] == b"\x1f\x8b":  # gzip: its first decompressed bytes
            try:
                debut = distant.texte(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(p.data))
            except zlib.error as exc:
                res.ajoute("format_inattendu", f"fichier gzip illisible ({exc})")
                continue
            cles = dict(re.findall(r'"(schemaVersion|generatedAt)"\s*:\s*"([^"]*)"', debut))
            if not debut.lstrip().startswith("{"):
                res.ajoute("format_inattendu", "le fichier décompressé n'est pas un objet JSON")
                continue
            for cle in ("schemaVersion", "generatedAt"):
                if cle not in cles:
                    res.ajoute("champ_absent", cle)
            if cles.get("schemaVersion"):
                res.notes.append(f"flux FINESS+ {cles['schemaVersion']} du {cles.get('generatedAt', '?')[:10]}")
            continue
        premiere = (distant.premieres_lignes(p.data, 1) or [""])[0]
        m = entete.match(premiere) if entete is not None else None
        if m is None:
            res.ajoute("format_inattendu", f"première ligne « {premiere[:60]} » (attendu : « finess;etalab;… » ou flux gzip)")
            continue
        date = m.groupdict().get("date")
        if date and date > source.latest:
            res.ajoute("nouveau_millesime", f"extraction du {date} (registre : {source.latest})")


DATAGOUV_STATIC = re.compile(r"^https://static\.data\.gouv\.fr/resources/(?P<jeu>[^/]+)/(?P<date>\d{8})-\d{6}/(?P<nom>[^/?]+)$")


def datagouv_recent(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """A file at a dated data.gouv address (`static.data.gouv.fr/resources/<jeu>/<date>-<heure>/<nom>`): the
    dataset's resources (`/api/1/datasets/<jeu>/`) holding a later file of the same name (digits aside)."""
    for url in urls.values():
        m = DATAGOUV_STATIC.match(url)
        if not m:
            continue
        try:
            data = _json(f"https://www.data.gouv.fr/api/1/datasets/{m['jeu']}/")
        except (distant.UrlMorte, distant.FormatInattendu):
            res.notes.append("ressources du jeu data.gouv non lues")
            continue
        forme = re.sub(r"\d+", r"\\d+", re.escape(m["nom"]))
        recentes = []
        for r in data.get("resources", []) if isinstance(data, dict) else []:
            autre = DATAGOUV_STATIC.match(str(r.get("url") or "")) if isinstance(r, dict) else None
            if autre and re.fullmatch(forme, autre["nom"]) and (autre["date"], autre["nom"]) > (m["date"], m["nom"]):
                recentes.append((autre["date"], autre["nom"]))
        if recentes:
            date, nom = max(recentes)
            res.ajoute("nouveau_millesime", f"{nom} du {date[6:]}/{date[4:6]}/{date[:4]} (registre : {m['nom']})")


# ---------------------------------------------------------------------------- zip holding a CSV


def zip_csv(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """An archive holding the CSV the parser reads (`MEMBER` of the parser): the member and its header."""
    module = parser_module(source)
    motif = getattr(module, "MEMBER", None)
    for name, url in urls.items():
        archive = distant.Archive(url)
        if not archive.ranged:
            res.notes.append("serveur sans requêtes partielles : archive lue depuis son début")
        noms = list(archive.membres)
        if motif is None:
            res.notes.append(f"{len(noms)} fichiers dans l'archive")
            continue
        trouves = [n for n in noms if re.fullmatch(motif, n.rsplit("/", 1)[-1], flags=re.IGNORECASE)]
        melodi = getattr(module, "MEMBRE_MELODI", None)  # census: the Melodi long file read beside the legacy one
        en_long = [n for n in noms if melodi and re.fullmatch(melodi, n.rsplit("/", 1)[-1], flags=re.IGNORECASE)]
        if not trouves and en_long:
            membre = sorted(en_long, key=lambda n: not n.lower().endswith(".csv"))[0]
            if membre.lower().endswith(".csv") and (debut := archive.debut(membre)) is not None:
                _colonnes_manquantes(res, _entete(debut, ";"), list(getattr(module, "COLONNES_MELODI", [])), membre)
            res.notes.append(f"{membre} (format long Melodi)")
            continue
        lisible = motif.replace("\\.", ".")
        if not trouves:
            if archive.complete:
                res.ajoute("champ_absent", f"fichier « {lisible} » dans l'archive (contenu : {_liste(noms)})")
            else:
                res.notes.append(f"fichier « {lisible} » non vu dans le début de l'archive (liste incomplète sans requêtes partielles)")
            continue
        if not trouves[0].lower().endswith((".csv", ".txt")):
            res.notes.append(f"{trouves[0]} présent (en-tête non lu : pas un fichier texte)")
            continue
        debut = archive.debut(trouves[0])
        if debut is None:
            res.notes.append(f"en-tête de {trouves[0]} hors de la partie lue")
            continue
        colonnes = _entete(debut, ";")
        attendues = list(getattr(module, "COLUMNS", None) or [])
        if source.parser == "rp_pop":
            annees = module.years(colonnes)
            if not annees:
                res.ajoute("champ_absent", "Pyy_POP (population d'un recensement)", trouves[0])
            attendues = ["CODGEO"] + [c for yy in annees for c in module.columns_for(yy)]
            m = ANNEE.search(trouves[0])
            if m and m.group(1) > source.latest:
                res.ajoute("nouveau_millesime", f"{trouves[0]} (registre : {source.latest})")
            elif m and m.group(1) < source.latest:
                res.ajoute("millesime_absent", f"{source.latest} (l'archive contient {trouves[0]})")
        list_ok = [c for c in attendues if c in colonnes]
        _colonnes_manquantes(res, colonnes, attendues, trouves[0])
        res.notes.append(f"{trouves[0]} : {len(list_ok)}/{len(attendues)} colonnes attendues")


# ---------------------------------------------------------------------------- xlsx workbooks (DREES APL)


def classeur(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """An APL workbook: the sheets the registry names, the header row (« Code commune INSEE ») and the columns
    the parser matches (`COLUMNS` of the parser); a sheet « APL <year> » beyond the registry's vintage is new."""
    module = parser_module(source)
    apl = importlib.import_module("diagnostic.sources.apl")
    colonnes = dict(getattr(module, "COLUMNS", {}) or {})
    cle = getattr(module, "HEADER_KEY", apl.HEADER_KEY)
    spec = source.vintage()
    for name, url in urls.items():
        archive = distant.Archive(url)
        if not archive.ranged:
            res.notes.append("serveur sans requêtes partielles : classeur non lu au-delà de son début")
        if "xl/workbook.xml" not in archive.membres:
            if archive.complete:
                res.ajoute("format_inattendu", "classeur xlsx sans xl/workbook.xml", name)
            else:
                res.notes.append("feuilles non vues sans requêtes partielles")
            continue
        feuilles = distant.feuilles(archive)
        voulues = list(spec.get("sheets") or [f for f in feuilles if re.fullmatch(r"APL[ _]\d{4}", f.strip())])
        for f in voulues:
            if f not in feuilles:
                res.ajoute("champ_absent", f"feuille « {f} » (feuilles : {', '.join(feuilles)})", name)
        recentes = sorted(f for f in feuilles if (a := _annee(f)) and f.startswith("APL") and a > source.latest)
        if recentes:
            res.ajoute("nouveau_millesime", f"feuille{'s' if len(recentes) > 1 else ''} « {' », « '.join(recentes)} » "
                       f"(registre : {source.latest})", name)
        res.notes.append(f"{name} : feuilles {', '.join(feuilles)}")
        presentes = [f for f in voulues if f in feuilles]
        if not presentes or "xl/sharedStrings.xml" not in archive.membres and not archive.complete:
            continue
        for f in presentes[-1:]:  # the latest sheet the registry reads: the header of the others is the same
            lignes = distant.premieres_lignes_feuille(archive, feuilles[f])
            entete = next((l for l in lignes if l and l[0].strip() == cle), None)
            if entete is None:
                res.ajoute("champ_absent", f"ligne d'en-tête « {cle} » (feuille « {f} »)", name)
                continue
            entete = [c.strip() for c in entete]
            for out, motif in colonnes.items():
                if not any(re.match(motif, c) for c in entete):
                    res.ajoute("champ_absent", f"colonne « {motif.strip('^$')} » (feuille « {f} » ; en-têtes : "
                               f"{' | '.join(c for c in entete if c)})", name)


# ---------------------------------------------------------------------------- JSON (COG) and GeoJSON (contours)


def _premier_objet(data: bytes) -> dict | None:
    t = distant.texte(data).lstrip()
    i = t.find("{")
    if not t.startswith("[") or i < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(t[i:])
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def cog(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """decoupage-administratif: the first object of each JSON list has the fields the parser reads (`CHAMPS_JSON`
    of the parser); a later version of the npm package is a newer vintage."""
    module = parser_module(source)
    champs = dict(getattr(module, "CHAMPS_JSON", {}) or {})
    for name, url in urls.items():
        p = _lire_tete(res, url, 262_144)
        obj = _premier_objet(p.data)
        fichier = distant.registry_name(url)
        if obj is None:
            res.ajoute("format_inattendu", "pas une liste JSON d'objets", fichier)
            continue
        _colonnes_manquantes(res, list(obj), champs.get(fichier, []), fichier)
    if "communes.json" not in {distant.registry_name(u) for u in urls.values()}:
        return  # the package's version is checked once, with its communes file
    m = next((re.search(r"^https://unpkg\.com/(?P<paquet>(?:@[^/]+/)?[^/@]+)@(?P<version>[\d.]+)/", u) for u in urls.values()), None)
    if not m:
        return
    try:
        p = distant.lire(f"https://unpkg.com/{m['paquet']}/package.json", max_bytes=200_000)
        derniere = str(json.loads(distant.texte(p.data)).get("version") or "")
    except (distant.UrlMorte, ValueError):
        res.notes.append("dernière version du paquet non lue")
        return
    if _version(derniere) > _version(m["version"]):
        res.ajoute("nouveau_millesime", f"{m['paquet']} {derniere} (registre : {m['version']})")


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


PROPRIETES = re.compile(rb'"properties"\s*:\s*(\{[^{}]*\})')


def contours(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """france-geojson: each file is a FeatureCollection whose first feature has the properties the parser reads."""
    module = parser_module(source)
    attendues = list(getattr(module, "PROPRIETES", ["code", "nom"]))
    for name, url in urls.items():
        fichier = distant.registry_name(url)
        p = _lire_tete(res, url)
        m = PROPRIETES.search(p.data)
        if m is None and p.ranged:
            p = distant.lire(url, start=0, max_bytes=1_048_576)
            m = PROPRIETES.search(p.data)
        if not distant.texte(p.data[:200]).replace(" ", "").startswith('{"type":"FeatureCollection"'):
            res.ajoute("format_inattendu", "pas une FeatureCollection GeoJSON", fichier)
            continue
        if m is None:
            res.notes.append(f"propriétés de {fichier} hors de la partie lue")
            continue
        try:
            props = json.loads(m.group(1))
        except ValueError:
            res.notes.append(f"propriétés de {fichier} illisibles dans la partie lue")
            continue
        _colonnes_manquantes(res, list(props), attendues, fichier)


# ---------------------------------------------------------------------------- Opendatasoft portals (ameli, Odissé)


def _champs_fiche(data: dict) -> dict[str, str]:
    d = data.get("dataset") if isinstance(data.get("dataset"), dict) else data
    fields = d.get("fields") if isinstance(d, dict) else None
    return {str(f["name"]): str(f.get("label") or f["name"]) for f in fields or [] if isinstance(f, dict) and f.get("name")}


def _facettes(data: dict) -> dict[str, list[str]]:
    out = {}
    for f in data.get("facets", []) if isinstance(data, dict) else []:
        if isinstance(f, dict) and f.get("name"):
            out[str(f["name"])] = [str(v.get("value", v.get("name"))) for v in f.get("facets", []) if isinstance(v, dict)]
    return out


def _json(url: str) -> dict:
    p = distant.lire(url, start=0, max_bytes=4_000_000)
    try:
        data = json.loads(distant.texte(p.data))
    except ValueError:
        raise distant.FormatInattendu("réponse de l'API Opendatasoft illisible (JSON attendu)") from None
    return data if isinstance(data, dict) else {"results": data}


def _valeurs_groupees(base: str, champ: str) -> dict[str, list[str]]:
    """The distinct values of a field that is not a facet: `/exports/json?select=<f>&group_by=<f>` (one small row
    per value). {} when the portal does not answer it."""
    try:
        data = _json(f"{base}/exports/json?select={quote(champ)}&group_by={quote(champ)}")
    except (distant.UrlMorte, distant.FormatInattendu):
        return {}
    rows = data.get("results") if isinstance(data.get("results"), list) else None
    if rows is None:
        return {}
    return {champ: [str(r[champ]) for r in rows if isinstance(r, dict) and r.get(champ) is not None]}


def opendatasoft(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """An Opendatasoft export (data.ameli.fr, Odissé): the dataset's catalogue record (fields and labels), one
    record (`/records?limit=1`, latest year first), and the values of the fields the parser selects on
    (`/facets`): the fields the parser needs, its codes and labels, the year it expects and any later year."""
    module = parser_module(source)
    spec = source.vintage()
    export = next((u for u in urls.values() if ODS_EXPORT.match(u)), None)
    if export is None:
        res.notes.append("adresse d'export Opendatasoft non reconnue : format non comparé")
        return
    m = ODS_EXPORT.match(export)
    hote, ident = m["hote"], unquote(m["id"])
    base = f"{hote}/api/explore/v2.1/catalog/datasets/{quote(ident, safe='')}"
    fiche_url = next((u for n, u in urls.items() if "/api/v2/catalog/datasets/" in u), f"{hote}/api/v2/catalog/datasets/{quote(ident, safe='')}")
    rows: list = []
    try:
        champs = _champs_fiche(_json(fiche_url))
    except distant.UrlMorte as exc:
        if exc.status not in (404, 410):
            raise
        try:  # no catalogue record at that address: the fields of one record, if the dataset still serves any
            rows = _json(f"{base}/records?limit=1").get("results") or []
        except distant.UrlMorte as exc2:
            res.ajoute("url_morte", f"HTTP {exc2.status}", f"jeu {ident}")
            return
        champs = {k: k for k in (rows[0] if rows and isinstance(rows[0], dict) else {})}
        res.notes.append("fiche du catalogue absente : champs lus sur un enregistrement")
    colonnes = list(champs)

    # what the parser needs: its fields, the year field, codes selected on
    besoins: list[str] = []
    facettes_voulues: dict[str, str] = {}
    if source.parser == "odisse":
        odisse = module
        fiche = f"fiche du jeu {ident}"  # named in the parser's message when two fields match one label
        geo = {k: odisse._choisir(colonnes, champs, *v, fiche) for k, v in odisse.GEO.items()}
        annee = geo["annee"]
        if annee is None:
            res.ajoute("champ_absent", f"année ({' ou '.join(odisse.GEO['annee'][0])})")
        code = {"departement": "dep", "region": "reg"}.get(spec.get("niveau", "departement"))
        if code and geo[code] is None:
            res.ajoute("champ_absent", f"code {'département' if code == 'dep' else 'région'} ({' ou '.join(odisse.GEO[code][0])})")
        mesures = dict(spec.get("mesures", {}))
        manquantes = []
        for mesure, cfg in mesures.items():
            try:
                col = odisse._choisir(colonnes, champs, list(cfg.get("champs", [])), cfg.get("libelle"), fiche)
            except Exception as exc:  # several labels match: the parser would refuse the file
                res.ajoute("champ_absent", f"mesure {mesure} : {exc}")
                continue
            if col is None:
                manquantes.append(mesure)
        for mesure in manquantes:
            cfg = mesures[mesure]
            quoi = " ou ".join(cfg.get("champs", [])) or f"libellé « {cfg.get('libelle')} »"
            res.ajoute("champ_absent", f"{quoi} (mesure {mesure})", bloquant=len(manquantes) == len(mesures))
    else:
        annee = "annee"
        besoins = list(getattr(module, "REQUIRED", None) or ["annee", "region", "departement"])
        if spec.get("champ"):
            besoins.append(spec["champ"])
        _colonnes_manquantes(res, colonnes, besoins, casse=False)
        if spec.get("pathologies"):  # selectors: a `top` code or { patho_niv1 = label } (sources/ameli_effectifs.py)
            facettes_voulues["top"] = "pathologies"
            if any(not isinstance(v, str) for v in dict(spec["pathologies"]).values()):
                facettes_voulues["patho_niv1"] = "pathologies_niv1"
        if spec.get("professions_mg") or (spec.get("profession") and "profession_sante" in colonnes):
            facettes_voulues["profession_sante"] = "profession"

    # one record, the latest year first
    if annee:
        try:
            rec = _json(f"{base}/records?limit=1&order_by={quote(annee)}%20desc")
            rows = rec.get("results") or []
            if rows and isinstance(rows[0], dict):
                absents = [c for c in besoins if c.lower() not in {k.lower() for k in rows[0]}]
                for c in absents:
                    res.ajoute("champ_absent", f"{c} (absent de l'enregistrement lu)")
        except distant.UrlMorte:
            res.notes.append("enregistrement non lu (/records)")
            rows = []
        facettes_voulues[annee] = "annee"

    # values of the fields selected on (codes, labels, years)
    valeurs: dict[str, list[str]] = {}
    if facettes_voulues:
        try:
            valeurs = _facettes(_json(f"{base}/facets?" + "&".join(f"facet={quote(f)}" for f in facettes_voulues)))
        except distant.UrlMorte:
            res.notes.append("valeurs des champs non lues (/facets)")
    for champ in [c for c, role in facettes_voulues.items() if c not in valeurs]:
        valeurs.update(_valeurs_groupees(base, champ))  # a field the portal does not offer as a facet
    for champ, role in facettes_voulues.items():
        vals = valeurs.get(champ)
        if vals is None:
            if role != "annee":
                res.notes.append(f"valeurs de « {champ} » non servies : codes non vérifiés")
            continue
        if role in ("pathologies", "pathologies_niv1"):
            for cle, selecteur in dict(spec["pathologies"]).items():
                genre, voulu = module.selecteur(cle, selecteur)
                if genre != {"pathologies": "top", "pathologies_niv1": "patho_niv1"}[role] or voulu in vals:
                    continue
                if genre == "top":
                    res.ajoute("code_introuvable", f"{voulu} (pathologie {cle} ; codes « top » de niveau 1 : "
                               f"{_liste(sorted(v for v in vals if v.endswith(('_CAT_CAT', '_CAT_EXC'))))})")
                else:
                    res.ajoute("code_introuvable", f"libellé « {voulu} » (pathologie {cle} ; groupes de niveau 1 : "
                               f"{_liste(sorted(vals))})")
        elif role == "profession" and spec.get("professions_mg"):
            for libelle in spec["professions_mg"]:
                if libelle not in {v.strip() for v in vals}:
                    res.ajoute("code_introuvable", f"profession « {libelle} » (professions : {_liste(sorted(vals))})")
        elif role == "profession":
            motif = spec.get("profession")
            trouves = [v for v in vals if re.search(motif, v.strip())]
            if len(trouves) != 1:
                res.ajoute("code_introuvable", f"{len(trouves)} profession(s) pour « {motif} » au lieu d'une "
                           f"({_liste(trouves) if trouves else 'professions : ' + _liste(sorted(vals))})")
    annees = sorted({a for a in (_annee(v) for v in valeurs.get(annee or "", [])) if a})
    if not annees and annee and rows:
        a = _annee(rows[0].get(annee))
        annees = [a] if a else []
    attendue = _annee(source.latest)
    raffine = parse_qs(urlsplit(export).query).get("refine", [])
    if annees and attendue:
        if annees[-1] > attendue:
            res.ajoute("nouveau_millesime", f"{annees[-1]} (registre : {source.latest})")
        if attendue not in annees and (len(annees) > 1 or annees[-1] < attendue):
            res.ajoute("millesime_absent", f"{source.latest} (dernier publié : {annees[-1]})",
                       bloquant=any(r.endswith(f":{attendue}") for r in raffine))
    res.notes.append(f"{len(colonnes)} champs au catalogue")


CONTROLES = {
    "cog": cog,
    "contours": contours,
    "apl": classeur,
    "apl_autres": classeur,
    "ameli_demographie": opendatasoft,
    "ameli_effectifs": opendatasoft,
    "ameli_ald_mt": opendatasoft,
    "ameli_acces": opendatasoft,
    "odisse": opendatasoft,
    "rpps": csv_entete,
    "drees_urgences": csv_entete,
    "poplegale": zip_csv,
    "rp_pop": zip_csv,
    "finess": finess,
    "filosofi": zip_insee.filosofi,
    "dossier_complet": zip_insee.dossier_complet,
    "etatcivil_deces": zip_insee.deces,
    "cepidc": cepidc.cepidc,
}


def vivant(res: Resultat, source: Source, urls: dict[str, str]) -> None:
    """A source this command cannot compare field by field: its files answer, at least."""
    for name, url in urls.items():
        _lire_tete(res, url, 1024)
    res.notes.append("format non comparé par cette commande : adresse seulement")
