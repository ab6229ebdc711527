"""Maps of the report: situation of the perimeter, and APL to general practitioners.

Grain: one polygon per commune (COG 2026) of every département the perimeter touches,
in the projected CRS (metres) handed over in the context. Output: PNG (200 dpi) + SVG.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path



import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely import box, make_valid, union_all  # noqa: E402
from shapely.geometry import MultiPolygon, Polygon  # noqa: E402
from shapely.ops import polylabel  # noqa: E402

from ..seuils import DEFAUTS  # noqa: E402
from . import fmt, mpl  # noqa: E402  (mpl: matplotlib on first use)
from .context import ReportContext  # noqa: E402
from .donnees import GEOMETRIE_VALIDE  # noqa: E402  (attrs flag: geometries repaired by donnees.valides)
from .figures import Carte, chemin_svg, png_rgb  # noqa: E402  (Carte: re-exported)
from .tables import Territoire, cle_catalogue, nom_source, producteur_court, sources_par_id  # noqa: E402
from .texte import de_territoire  # noqa: E402

DPI = 200
DPI_ECRAN = 120  # batch reports, read on screen: 960 px wide, no SVG
PNG_COMPRESSION = 1  # zlib level: 3x faster than the default 6, files about 30 % larger
FIG_WIDTH = 8.0  # inches: 1 600 px at 200 dpi
MARGIN = 0.25  # inches, left and right
MAP_MAX_HEIGHT = 7.0
MAP_MIN_HEIGHT = 3.2
PAD = 0.12  # inches between blocks

# The choropleth maps the column of ``communes`` named by the indicator whose catalogue entry says
# ``carte = true`` (``apl_mg``); its threshold (« sous-dense ») is ``apl_sous_densite`` of pipelines/diagnostic.toml.


def indicateur_carte(ctx: ReportContext) -> str | None:
    """The id drawn by the choropleth: the first catalogue id with ``carte = true`` that is a column of
    ``ctx.communes`` (None: no choropleth)."""
    return next((i for i, v in cle_catalogue(ctx, "carte").items() if v is True and i in ctx.communes.columns), None)


def seuil_apl(ctx: ReportContext) -> float:
    """The APL under which a commune is under-served (``[seuils] apl_sous_densite``)."""
    return float(ctx.seuils["apl_sous_densite"])


def seuil_professionnels(ctx: ReportContext) -> int:
    """The secret threshold of professionals' counts (``[secret_statistique] professionnels``)."""
    return int(ctx.seuils["professionnels"])


def sous_le_seuil(n: int) -> str:
    """« 1 à 4 » for a threshold of 5 (« 1 » for 2): the counts that are not published."""
    return "1" if n <= 2 else f"1 à {n - 1}"

CONTOURS_SOURCE = "Source : IGN ADMIN EXPRESS via france-geojson (COG 2018, harmonisé COG 2026) ; INSEE COG 2026."

COLOR_PERIMETRE = "#3f88c5"
COLOR_AUTRES = "#dedede"
COLOR_VOISINS = "#f3f3f3"
COLOR_LIMITE_VOISINS = "#c4c4c4"
COLOR_LIMITE_DEP = "#4a4a4a"
COLOR_CONTOUR = "#111111"
COLOR_ND_EDGE = "#8c8c8c"


def _halo() -> list:
    """White halo around labels (matplotlib imported on first use: ``mpl``)."""
    return [mpl.pe.withStroke(linewidth=2.6, foreground="white")]


def _mpl(text: str) -> str:
    """Escape what matplotlib would read as mathtext."""
    return str(text).replace("$", r"\$")




def _plottable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a usable geometry (communes created since the contours' vintage have none)."""
    geoms = np.asarray(gdf.geometry.array)
    montre = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    g = gdf if montre.all() else gdf[montre]
    if len(g) and not g.attrs.get(GEOMETRIE_VALIDE) and not g.geometry.is_valid.all():
        g = g.copy()
        g[g.geometry.name] = g.geometry.apply(lambda x: x if x.is_valid else make_valid(x))
    return g


def _chemins(geoms) -> list:
    """One compound path per geometry (every ring of every polygon; None when it has no polygon), built for all
    of them at once by shapely's array functions rather than ring by ring."""
    geoms = np.asarray(list(geoms), dtype=object)
    parts, de_geom = shapely.get_parts(geoms, return_index=True)
    polygone = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    anneaux, de_poly = shapely.get_rings(parts[polygone], return_index=True)  # exterior, then interiors
    xy, de_anneau = shapely.get_coordinates(anneaux, return_index=True)
    n = np.bincount(de_anneau, minlength=len(anneaux))
    garde = n >= 3  # rings of fewer than 3 points are left out
    fin = np.cumsum(n)
    codes = np.full(len(xy), mpl.MplPath.LINETO, dtype=mpl.MplPath.code_type)
    codes[(fin - n)[garde]] = mpl.MplPath.MOVETO
    codes[(fin - 1)[garde]] = mpl.MplPath.CLOSEPOLY
    sommets = garde[de_anneau]
    geom_du_sommet = de_geom[polygone][de_poly][de_anneau][sommets]
    xy, codes = xy[sommets], codes[sommets]
    bornes = np.searchsorted(geom_du_sommet, np.arange(len(geoms) + 1))
    return [mpl.MplPath(xy[a:b], codes[a:b]) if b > a else None for a, b in zip(bornes[:-1], bornes[1:])]


def _dessiner(ax, geoms, *, facecolor="none", edgecolor="none", linewidth=0.0, zorder=1, **kw) -> None:
    """Polygons as one PathCollection (``facecolor`` may be one colour per geometry); ``facecolor="none"``
    draws outlines only. Faster than GeoDataFrame.plot, which also redraws the whole figure at each call."""
    paths, colours = [], []
    fc = list(facecolor) if isinstance(facecolor, (list, tuple, np.ndarray)) else None
    for i, p in enumerate(_chemins(geoms)):
        if p is not None:
            paths.append(p)
            if fc is not None:
                colours.append(fc[i])
    if paths:
        ax.add_collection(mpl.PathCollection(paths, facecolors=colours if fc is not None else facecolor,
                                         edgecolors=edgecolor, linewidths=linewidth, zorder=zorder, **kw),
                          autolim=False)


def _perimetre(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return communes[communes["perimetre"].fillna(False).astype(bool).to_numpy()]


def _contour_perimetre(communes: gpd.GeoDataFrame):
    g = _plottable(_perimetre(communes))
    if not len(g):
        return None
    return union_all(list(g.geometry)).buffer(0)


def _deps_touches(communes: gpd.GeoDataFrame) -> list[str]:
    return sorted({str(d) for d in _perimetre(communes)["departement"].dropna()})


def _limites_departements(ctx: ReportContext, codes: list[str]) -> gpd.GeoDataFrame:
    deps = _plottable(ctx.departements)
    touched = deps[deps["code"].astype(str).isin(codes)]
    if len(touched) < len(codes):  # outline missing: rebuild it from the communes
        c = _plottable(ctx.communes)
        c = c[c["departement"].astype(str).isin(codes)]
        if len(c):
            rebuilt = c.dissolve("departement").reset_index()[["departement", "geometry"]]
            rebuilt = rebuilt.rename(columns={"departement": "code"})
            rebuilt["nom"] = rebuilt["code"]
            touched = gpd.GeoDataFrame(rebuilt, geometry="geometry", crs=ctx.communes.crs)
    return touched


def _emprise(ctx: ReportContext, codes: list[str]) -> tuple[float, float, float, float]:
    c = _plottable(ctx.communes)
    sel = c[c["departement"].astype(str).isin(codes)]
    if not len(sel):
        sel = _plottable(_perimetre(ctx.communes))
    if not len(sel):
        sel = c
    if not len(sel):
        raise ValueError("no commune geometry to map")
    minx, miny, maxx, maxy = sel.total_bounds
    dx, dy = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    m = 0.03 * max(dx, dy)
    return minx - m, miny - m, maxx + m, maxy + m


# (text, font, dpi, width) -> the text as wrapped by _Mise._ajuste: a wrapping depends on nothing else
_RETOURS: dict[tuple, str] = {}


class _Mise:
    """Figure with a fixed-width map box, title above, legend and caption below."""

    def __init__(self, bounds: tuple[float, float, float, float]):
        minx, miny, maxx, maxy = bounds
        dx, dy = maxx - minx, maxy - miny
        self.mw = FIG_WIDTH - 2 * MARGIN
        self.mh = min(max(self.mw * dy / dx, MAP_MIN_HEIGHT), MAP_MAX_HEIGHT)
        # widen the extent so that it fills the map box exactly (aspect 1:1)
        aspect = self.mh / self.mw
        if dy / dx < aspect:
            grow = dx * aspect - dy
            miny, maxy = miny - grow / 2, maxy + grow / 2
        else:
            grow = dy / aspect - dx
            minx, maxx = minx - grow / 2, maxx + grow / 2
        self.bounds = (minx, miny, maxx, maxy)
        self.fig = mpl.Figure(figsize=(FIG_WIDTH, self.mh + 3), dpi=100)
        mpl.FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(minx, maxx)
        self.ax.set_ylim(miny, maxy)
        self.ax.set_aspect("equal", adjustable="box")
        self.ax.set_axis_off()
        self.titre = None
        self.sous_titre = None
        self.legende = None
        self.source = None

    def textes(self, titre: str, sous_titre: str, source: str) -> None:
        f = self.fig
        self.titre = self._ajuste(f.text(0, 0, "", fontsize=11.5, fontweight="bold", ha="left", va="top",
                                         color="#1a1a1a"), titre)
        self.sous_titre = self._ajuste(f.text(0, 0, "", fontsize=8.5, ha="left", va="top", color="#444444"),
                                       sous_titre) if sous_titre else None
        self.source = self._ajuste(f.text(0, 0, "", fontsize=6.5, ha="left", va="bottom", color="#4d4d4d",
                                          linespacing=1.4), source)

    def _ajuste(self, artist, text: str):
        """Wrap ``text`` on as few lines as fit the map width (measured, not guessed). The wrapping found is
        kept for the process (``_RETOURS``): the captions repeat from map to map and report to report."""
        cle = (text, artist.get_fontproperties().copy(), self.fig.dpi, self.mw)
        if cle in _RETOURS:
            artist.set_text(_RETOURS[cle])
            return artist
        r = self.fig.canvas.get_renderer()
        for width in range(max(len(text), 1), 19, -3):
            artist.set_text(_mpl("\n".join(textwrap.wrap(text, width, break_on_hyphens=False))))
            if artist.get_window_extent(r).width / self.fig.dpi <= self.mw:
                break
        _RETOURS[cle] = artist.get_text()
        return artist

    def legende_(self, handles: list, titre: str | None, ncol: int) -> None:
        """Legend below the map; fewer columns if it would be wider than the map."""
        r = self.fig.canvas.get_renderer()
        for n in range(max(ncol, 1), 0, -1):
            if self.legende is not None:
                self.legende.remove()
            self.legende = self.fig.legend(
                handles=handles, loc="upper left", ncol=n, frameon=False, fontsize=7.5,
                title=_mpl(titre) if titre else None, title_fontsize=8, alignment="left",
                handlelength=2.2, handleheight=1.2, columnspacing=1.6, borderaxespad=0, borderpad=0,
            )
            if self.legende.get_window_extent(r).width / self.fig.dpi <= self.mw:
                break

    def finir(self) -> None:
        """Stack title, map, legend, source from top to bottom and size the figure."""
        r = self.fig.canvas.get_renderer()
        dpi = self.fig.dpi

        def h(artist) -> float:
            return 0.0 if artist is None else artist.get_window_extent(r).height / dpi

        ht, hs, hl, hc = h(self.titre), h(self.sous_titre), h(self.legende), h(self.source)
        total = PAD * 2 + ht + (hs + 0.05 if hs else 0) + PAD + self.mh + PAD * 1.5 + hl + PAD * 1.5 + hc
        W, H = FIG_WIDTH, total
        self.fig.set_size_inches(W, H)
        y = H - PAD * 1.5
        self.titre.set_position((MARGIN / W, y / H))
        y -= ht + 0.05
        if self.sous_titre is not None:
            self.sous_titre.set_position((MARGIN / W, y / H))
            y -= hs
        y -= PAD
        self.ax.set_position((MARGIN / W, (y - self.mh) / H, self.mw / W, self.mh / H))
        y -= self.mh + PAD * 1.5
        if self.legende is not None:
            self.legende.set_bbox_to_anchor((MARGIN / W, y / H), transform=self.fig.transFigure)
        self.source.set_position((MARGIN / W, PAD / H))

    def enregistrer(self, png: Path, svg: Path | None, ecran: bool = False) -> None:
        png.parent.mkdir(parents=True, exist_ok=True)
        meta = {"Title": self.titre.get_text() if self.titre else ""}
        png_rgb(self.fig, png, dpi=DPI_ECRAN if ecran else DPI, facecolor="white", metadata=meta | {"Software": "diagnostic"},
                compress_level=PNG_COMPRESSION)
        if svg is not None:
            self.fig.savefig(svg, facecolor="white", metadata={"Title": meta["Title"]})


def _echelle(ax) -> mpl.Bbox:
    """Two-tone scale bar in the lower left corner, on a white plate; returns its display box."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    target = width * 0.2
    exp = 10 ** math.floor(math.log10(target))
    length = max(c * exp for c in (1, 2, 5, 10) if c * exp <= target)
    bx, by, bh = x0 + 0.035 * width, y0 + 0.03 * height, 0.011 * height
    if length >= 1000:
        label = f"{fmt.nombre(length / 1000, 0 if length % 1000 == 0 else 1)}{fmt.NNBSP}km"
    else:
        label = f"{fmt.nombre(length, 0)}{fmt.NNBSP}m"
    artists = [
        ax.add_patch(mpl.Rectangle((bx, by), length / 2, bh, facecolor="#222222", edgecolor="#222222", lw=0.6, zorder=21)),
        ax.add_patch(mpl.Rectangle((bx + length / 2, by), length / 2, bh, facecolor="white", edgecolor="#222222",
                               lw=0.6, zorder=21)),
    ]
    for x, t in ((bx, "0"), (bx + length, label)):
        artists.append(ax.text(x, by + bh * 1.8, t, ha="center", va="bottom", fontsize=6.5, color="#222222",
                               zorder=22))
    r = ax.figure.canvas.get_renderer()
    box_ = mpl.Bbox.union([a.get_window_extent(r) for a in artists]).padded(4)
    (px0, py0), (px1, py1) = ax.transData.inverted().transform(box_.get_points())
    ax.add_patch(mpl.Rectangle((px0, py0), px1 - px0, py1 - py0, facecolor="white", edgecolor="none", alpha=0.92,
                           zorder=20))
    return box_


def _nord(ax) -> mpl.Bbox:
    """Small north arrow in the upper right corner (grid north of the projection)."""
    arrow = ax.annotate("", xy=(0.965, 0.975), xytext=(0.965, 0.905), xycoords="axes fraction",
                        arrowprops=dict(arrowstyle="-|>", color="#222222", lw=1.2, mutation_scale=11), zorder=22)
    n = ax.text(0.965, 0.895, "N", transform=ax.transAxes, ha="center", va="top", fontsize=8,
                fontweight="bold", color="#222222", zorder=22, path_effects=_halo())
    r = ax.figure.canvas.get_renderer()
    return mpl.Bbox.union([arrow.get_window_extent(r), n.get_window_extent(r)])


def _plus_grand(geom) -> Polygon | None:
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, Polygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    flat = []
    for g in polys:
        flat.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    return max(flat, key=lambda p: p.area) if flat else None


def _point_label(geom):
    poly = _plus_grand(geom)
    if poly is None:
        return None
    try:
        return polylabel(poly, tolerance=max(math.sqrt(poly.area) / 50, 1.0))
    except Exception:  # degenerate polygon
        return poly.representative_point()


_DECALAGES = (  # offset in points, ha, va: right, left, above, below
    (4, 2, "left", "bottom"),
    (-4, 2, "right", "bottom"),
    (4, -2, "left", "top"),
    (-4, -2, "right", "top"),
    (0, 5, "center", "bottom"),
    (0, -5, "center", "top"),
)


def _etiquettes(ax, items: list[tuple[float, float, str]], occupees: list[mpl.Bbox], *, fontsize: float,
                point: bool = True, style: str = "normal", color: str = "#1a1a1a", weight: str = "normal",
                max_n: int | None = None) -> int:
    """Place labels greedily (items in priority order), skipping those that would overlap.

    Boxes are padded by a few pixels so that neighbouring names never touch.
    """
    r = ax.figure.canvas.get_renderer()
    ecart = 4 * ax.figure.dpi / 100
    axbox = ax.get_window_extent(r)
    placed = 0
    for x, y, text in items:
        if max_n is not None and placed >= max_n:
            break
        offsets = _DECALAGES if point else ((0, 0, "center", "center"),)
        t = None
        for dx, dy, ha, va in offsets:
            if t is None:
                t = ax.annotate(_mpl(text), (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                                fontsize=fontsize, fontstyle=style, fontweight=weight, color=color,
                                path_effects=_halo(), zorder=30)
            else:  # the same label tried at the next offset
                t.xyann = (dx, dy)
                t.set_horizontalalignment(ha)
                t.set_verticalalignment(va)
            bb = t.get_window_extent(r).padded(ecart)
            inside = axbox.x0 <= bb.x0 and bb.x1 <= axbox.x1 and axbox.y0 <= bb.y0 and bb.y1 <= axbox.y1
            if inside and not any(bb.overlaps(o) for o in occupees):
                occupees.append(bb)
                if point:
                    (dot,) = ax.plot([x], [y], marker="o", ms=2.6, color=color, mec="white", mew=0.6, zorder=29)
                    # keep other labels off this dot, so that each dot reads with its own name
                    occupees.append(dot.get_window_extent(r).padded(ecart))
                placed += 1
                break
        else:
            t.remove()
    return placed


def _noms_communes(communes: gpd.GeoDataFrame, n: int) -> list[tuple[float, float, str]]:
    g = _plottable(_perimetre(communes))
    if "population" in g.columns:
        g = g.sort_values("population", ascending=False, kind="stable")
    out = []
    for _, row in g.head(n).iterrows():
        p = row.geometry.representative_point()
        out.append((p.x, p.y, str(row["nom"])))
    return out


def _noms_departements(ctx: ReportContext, codes: list[str], bounds, contour) -> list[tuple]:
    """Touched départements first, then neighbours visible in the frame."""
    view = box(*bounds).buffer(-0.04 * (bounds[2] - bounds[0]))
    deps = _plottable(ctx.departements)
    items = []
    for touched in (True, False):
        for _, d in deps.iterrows():
            if (str(d["code"]) in codes) != touched:
                continue
            g = d.geometry.intersection(view)
            if contour is not None and touched:
                g = g.difference(contour.buffer(0.02 * (bounds[2] - bounds[0])))
            if g.is_empty or g.area < 0.02 * view.area:
                continue
            p = _point_label(g)
            if p is not None:
                items.append((p.x, p.y, str(d["nom"]), touched))
    return items


def _fond(ax, ctx: ReportContext, codes: list[str]) -> None:
    deps = _plottable(ctx.departements)
    if len(deps):
        _dessiner(ax, deps.geometry, facecolor=COLOR_VOISINS, edgecolor=COLOR_LIMITE_VOISINS, linewidth=0.6, zorder=1)


def _contours(ax, ctx: ReportContext, codes: list[str], contour) -> None:
    lim = _limites_departements(ctx, codes)
    if len(lim):
        _dessiner(ax, lim.geometry, edgecolor=COLOR_LIMITE_DEP, linewidth=1.0, zorder=10)
    if contour is not None:
        _dessiner(ax, [contour], edgecolor=COLOR_CONTOUR, linewidth=2.0, zorder=11, capstyle="round",
                  joinstyle="round")


def _noms_deps_txt(ctx: ReportContext, codes: list[str]) -> str:
    """``"le département de Saône-et-Loire (71)"`` / ``"les départements de la Côte-d'Or (21) et de ..."``."""
    deps = ctx.departements.drop_duplicates("code")
    deps = deps.set_index(deps["code"].astype(str))
    noms = [
        f"{de_territoire(Territoire('departement', c, str(deps.loc[c, 'nom'])))} ({c})" if c in deps.index else c
        for c in codes
    ]
    return ("le département " if len(codes) == 1 else "les départements ") + fmt.liste(noms)


def carte_situation(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Perimeter communes filled, other communes of the département(s) grey, outlines, names.

    None when no commune has a geometry (contours unavailable).
    """
    if not len(_plottable(ctx.communes)):
        return None
    codes = _deps_touches(ctx.communes)
    contour = _contour_perimetre(ctx.communes)
    mise = _Mise(_emprise(ctx, codes))
    ax = mise.ax
    _fond(ax, ctx, codes)
    c = _plottable(ctx.communes)
    c = c[c["departement"].astype(str).isin(codes)]
    inside = c["perimetre"].fillna(False).astype(bool).to_numpy()
    if (~inside).any():
        _dessiner(ax, c[~inside].geometry, facecolor=COLOR_AUTRES, edgecolor="white", linewidth=0.25, zorder=2)
    if inside.any():
        _dessiner(ax, c[inside].geometry, facecolor=COLOR_PERIMETRE, edgecolor="white", linewidth=0.3, zorder=3)
    _contours(ax, ctx, codes, contour)

    deps_txt = _noms_deps_txt(ctx, codes)
    titre = f"Situation : {ctx.nom}"
    n_perim = int(_perimetre(ctx.communes).shape[0])
    sous_titre = f"{fmt.nombre(n_perim)} commune{'s' if n_perim > 1 else ''} du territoire, dans {deps_txt}"
    mise.textes(titre, sous_titre, CONTOURS_SOURCE)
    autres = "Autres communes du département" if len(codes) == 1 else "Autres communes des départements"
    handles = [
        mpl.Patch(facecolor=COLOR_PERIMETRE, edgecolor=COLOR_CONTOUR, linewidth=1.6,
              label=_mpl(f"Communes du territoire ({ctx.nom})")),
        mpl.Patch(facecolor=COLOR_AUTRES, edgecolor="white", label=autres),
        mpl.Line2D([], [], color=COLOR_LIMITE_DEP, linewidth=1.0, label="Limite départementale"),
    ]
    mise.legende_(handles, None, ncol=2)
    mise.finir()

    occupees = [_echelle(ax), _nord(ax)]
    _etiquettes(ax, _noms_communes(ctx.communes, 12), occupees, fontsize=7.5, weight="bold", max_n=8)
    deps_items = _noms_departements(ctx, codes, mise.bounds, contour)
    for touched in (True, False):
        _etiquettes(ax, [(x, y, (n.upper() if touched else n)) for x, y, n, t in deps_items if t == touched],
                    occupees, fontsize=8 if touched else 7, point=False, style="italic",
                    color="#555555" if touched else "#8a8a8a")

    png = out_dir / "situation.png"
    svg = None if ecran else chemin_svg(png)
    mise.enregistrer(png, svg, ecran)
    legende = f"Carte 1 – Situation du territoire « {ctx.nom} » dans {deps_txt}. {CONTOURS_SOURCE}"
    return Carte("situation", png, svg, titre, legende)


# --- APL choropleth --------------------------------------------------------------------

def fisher_jenks(values: np.ndarray, k: int) -> list[float]:
    """Upper bounds of the ``k`` classes that minimise the within-class sum of squares (Fisher, 1958).

    Exact dynamic programme over the sorted values, one layer per class, each layer a vector operation on
    the n x n matrix of segment variances (n <= 600 here: 2.9 MB). Ties go to the longest last class, as in
    mapclassify's ``FisherJenks`` (the tests check both agree).
    """
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    k = min(k, n)
    s1 = np.concatenate(([0.0], np.cumsum(v)))
    s2 = np.concatenate(([0.0], np.cumsum(v * v)))
    i = np.arange(n)[:, None]  # segment start (0-based, inclusive)
    j = np.arange(n)[None, :]  # segment end (0-based, inclusive)
    w = (j - i + 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssd = (s2[j + 1] - s2[i]) - (s1[j + 1] - s1[i]) ** 2 / w
    ssd = np.where(j >= i, np.maximum(ssd, 0.0), np.inf)
    cost = ssd[0].copy()  # cost[e]: best cost of values[0..e] in c classes (c = 1 here)
    start = []  # start[c][e]: start of the last class of the best split of values[0..e] in c + 2 classes
    for _ in range(1, k):
        # last class = values[s..e], s >= 1, preceded by values[0..s-1] in one class fewer
        total = cost[:-1, None] + ssd[1:, :]  # row s-1 -> start s
        best = np.argmin(total, axis=0)  # ties: earliest start
        start.append(best + 1)
        cost = total[best, np.arange(n)]
    bounds, e = [float(v[-1])], n - 1
    for c in range(k - 2, -1, -1):
        s = int(start[c][e])
        bounds.append(float(v[s - 1]))
        e = s - 1
    return bounds[::-1]


def classes(values: np.ndarray, seuil: float = DEFAUTS["apl_sous_densite"], k: int = 5) -> list[float]:
    """Class breaks (lower-inclusive) from Fisher-Jenks, rounded to 0.1, forced to include ``seuil``.

    A value v falls in class i when breaks[i-1] <= v < breaks[i].
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return []
    lo, hi = float(v.min()), float(v.max())
    uniq = np.unique(v)
    breaks: list[float] = []
    if len(uniq) > 2:
        # Fisher-Jenks is quadratic: classify a quantile sample for big départements
        sample = np.quantile(v, np.linspace(0, 1, 600)) if len(v) > 600 else v
        breaks = [round(b, 1) for b in fisher_jenks(sample, min(k, len(uniq) - 1))[:-1]]
    if lo < seuil <= hi:
        breaks = [b for b in breaks if abs(b - seuil) >= 0.25] + [seuil]
    breaks = sorted({b for b in breaks if lo < b <= hi})
    # rounding can leave a class empty: merge it into its neighbour (never drop the threshold)
    while True:
        counts = np.bincount(np.searchsorted(np.asarray(breaks), v, side="right"), minlength=len(breaks) + 1)
        empty = [i for i, n in enumerate(counts) if n == 0]
        removable = [b for i in empty for b in (breaks[i] if i < len(breaks) else None,
                                                 breaks[i - 1] if i > 0 else None) if b is not None and b != seuil]
        if not removable:
            return breaks
        breaks.remove(removable[0])


def _libelles_classes(breaks: list[float], lo: float, hi: float) -> list[str]:
    n = lambda x: fmt.nombre(x, 1)  # noqa: E731
    if not breaks:
        return [f"de {n(lo)} à {n(hi)}" if n(lo) != n(hi) else n(lo)]
    out = [f"moins de {n(breaks[0])}"]
    for a, b in zip(breaks, breaks[1:]):
        out.append(f"de {n(a)} à moins de {n(b)}")
    out.append(f"{n(breaks[-1])} ou plus")
    return out


def _couleurs(breaks: list[float], lo: float, seuil: float) -> list:
    """Reds under the threshold (darker = lower), blues above (darker = higher)."""
    n_cls = len(breaks) + 1
    uppers = breaks + [math.inf]
    n_low = sum(1 for u in uppers if u <= seuil)
    n_high = n_cls - n_low
    cmap = mpl.matplotlib.colormaps["RdBu"]
    low = [cmap(x) for x in np.linspace(0.06, 0.36, n_low)] if n_low > 1 else [cmap(0.2)] * n_low
    high = [cmap(x) for x in np.linspace(0.62, 0.94, n_high)] if n_high > 1 else [cmap(0.75)] * n_high
    return low + high


def _legende_apl(ctx: ReportContext, colonne: str) -> tuple[str, str, str]:
    """(title vintage, unit, caption source) read from the mapped indicator's rows and provenance."""
    ind = ctx.indicateurs
    rows = ind[ind["indicateur"] == colonne]
    mill = str(rows["millesime"].dropna().iloc[0]) if len(rows) and rows["millesime"].notna().any() else ""
    unite = str(rows["unite"].dropna().iloc[0]) if len(rows) and rows["unite"].notna().any() else ""
    sid = str(rows["source"].dropna().iloc[0]) if len(rows) and rows["source"].notna().any() else ""
    par_id = sources_par_id(ctx)
    producteur = producteur_court(str(par_id.get(sid, {}).get("producteur") or "")) or (
        nom_source(sid, par_id) if sid else "DREES"
    )
    # DREES standardises the population of year N-2 for the APL of year N
    # (workbook header: "APL 2023 ... Populations par sexe et âge 2021").
    std = f" (population standardisée {int(mill) - 2})" if mill.isdigit() else ""
    src = f"Source : {producteur}, APL {mill}{std}".rstrip() + " ; " + CONTOURS_SOURCE.removeprefix("Source : ")
    return mill, unite, src


def _communes_des_departements(ctx: ReportContext):
    """(codes of the départements the perimeter touches, their plottable communes): the extent of a choropleth."""
    codes = _deps_touches(ctx.communes)
    c = _plottable(ctx.communes)
    return codes, c[c["departement"].astype(str).isin(codes)].copy()


def _choroplethe(ctx: ReportContext, codes):
    """(perimeter outline, figure) of a commune choropleth over the départements `codes`, background drawn."""
    contour = _contour_perimetre(ctx.communes)
    mise = _Mise(_emprise(ctx, codes))
    _fond(mise.ax, ctx, codes)
    return contour, mise


def carte_apl(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Choropleth of the APL per commune; None when the column holds no value at all."""
    colonne, seuil = indicateur_carte(ctx), seuil_apl(ctx)
    if colonne is None or not len(_plottable(ctx.communes)):
        return None
    codes, c = _communes_des_departements(ctx)
    vals = c[colonne].astype(float).to_numpy()
    ok = ~np.isnan(vals)
    if not ok.any():
        return None
    contour, mise = _choroplethe(ctx, codes)
    ax = mise.ax

    breaks = classes(vals, seuil)
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    couleurs = _couleurs(breaks, lo, seuil)
    cls = np.searchsorted(np.asarray(breaks), vals[ok], side="right")
    _dessiner(ax, c[ok].geometry, facecolor=[couleurs[i] for i in cls], edgecolor="white", linewidth=0.2, zorder=2)
    nd = c[~ok]
    with mpl.matplotlib.rc_context({"hatch.color": COLOR_ND_EDGE, "hatch.linewidth": 0.5}):
        if len(nd):
            _dessiner(ax, nd.geometry, facecolor="white", edgecolor=COLOR_ND_EDGE, hatch="//////", linewidth=0.3,
                      zorder=2)
    _contours(ax, ctx, codes, contour)

    mill, unite, source = _legende_apl(ctx, colonne)
    titre = f"Accessibilité potentielle localisée (APL) aux médecins généralistes{', ' + mill if mill else ''}"
    sous_titre = f"Par commune : {ctx.nom} et {_noms_deps_txt(ctx, codes)}"
    mise.textes(titre, sous_titre, source)
    counts = np.bincount(cls, minlength=len(couleurs))
    handles = [
        mpl.Patch(facecolor=col, edgecolor="none", label=f"{lab} ({fmt.nombre(int(n))})")
        for col, lab, n in zip(couleurs, _libelles_classes(breaks, lo, hi), counts)
    ]
    if len(nd):
        with mpl.matplotlib.rc_context({"hatch.color": COLOR_ND_EDGE, "hatch.linewidth": 0.5}):
            handles.append(mpl.Patch(facecolor="white", edgecolor=COLOR_ND_EDGE, hatch="//////", linewidth=0.5,
                                 label=f"Donnée non disponible ({fmt.nombre(len(nd))})"))
    handles += [
        mpl.Line2D([], [], color=COLOR_CONTOUR, linewidth=2.0, label=_mpl(f"Limite du territoire ({ctx.nom})")),
        mpl.Line2D([], [], color=COLOR_LIMITE_DEP, linewidth=1.0, label="Limite départementale"),
    ]
    unite_txt = unite or "consultations/visites accessibles par an et par habitant standardisé"
    sous_seuil = bool((vals[ok] < seuil).any())
    seuil_txt = fmt.nombre(seuil, 1)
    titre_leg = (
        f"APL {mill}, en {unite_txt} (nombre de communes)\n"
        f"Seuil de sous-densité : moins de {seuil_txt} "
        + ("(classes en rouge)" if sous_seuil else "(aucune commune sous le seuil)")
    )
    mise.legende_(handles, titre_leg, ncol=2)
    with mpl.matplotlib.rc_context({"hatch.color": COLOR_ND_EDGE, "hatch.linewidth": 0.5}):
        mise.finir()
        occupees = [_echelle(ax), _nord(ax)]
        _etiquettes(ax, _noms_communes(ctx.communes, 8), occupees, fontsize=7, weight="bold", max_n=5)
        png = out_dir / f"{colonne}.png"
        svg = None if ecran else chemin_svg(png)
        mise.enregistrer(png, svg, ecran)
    legende = (
        f"Carte 2 – Accessibilité potentielle localisée (APL) aux médecins généralistes{' en ' + mill if mill else ''}, "
        f"par commune. "
        + (f"Les classes sous le seuil de {seuil_txt} consultations par habitant et par an (zones sous-denses) sont en rouge"
           if sous_seuil else f"Aucune commune n'est sous le seuil de {seuil_txt} consultations par habitant et par an")
        + f"{' ; les communes hachurées n’ont pas de donnée' if len(nd) else ''}. {source}"
    )
    return Carte(colonne, png, svg, titre, legende)


# --- establishments (FINESS) ---------------------------------------------------------------

# groupe -> (colour, marker); 'autre' (social and medico-social structures) is not drawn
STYLE_ETABLISSEMENTS = {
    "hopital": ("#b2182b", "s"), "clinique": ("#ef8a62", "s"), "clcc": ("#762a83", "s"),
    "ehpad": ("#1b7837", "^"), "centre_sante": ("#2166ac", "o"), "msp": ("#5aae61", "o"),
    "pharmacie": ("#35978f", "P"), "laboratoire": ("#8c510a", "D"),
}


def _points_etablissements(ctx: ReportContext):
    """(establishments drawn, x, y in the map's CRS) for those with coordinates and a named groupe."""
    from pyproj import Transformer

    e = ctx.etablissements
    if e is None or not len(e):
        return None
    e = e[e["groupe"].isin(list(STYLE_ETABLISSEMENTS)) & e["lon"].notna() & e["lat"].notna()]
    if not len(e):
        return None
    x, y = Transformer.from_crs("EPSG:4326", ctx.communes.crs, always_xy=True).transform(
        e["lon"].to_numpy(float), e["lat"].to_numpy(float))
    return e, np.asarray(x), np.asarray(y)


def _fond_perimetre(ctx: ReportContext, perim, remplissage: str, bord: str) -> tuple[_Mise, gpd.GeoDataFrame, np.ndarray]:
    """A map framed on the perimeter `perim` (6 % margin): background, the other communes in grey, the perimeter's
    communes filled with `remplissage` and edged with `bord`, département and perimeter outlines. Returns the
    layout, the plottable communes and the mask of the perimeter's ones."""
    contour = _contour_perimetre(ctx.communes)
    minx, miny, maxx, maxy = perim.total_bounds
    m = 0.06 * max(maxx - minx, maxy - miny, 1.0)
    mise = _Mise((minx - m, miny - m, maxx + m, maxy + m))
    _fond(mise.ax, ctx, [])
    c = _plottable(ctx.communes)
    inside = c["perimetre"].fillna(False).astype(bool).to_numpy()
    _dessiner(mise.ax, c[~inside].geometry, facecolor=COLOR_AUTRES, edgecolor="white", linewidth=0.4, zorder=2)
    _dessiner(mise.ax, c[inside].geometry, facecolor=remplissage, edgecolor=bord, linewidth=0.4, zorder=3)
    _contours(mise.ax, ctx, _deps_touches(ctx.communes), contour)
    return mise, c, inside


def carte_etablissements(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """Establishments of the perimeter's communes (FINESS, geolocated) as points by type, on the perimeter.

    None without FINESS or without any geolocated establishment of a mapped type."""
    pts = _points_etablissements(ctx)
    perim = _plottable(_perimetre(ctx.communes))
    if pts is None or not len(perim):
        return None
    e, x, y = pts
    mise, _, _ = _fond_perimetre(ctx, perim, "#e8f0f8", "#9fb6cc")
    ax = mise.ax
    handles = []
    for groupe, (couleur, marqueur) in STYLE_ETABLISSEMENTS.items():
        sel = (e["groupe"] == groupe).to_numpy()
        if not sel.any():
            continue
        ax.scatter(x[sel], y[sel], s=46, c=couleur, marker=marqueur, edgecolors="white", linewidths=0.6, zorder=20)
        libelle = str(e.loc[sel, "groupe_libelle"].iloc[0])
        handles.append(mpl.Line2D([], [], linestyle="none", marker=marqueur, markersize=6, markerfacecolor=couleur,
                              markeredgecolor="white", label=f"{libelle} ({fmt.nombre(int(sel.sum()))})"))
    handles.append(mpl.Line2D([], [], color=COLOR_CONTOUR, linewidth=2.0, label=_mpl(f"Limite du territoire ({ctx.nom})")))
    from .source_finess import source_finess

    source = f"Source : {source_finess(ctx)} ; " + CONTOURS_SOURCE.removeprefix("Source : ")
    titre = f"Établissements de santé et structures de soins : {ctx.nom}"
    n = len(e)
    mise.textes(titre, f"{fmt.nombre(n)} établissement{'s' if n > 1 else ''} géolocalisé{'s' if n > 1 else ''}, "
                       "par type (hors établissements sociaux et médico-sociaux autres que les EHPAD)", source)
    png, svg = _terminer(mise, ctx, handles, out_dir / "etablissements", ecran)
    legende = (f"Carte – Établissements de santé, EHPAD, centres et maisons de santé, pharmacies et laboratoires des "
               f"communes du territoire « {ctx.nom} », d'après leurs coordonnées dans FINESS. {source}")
    return Carte("etablissements", png, svg, titre, legende)


def _terminer(mise: _Mise, ctx: ReportContext, handles: list, chemin: Path, ecran: bool) -> tuple[Path, Path | None]:
    """Legend below the map, layout, scale bar, north arrow, names of the main communes; write
    ``chemin``.png (and .svg unless ``ecran``)."""
    mise.legende_(handles, None, ncol=2)
    mise.finir()
    occupees = [_echelle(mise.ax), _nord(mise.ax)]
    _etiquettes(mise.ax, _noms_communes(ctx.communes, 8), occupees, fontsize=7, weight="bold", max_n=5)
    png = chemin.with_suffix(".png")
    svg = None if ecran else chemin_svg(png)
    mise.enregistrer(png, svg, ecran)
    return png, svg


# --- general practitioners per commune of practice (RPPS) ----------------------------------------

def textes_medecins(seuil: int, total: int, n_secret: int) -> tuple[str, str]:
    """(subtitle, legend label of the masked communes) of the GP map, stating the secret threshold ``seuil``."""
    parts = [f"{fmt.nombre(total)} médecins dans les communes du territoire qui en comptent au moins {seuil}"
             if total else f"Aucune commune du territoire ne compte {seuil} médecins ou plus"]
    if n_secret:
        parts.append(f"{fmt.nombre(n_secret)} commune{'s' if n_secret > 1 else ''} du territoire en "
                     f"compte{'nt' if n_secret > 1 else ''} de {sous_le_seuil(seuil)}")
    return " ; ".join(parts), f"{sous_le_seuil(seuil)} médecins (effectif non diffusé, secret statistique)"


def carte_medecins(ctx: ReportContext, out_dir: Path, ecran: bool = False) -> Carte | None:
    """General practitioners per commune of practice (RPPS), as circles whose area is the count, over the
    communes of the département(s). Communes with 1 to threshold - 1 GPs show a hollow dot, not the count (secret
    statistique, threshold of pipelines/diagnostic.toml). None without RPPS data."""
    c = _plottable(ctx.communes)
    if "nb_mg" not in c.columns or not (c["nb_mg"].notna().any() or c.get("nb_mg_secret", False).any()):
        return None
    codes = _deps_touches(ctx.communes)
    c = c[c["departement"].astype(str).isin(codes)]
    contour = _contour_perimetre(ctx.communes)
    mise = _Mise(_emprise(ctx, codes))
    ax = mise.ax
    _fond(ax, ctx, codes)
    inside = c["perimetre"].fillna(False).astype(bool).to_numpy()
    _dessiner(ax, c[~inside].geometry, facecolor=COLOR_AUTRES, edgecolor="white", linewidth=0.25, zorder=2)
    _dessiner(ax, c[inside].geometry, facecolor="#e8f0f8", edgecolor="#9fb6cc", linewidth=0.3, zorder=3)
    _contours(ax, ctx, codes, contour)
    pts = c.geometry.representative_point()
    nb = c["nb_mg"].astype(float).to_numpy()
    secret = c["nb_mg_secret"].fillna(False).astype(bool).to_numpy() if "nb_mg_secret" in c.columns else np.zeros(len(c), bool)
    montre = ~np.isnan(nb) & (nb > 0)
    nmax = max(float(nb[montre].max()) if montre.any() else 0.0, 10.0)  # scale: at least 10 GPs
    taille = lambda n: 260.0 * n / nmax  # noqa: E731 - marker area (points²) proportional to the count
    ordre = np.argsort(-np.where(montre, nb, 0))  # big circles under small ones
    sel = [i for i in ordre if montre[i]]
    ax.scatter(pts.x.to_numpy()[sel], pts.y.to_numpy()[sel], s=[taille(nb[i]) for i in sel], c="#2166ac", alpha=0.75,
               edgecolors="white", linewidths=0.6, zorder=20)
    if secret.any():
        ax.scatter(pts.x.to_numpy()[secret], pts.y.to_numpy()[secret], s=9, facecolors="none", edgecolors="#2166ac",
                   linewidths=0.8, zorder=20)
    total = int(np.nansum(nb[inside & montre]))
    n_secret = int((secret & inside).sum())
    titre = f"Médecins généralistes par commune d'exercice : {ctx.nom} et {_noms_deps_txt(ctx, codes)}"
    p = seuil_professionnels(ctx)
    sous_titre, etiquette_secret = textes_medecins(p, total, n_secret)
    mill = ""
    rows = ctx.indicateurs[ctx.indicateurs["indicateur"] == "nb_mg"]
    if len(rows) and rows["millesime"].notna().any():
        mill = fmt.date_fr(str(rows["millesime"].dropna().iloc[0]))
    source = (f"Source : Annuaire santé (RPPS, ANS), extraction{' du ' + mill if mill else ''} ; médecins ayant une activité "
              "de médecine générale, comptés une fois par commune d'exercice ; " + CONTOURS_SOURCE.removeprefix("Source : "))
    mise.textes(titre, sous_titre, source)
    exemples = sorted({round(nmax), max(p, round(nmax / 2)), p}, reverse=True)
    handles = [mpl.Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(taille(v)), markerfacecolor="#2166ac",
                      alpha=0.75, markeredgecolor="white", label=f"{fmt.nombre(v)} médecins") for v in exemples]
    handles.append(mpl.Line2D([], [], linestyle="none", marker="o", markersize=3, markerfacecolor="none",
                          markeredgecolor="#2166ac", label=etiquette_secret))
    handles.append(mpl.Line2D([], [], color=COLOR_CONTOUR, linewidth=2.0, label=_mpl(f"Limite du territoire ({ctx.nom})")))
    png, svg = _terminer(mise, ctx, handles, out_dir / "medecins", ecran)
    legende = (f"Carte – Médecins généralistes par commune d'exercice, territoire « {ctx.nom} » et "
               f"{_noms_deps_txt(ctx, codes)} ; l'aire des cercles est proportionnelle à l'effectif. {source}")
    return Carte("medecins", png, svg, titre, legende)
