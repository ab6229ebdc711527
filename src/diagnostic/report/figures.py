"""Writing a drawn figure (issue 16): PNG always, SVG only when asked, and a cache of rendered figures.

Each ``savefig`` renders the whole figure again; the SVG copies doubled the cost of every map and chart
while no page of the report uses them (HTML, PDF and Word embed the PNG). ``write_report(svg=True)``
(``diagnostic run --svg``) asks for them.

A figure whose inputs are unchanged is not drawn again: ``depuis_cache(cle, png)`` copies the PNG (and SVG)
rendered by an earlier run under ``cle``, a hash of everything the drawing reads (data, captions, style:
the matplotlib version and its matplotlibrc files, and the code version: every file of the package). Series charts key
on their rows and labels (``series.graphique``); maps on the context fields they read, ``CHAMPS_CARTES``
(``carte_en_cache``). The cache
is a folder of the workspace (``data/processed/figures/``, given by the pipeline); without one, every
figure is drawn. At most ``CACHE_MAX`` files are kept (the least recently used go first; the folder is
listed every ``CACHE_TRI`` writes, not at each one: a batch writes thousands).

The choices hold for the figure functions, which run in this process or in workers forked inside it
(``report.parallele``), so they inherit them.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PNG_COMPRESSION = 1  # zlib level of the figures' PNG (``_png``): same pixels, faster than the default 6
CACHE_MAX = 2500  # files kept in the cache folder: a batch of 100 EPCI writes about 2 000 (about 115 KB each)
CACHE_TRI = 50  # the folder is listed (oldest files removed) at the first write of a process, then every 50
# The context fields maps.py reads, itself or through tables.sources_par_id (sources), tables.cle_catalogue
# (catalogue, seuils) and source_finess (sources, indicateurs); tests/test_figures.py fails when it reads another one
# or hands the context to another function.
CHAMPS_CARTES = ("nom", "communes", "departements", "etablissements", "indicateurs", "sources", "catalogue", "seuils")
AIDES_CARTES = ("sources_par_id", "cle_catalogue", "source_finess")

# Figure functions reading other context fields than the maps (module.function -> fields of its key).
CHAMPS_FIGURES = {
    "diagnostic.report.annuaire.carte": CHAMPS_CARTES + ("annuaire",),
    "diagnostic.report.pyramide.pyramide": ("nom", "pyramide"),
}


@dataclass
class Carte:
    """One written map or chart (``maps``, ``series``, ``pyramide``…), as the documents embed it."""

    cle: str  # "situation", "apl_mg"
    png: Path
    svg: Path | None  # None for the screen-only maps of batch reports
    titre: str
    legende: str  # French caption for the HTML


_svg: list[bool] = [False]  # stacks: the innermost write_report's choice last
_cache: list[Path | None] = [None]
_memo: list[dict | None] = [None]  # fingerprints of the context fields, one dict per report being written


@contextmanager
def reglages(svg: bool = False, cache: Path | None = None):
    """While a report is written: SVG twins or not, and the cache folder (None: no cache)."""
    _svg.append(bool(svg))
    _cache.append(Path(cache) if cache else None)
    _memo.append({})
    try:
        yield
    finally:
        _svg.pop()
        _cache.pop()
        _memo.pop()


def svg_demande() -> bool:
    return _svg[-1]


def chemin_svg(png: Path) -> Path | None:
    """The SVG beside ``png`` when SVG files are asked for, else None."""
    return Path(png).with_suffix(".svg") if svg_demande() else None


_version: list[str] = []


def version_dessin() -> str:
    """The code and style the figures depend on: every file of the package (code, catalogue, settings
    shipped with it), the matplotlib version and every matplotlibrc it may read (``_styles_matplotlib``).
    Computed without importing matplotlib: a report whose figures all come from the cache never needs it."""
    if not _version:
        from importlib.metadata import version

        h = hashlib.sha256(version("matplotlib").encode())
        paquet = Path(__file__).resolve().parents[1]
        for path in sorted(paquet.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".toml", ".sql", ".css", ".html", ".j2", ".json"):
                h.update(str(path.relative_to(paquet)).encode() + path.read_bytes())
        for path in _styles_matplotlib():
            h.update(str(path).encode() + (path.read_bytes() if path.is_file() else b"-"))
        _version.append(h.hexdigest())
    return _version[0]


def _styles_matplotlib() -> list[Path]:
    """The matplotlibrc files matplotlib reads its rcParams from (``matplotlib.matplotlib_fname``: the working
    folder's, ``$MATPLOTLIBRC``, the user's configuration folder, then the one shipped in mpl-data), found
    without importing it; all of them, so that a change in any one changes the key."""
    import importlib.util

    env = os.environ
    out = [Path.cwd() / "matplotlibrc"]
    if env.get("MATPLOTLIBRC"):
        out += [Path(env["MATPLOTLIBRC"]), Path(env["MATPLOTLIBRC"]) / "matplotlibrc"]
    config = (Path(env["MPLCONFIGDIR"]) if env.get("MPLCONFIGDIR")
              else Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "matplotlib")
    out.append(config / "matplotlibrc")
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        out.append(Path(spec.origin).parent / "mpl-data" / "matplotlibrc")
    return out


def cle(*parts) -> str:
    """Cache key of a figure: ``parts`` (its inputs, as text or bytes) and ``version_dessin()``."""
    h = hashlib.sha256(version_dessin().encode())
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode()
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()


def _entree(cle: str, suffixe: str) -> Path | None:
    dossier = _cache[-1]
    return None if dossier is None else dossier / f"{cle}{suffixe}"


def depuis_cache(cle: str, png: Path) -> Path | None | bool:
    """Copy the figure cached under ``cle`` to ``png`` (and its SVG when asked for). False on a miss, else
    the SVG path written (or None)."""
    src_png = _entree(cle, ".png")
    if src_png is None or not src_png.is_file():
        return False
    svg = chemin_svg(png)
    src_svg = _entree(cle, ".svg")
    if svg is not None and not src_svg.is_file():
        return False
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    for src, dst in ((src_png, png), (src_svg, svg)):
        if dst is not None:
            shutil.copyfile(src, dst)
            os.utime(src)  # recently used
    return svg


_ecritures = [0]  # cache writes of this process


def _mettre_en_cache(cle: str, fichiers: list[tuple[Path, str]]) -> None:
    dossier = _cache[-1]
    if dossier is None:
        return
    try:
        dossier.mkdir(parents=True, exist_ok=True)
        for path, suffixe in fichiers:
            tmp = dossier / f".{cle}{suffixe}.{os.getpid()}.tmp"
            shutil.copyfile(path, tmp)
            os.replace(tmp, dossier / f"{cle}{suffixe}")  # atomic: a parallel run reads whole files
        _ecritures[0] += 1
        if _ecritures[0] % CACHE_TRI != 1:
            return
        entrees = sorted((p for p in dossier.iterdir() if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
        for vieux in entrees[:max(0, len(entrees) - CACHE_MAX)]:
            vieux.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written costs a redraw next time, never the report


def png_rgb(fig, png: Path, *, dpi: float, metadata: dict | None = None, compress_level: int = PNG_COMPRESSION,
            **savefig_kwargs) -> None:
    """``fig`` rendered once at ``dpi`` and written as an RGB PNG (no alpha channel). The figures are opaque
    (white background), so the pixels are those of matplotlib's RGBA PNG; without the alpha channel,
    WeasyPrint embeds each image once instead of splitting it into colour and mask, both re-encoded."""
    _sans_mise_en_page_restante(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="raw", dpi=dpi, **savefig_kwargs)
    raw = buf.getvalue()
    w, h = (int(x) for x in fig.bbox_inches.size * dpi)
    if len(raw) != w * h * 4:  # size not as computed: matplotlib's own PNG
        fig.savefig(png, dpi=dpi, metadata=metadata, pil_kwargs={"compress_level": compress_level}, **savefig_kwargs)
        return
    Path(png).write_bytes(_png(raw, w, h, dpi, metadata or {}, compress_level))


def _png(rgba: bytes, w: int, h: int, dpi: float, metadata: dict, compress_level: int) -> bytes:
    """The RGB PNG of ``rgba`` (RGBA rows): every row unfiltered, then zlib. Pillow tries the five PNG
    filters on every row, which took two thirds of the writing time; unfiltered rows of these mostly blank
    figures compress as well (same pixels, files about as large). Text chunks as Pillow writes them."""
    import numpy as np

    lignes = np.empty((h, 1 + 3 * w), np.uint8)
    lignes[:, 0] = 0  # first byte of each row: filter 0 (none)
    rgb, rgba = lignes[:, 1:].reshape(h, w, 3), np.frombuffer(rgba, np.uint8).reshape(h, w, 4)
    for k in range(3):  # channel by channel: copying 3 bytes of every 4 at once is several times slower
        rgb[..., k] = rgba[..., k]
    ppm = int(dpi / 0.0254 + 0.5)  # pixels per metre
    morceaux = [(b"IHDR", struct.pack("!IIBBBBB", w, h, 8, 2, 0, 0, 0)), (b"pHYs", struct.pack("!IIB", ppm, ppm, 1))]
    for cle_texte, valeur in metadata.items():
        try:
            morceaux.append((b"tEXt", cle_texte.encode("latin-1") + b"\0" + valeur.encode("latin-1")))
        except UnicodeError:
            morceaux.append((b"iTXt", cle_texte.encode("latin-1") + b"\0\0\0\0\0" + valeur.encode("utf-8")))
    morceaux += [(b"IDAT", zlib.compress(lignes, compress_level)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack("!I", len(d)) + t + d + struct.pack("!I", zlib.crc32(t + d)) for t, d in morceaux)


def _sans_mise_en_page_restante(fig) -> None:
    """After ``fig.tight_layout()`` matplotlib leaves a placeholder layout engine that lays out nothing, yet makes
    ``savefig`` draw the whole figure once more, without output, before drawing it (about a third of a chart's
    time). The placement is already fixed: the engine is dropped, the pixels are the same
    (``tests/test_figures.py``)."""
    import matplotlib
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if (isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine) and not matplotlib.rcParams["figure.autolayout"]
            and not matplotlib.rcParams["figure.constrained_layout.use"]):
        fig.set_layout_engine(None)  # with these rcParams: no engine at all


def enregistrer(fig, png: Path, *, dpi: float, cle: str | None = None, svg_kwargs: dict | None = None) -> Path | None:
    """``fig`` saved as ``png`` (RGB, see ``png_rgb``) and, when asked for, as SVG beside it (returned, else
    None); kept in the cache under ``cle`` when given."""
    png_rgb(fig, png, dpi=dpi)
    svg = chemin_svg(png)
    if svg is not None:
        fig.savefig(svg, **(svg_kwargs or {}))
    if cle is not None:
        _mettre_en_cache(cle, [(Path(png), ".png")] + ([(svg, ".svg")] if svg is not None else []))
    return svg


def _empreinte(valeur) -> bytes:
    """Bytes that change when ``valeur`` (a context field read by the figures) changes. Computed once per
    object while a report is written (``reglages``): the figures of one report share their inputs."""
    memo = _memo[-1]
    if memo is not None and id(valeur) in memo:
        return memo[id(valeur)][1]
    out = _calcul_empreinte(valeur)
    if memo is not None:
        memo[id(valeur)] = (valeur, out)  # the object kept alive: its id is not reused while the memo lives
    return out


def _calcul_empreinte(valeur) -> bytes:
    import dataclasses

    import pandas as pd

    if valeur is None:
        return b"None"
    if isinstance(valeur, pd.DataFrame):
        h = hashlib.sha256(repr(list(valeur.columns)).encode())
        if "geometry" in valeur.columns and hasattr(valeur, "geometry"):
            h.update(b"".join(g.wkb if g is not None else b"-" for g in valeur.geometry))
            valeur = pd.DataFrame(valeur.drop(columns="geometry"))
        h.update(valeur.to_csv(index=False).encode())
        return h.digest()
    if dataclasses.is_dataclass(valeur) and not isinstance(valeur, type):  # e.g. the directory (Annuaire)
        h = hashlib.sha256(type(valeur).__qualname__.encode())
        for f in dataclasses.fields(valeur):
            b = _calcul_empreinte(getattr(valeur, f.name))
            h.update(f.name.encode() + len(b).to_bytes(8, "little") + b)
        return h.digest()
    return repr(valeur).encode()


def _fiche_carte(c, out_dir: Path) -> dict:
    return {"cle": c.cle, "png": Path(c.png).relative_to(out_dir).as_posix(),
            "svg": Path(c.svg).relative_to(out_dir).as_posix() if c.svg else None, "titre": c.titre, "legende": c.legende}


def carte_en_cache(ctx, fonction, out_dir: Path, *args, champs: tuple[str, ...] | None = None):
    """``fonction(ctx, out_dir, *args)`` (a figure function: the maps of ``maps.py``, ``filosofi.py``, the actors
    map, the age pyramid), or its files and record from the cache when the context fields it reads (``champs``,
    by default those of ``CHAMPS_FIGURES``) and the code are those of an earlier run. The function returns a
    ``Carte``, a list of them, or None; the record says which."""
    import json

    if _cache[-1] is None:
        return fonction(ctx, out_dir, *args)
    out_dir = Path(out_dir)
    champs = champs or CHAMPS_FIGURES.get(f"{fonction.__module__}.{fonction.__name__}", CHAMPS_CARTES)
    k = cle("carte", fonction.__module__, fonction.__name__, *map(repr, args), svg_demande(),
            *(_empreinte(getattr(ctx, champ, None)) for champ in champs))
    fiche = _entree(k, ".json")
    try:
        enr = json.loads(fiche.read_text(encoding="utf-8")) if fiche.is_file() else None
    except (OSError, ValueError):
        enr = None
    if enr is not None and "forme" in enr:
        copies = [(_entree(k, f".{i}{Path(f[cote]).suffix}"), out_dir / f[cote])
                  for i, f in enumerate(enr["cartes"]) for cote in ("png", "svg") if f[cote]]
        if all(src.is_file() for src, _ in copies):
            for src, dst in copies:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                os.utime(src)
            os.utime(fiche)
            cartes = [Carte(f["cle"], out_dir / f["png"], out_dir / f["svg"] if f["svg"] else None, f["titre"],
                            f["legende"]) for f in enr["cartes"]]
            return {"aucune": None, "carte": cartes[0] if cartes else None, "liste": cartes}[enr["forme"]]
    res = fonction(ctx, out_dir, *args)
    cartes = [] if res is None else [res] if isinstance(res, Carte) else list(res)
    try:
        enr = {"forme": "aucune" if res is None else "carte" if isinstance(res, Carte) else "liste",
               "cartes": [_fiche_carte(c, out_dir) for c in cartes]}
    except ValueError:  # a file outside out_dir: not cached
        return res
    _mettre_en_cache(k, [(Path(p), f".{i}{Path(p).suffix}") for i, c in enumerate(cartes) for p in (c.png, c.svg) if p])
    try:
        tmp = fiche.with_name(f".{fiche.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(enr, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, fiche)  # written last: a record means its files are there
    except OSError:
        pass
    return res
