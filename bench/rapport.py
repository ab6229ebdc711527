"""Report benchmark of issue 16: the report's cost against that of its figures, before and after.

A section of `make bench` (`bench/run.py`), or alone in a few minutes: `.venv/bin/python bench/run.py --rapport
[--avant <commit>] [--runs 1]`. On the full mirror of `tests/test_miroir_complet.py` (genuine files plus
the hand-made fixtures at their URLs: every section of the report filled), for each code version (the
working tree and, with `--avant`, the package of that commit, extracted with `git archive`), in one run
and interleaved so that both see the same load:

- `diagnostic.load()` of the CPTS (the figures alone), a warm `diagnostic run` without then with the PDF,
  as medians; the ratios report / load are the issue's targets (≤ 2 and ≤ 4);
- a cold run with the full mirror (ingest, build, report with PDF), target ≤ 30 s;
- batch reports of the first N EPCI (100; 10 in quick mode), target ≤ 45 s for 100, and with `--pdf`;
- the peak resident memory of each child, target ≤ 1.5 GiB;
- one warm run under cProfile with `DIAGNOSTIC_WORKERS=1`: the functions the gains come from.

The 1-minute load average is recorded before each measure: on a shared machine absolute times are noisy,
same-run ratios much less so.
"""

from __future__ import annotations

import pstats
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

SLUG = "cpts-centre-saone-et-loire"
CIBLES = {"ratio_sans_pdf": 2.0, "ratio_avec_pdf": 4.0, "froid_s": 30.0, "lot_100_s": 45.0, "memoire_mio": 1536}
FONCTIONS = {  # label: (file suffix, function) of the warm profile
    "savefig": ("matplotlib/figure.py", "savefig"),
    "series_graphiques": ("report/series.py", "graphiques"),
    "carte_situation": ("report/maps.py", "carte_situation"),
    "carte_apl": ("report/maps.py", "carte_apl"),
    "carte_medecins": ("report/maps.py", "carte_medecins"),
    "carte_etablissements": ("report/maps.py", "carte_etablissements"),
    "carte_niveau_vie": ("report/filosofi.py", "carte_niveau_vie"),
    "carte_taux_pauvrete": ("report/filosofi.py", "carte_taux_pauvrete"),
    "carte_acteurs": ("report/annuaire.py", "carte"),
    "pyramide": ("report/pyramide.py", "pyramide"),
    "niveau_departemental": ("report/document.py", "niveau_departemental"),
    "document": ("report/document.py", "document"),
    "texte_get_layout": ("matplotlib/text.py", "_get_layout"),
    "write_docx": ("report/word.py", "write_docx"),
    "docx_cellules": ("report/word.py", "_cell_text"),
    "import_matplotlib": ("matplotlib/__init__.py", "<module>"),
    "import_rapport": ("report/__init__.py", "<module>"),
    "write_report": ("report/__init__.py", "write_report"),
}
FONCTIONS_FROID = {  # the same for the cold run (ingest, build, report with PDF)
    "ingest_all": ("diagnostic/pipeline.py", "ingest_all"),
    "contours_check_file": ("sources/contours.py", "check_file"),
    "contours_parse": ("sources/contours.py", "parse"),
    "apl_check_file": ("sources/apl.py", "check_file"),
    "apl_parse": ("sources/apl.py", "parse"),
    "cog_check_file": ("sources/cog.py", "check_file"),
    "cog_parse": ("sources/cog.py", "parse"),
    "build": ("diagnostic/warehouse.py", "build"),
    "run_models": ("diagnostic/warehouse.py", "run_models"),
    "write_report": ("report/__init__.py", "write_report"),
    "write_pdf": ("report/pdf.py", "write_pdf"),
}
BUDGET_S = 20 * 60  # full mode: measures not started past this many seconds are skipped, and said so


def miroir_complet(project: Path, dest: Path) -> Path:
    """The full mirror of tests/test_miroir_complet.py (same function, imported from the tests)."""
    sys.path.insert(0, str(project / "tests"))
    try:
        from test_miroir_complet import miroir_complet as construire
    finally:
        sys.path.pop(0)
    return construire(dest)


def code_du_commit(project: Path, commit: str, dest: Path) -> Path:
    """``src/diagnostic`` at ``commit``, extracted into ``dest`` with that commit's ``pipelines/`` (registry,
    settings) and ``data/territoires/``: an older package does not know the sources registered since; the
    folder to put on PYTHONPATH."""
    tar = subprocess.run(["git", "-C", str(project), "archive", "--format=tar", commit, "src/diagnostic", "pipelines",
                          "data/territoires"], capture_output=True, check=True).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    return dest / "src"


def _profil(run_child, py: str, src: Path, ws: Path, miroir: str, log: Path, args: list[str],
            fonctions: dict) -> dict:
    """One run of ``diagnostic.cli args`` under cProfile with a CPU-time clock (``profil_cpu.py``: the load of
    other processes does not inflate it), ``DIAGNOSTIC_WORKERS=1``; cumulative CPU seconds of ``fonctions``."""
    prof = ws / "profil.prof"
    wall, _, rc, cpu = run_child([py, str(Path(__file__).with_name("profil_cpu.py")), str(prof), "-m", "diagnostic.cli", *args],
                                 ws, miroir, log, src=src, extra={"DIAGNOSTIC_WORKERS": "1"})
    if rc != 0:
        return {"echec": f"code de sortie {rc}"}
    stats = pstats.Stats(str(prof)).stats
    out = {"total_s": round(wall, 2), "total_cpu_s": round(cpu, 2)}
    for label, (fichier, fonction) in fonctions.items():
        hits = [(v[1], v[3]) for (f, _, func), v in stats.items() if func == fonction and f.endswith(fichier)]
        if hits:
            calls, cum = max(hits, key=lambda h: h[1])
            out[label] = {"appels": calls, "cumul_s": round(cum, 3)}
    prof.unlink(missing_ok=True)
    return out


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def mesurer(*, project: Path, root: Path, versions: dict[str, Path], run_child, loadavg, py: str, runs: int,
            rapide: bool, log: Path) -> dict:
    """Every measure of the section, for each code version (name -> folder on PYTHONPATH). Quick mode: batches
    of 10 EPCI, no cold profile. Full mode (``make bench-16``): batches of 100 EPCI (and with ``--pdf``), a
    cold run profiled too; a measure not started within ``BUDGET_S`` is skipped and marked so."""
    import time

    debut = time.perf_counter()
    miroir = str(miroir_complet(project, root / "miroir_complet"))
    n_lot = 10 if rapide else 100
    res: dict = {"versions": {}, "runs": runs, "rapide": rapide, "lot_epci": n_lot, "cibles": CIBLES,
                 "uptime_debut": _uptime(), "sautees": []}
    ws_de = {}
    def projet_de(src: Path) -> Path:  # registry and perimeters of that version (code_du_commit), else the project's
        return src.parent if (src.parent / "pipelines").is_dir() and src.parent != project else project

    for nom, src in versions.items():
        ws = root / f"ws_{nom}"
        (ws / "data").mkdir(parents=True)
        shutil.copytree(projet_de(src) / "pipelines", ws / "pipelines")
        shutil.copytree(projet_de(src) / "data" / "territoires", ws / "data" / "territoires")
        ws_de[nom] = ws
        res["versions"][nom] = {"code": str(src), "mesures": {}}

    def dans_le_budget(quoi: str, prevu_s: float = 0.0) -> bool:
        """True when the measure can start: quick mode, or its predicted end (``prevu_s``) within the budget."""
        if rapide or time.perf_counter() - debut + prevu_s < BUDGET_S:
            return True
        res["sautees"].append(quoi)
        print(f"  budget de temps dépassé : {quoi} non mesuré", flush=True)
        return False

    def mesure(nom: str, mid: str, args: list[str], extra: dict | None = None, prevu_s: float = 0.0) -> None:
        if not dans_le_budget(f"{mid} ({nom})", prevu_s):
            return
        charge = loadavg()
        wall, rss, rc, cpu = run_child(args, ws_de[nom], miroir, log, src=versions[nom], extra=extra)
        m = res["versions"][nom]["mesures"].setdefault(mid, {"s": [], "cpu_s": [], "memoire_mio": [], "charge": [], "echec": None})
        if rc != 0:
            m["echec"] = f"code de sortie {rc}, voir {log.name}"
            return
        m["s"].append(round(wall, 3)); m["cpu_s"].append(round(cpu, 3)); m["memoire_mio"].append(round(rss, 1))
        m["charge"].append(charge)
        print(f"  [{nom}] {mid} : {wall:.1f} s, CPU {cpu:.1f} s, {rss:.0f} Mio (charge {charge})", flush=True)

    cli = [py, "-m", "diagnostic.cli"]
    load = [py, "-c", f"import diagnostic; diagnostic.load({SLUG!r})"]
    print("- Rapport (issue 16) : exécution à froid, miroir complet", flush=True)
    for nom in versions:  # cold: empty workspace, ingest + build + report with PDF
        mesure(nom, "froid_avec_pdf", cli + ["run", SLUG, "--strict"])
    print(f"- Rapport : load() puis run sans / avec PDF, à chaud, {runs} tour(s) entrelacés", flush=True)
    for _ in range(runs):
        for nom in versions:
            mesure(nom, "load", load)
            mesure(nom, "chaud_sans_pdf", cli + ["run", SLUG, "--sans-pdf"])
            mesure(nom, "chaud_avec_pdf", cli + ["run", SLUG])
    print("- Rapport : profil d'un run à chaud (cProfile en temps CPU, DIAGNOSTIC_WORKERS=1)", flush=True)
    for nom, src in versions.items():  # before the batches, which empty the figure cache
        if dans_le_budget(f"profil à chaud ({nom})"):
            res["versions"][nom]["profil"] = _profil(run_child, py, src, ws_de[nom], miroir, log, ["run", SLUG, "--sans-pdf"], FONCTIONS)
    print(f"- Rapport : rapports par lot des {n_lot} premiers EPCI (cache des figures vide, puis rempli)", flush=True)
    for nom in versions:
        cache = ws_de[nom] / "data" / "processed" / "figures"
        shutil.rmtree(cache, ignore_errors=True)  # a first batch: nothing drawn yet
        mesure(nom, "lot_epci", cli + ["rapports", "--kind", "epci", "--limite", str(n_lot)])
        if cache.is_dir():  # only code that caches its figures: the same batch again
            mesure(nom, "lot_epci_chaud", cli + ["rapports", "--kind", "epci", "--limite", str(n_lot)])
    aide = {nom: subprocess.run(cli + ["rapports", "--help"], capture_output=True, text=True,
                                env={"PYTHONPATH": str(src), "COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout
            for nom, src in versions.items()}
    print(f"- Rapport : rapports par lot avec PDF des {n_lot} premiers EPCI (séries en cache, cartes à 200 dpi dessinées)", flush=True)
    for nom in versions:
        if "--pdf" in aide[nom]:  # predicted: 2.5 times the batch without PDF (budget of the full mode)
            sans = res["versions"][nom]["mesures"].get("lot_epci", {}).get("s") or [0.0]
            mesure(nom, "lot_epci_pdf", cli + ["rapports", "--kind", "epci", "--limite", str(n_lot), "--pdf"],
                   prevu_s=2.5 * sans[0])
    if not rapide:
        for nom, src in versions.items():
            froid = res["versions"][nom]["mesures"].get("froid_avec_pdf", {}).get("s") or [60.0]
            if not dans_le_budget(f"profil à froid ({nom})", 1.5 * froid[0]):
                continue
            ws = root / f"ws_froid_{nom}"
            (ws / "data").mkdir(parents=True)
            shutil.copytree(projet_de(src) / "pipelines", ws / "pipelines")
            shutil.copytree(projet_de(src) / "data" / "territoires", ws / "data" / "territoires")
            res["versions"][nom]["profil_froid"] = _profil(run_child, py, src, ws, miroir, log, ["run", SLUG, "--strict"], FONCTIONS_FROID)
            shutil.rmtree(ws, ignore_errors=True)
    res["uptime_fin"] = _uptime()
    res["duree_s"] = round(time.perf_counter() - debut, 1)
    for v in res["versions"].values():
        med = {k: (statistics.median(m["s"]) if m["s"] and not m["echec"] else None) for k, m in v["mesures"].items()}
        v["medianes_s"] = med
        v["memoire_max_mio"] = max((x for m in v["mesures"].values() for x in m["memoire_mio"]), default=None)
        if med.get("load"):
            v["ratio_sans_pdf"] = round(med["chaud_sans_pdf"] / med["load"], 2) if med.get("chaud_sans_pdf") else None
            v["ratio_avec_pdf"] = round(med["chaud_avec_pdf"] / med["load"], 2) if med.get("chaud_avec_pdf") else None
    return res


def _f(x, nd=2) -> str:
    return "—" if x is None else f"{x:.{nd}f}".replace(".", ",")


def _table_profil(r: dict, cle: str, fonctions: dict, noms: list[str]) -> list[str]:
    lines = ["| Fonction | " + " | ".join(noms) + " |", "|---|" + "---:|" * len(noms)]
    for label in ["total_s", "total_cpu_s", *fonctions]:
        cells = []
        for n in noms:
            p = (r["versions"][n].get(cle) or {}).get(label)
            cells.append("—" if p is None else (_f(p) if label.startswith("total") else f"{p['appels']} / {_f(p['cumul_s'])}"))
        libelle = {"total_s": "total, temps mural (s)", "total_cpu_s": "total, temps CPU (s)"}.get(label, label)
        lines.append(f"| {libelle} | " + " | ".join(cells) + " |")
    return lines


def markdown(r: dict) -> list[str]:
    """The section of RESULTS.md."""
    noms = list(r["versions"])
    lines = ["## Rapport aussi rapide que ses chiffres / A report as fast as its figures (issue 16)", "",
             f"Miroir complet (fichiers réels + fixtures à leurs URL), CPTS Centre Saône-et-Loire ; {r['runs']} tour(s) à chaud "
             f"entrelacés entre versions{' (mode rapide)' if r['rapide'] else ' (mode complet, `make bench-16`)'}. Versions : "
             + " ; ".join(f"**{n}** = `{v['code']}`" for n, v in r["versions"].items()) + ".", ""]
    if r.get("uptime_debut"):
        lines += [f"`uptime` au début : `{r['uptime_debut']}` ; à la fin : `{r.get('uptime_fin', '')}`"
                  + (f" ; durée de la section : {_f(r['duree_s'], 0)} s" if r.get("duree_s") else "") + ".", ""]
    if r.get("sautees"):
        lines += ["**Non mesuré (budget de temps de la section dépassé)** : " + ", ".join(r["sautees"]) + ".", ""]
    lines += ["| Mesure | " + " | ".join(noms) + " | Cible |", "|---|" + "---:|" * len(noms) + "---|"]
    cib = r["cibles"]
    rows = [("Rapport sans PDF / load() (ratio des médianes)", lambda v: _f(v.get("ratio_sans_pdf")), f"≤ {_f(cib['ratio_sans_pdf'], 0)}"),
            ("Rapport avec PDF / load() (ratio des médianes)", lambda v: _f(v.get("ratio_avec_pdf")), f"≤ {_f(cib['ratio_avec_pdf'], 0)}")]
    n_lot = r["lot_epci"]
    libelles = {"load": "diagnostic.load() (s)", "chaud_sans_pdf": "run à chaud sans PDF (s)", "chaud_avec_pdf": "run à chaud avec PDF (s)",
                "froid_avec_pdf": "run à froid avec PDF, miroir complet (s)",
                "lot_epci": f"rapports par lot, {n_lot} EPCI, cache des figures vide (s)",
                "lot_epci_chaud": f"rapports par lot, {n_lot} EPCI, relancés (figures en cache) (s)",
                "lot_epci_pdf": f"rapports par lot avec PDF, {n_lot} EPCI (s)"}

    def cpu(v, k):
        m = v["mesures"].get(k)
        return statistics.median(m["cpu_s"]) if m and m["cpu_s"] and not m["echec"] else None

    def ratio_cpu(v, k):
        a, b = cpu(v, k), cpu(v, "load")
        return _f(a / b) if a is not None and b else "—"

    rows += [("Rapport sans PDF / load(), en temps CPU (moins sensible à la charge)", lambda v: ratio_cpu(v, "chaud_sans_pdf"), ""),
             ("Rapport avec PDF / load(), en temps CPU", lambda v: ratio_cpu(v, "chaud_avec_pdf"), "")]
    for k, lib in libelles.items():
        cible = {"froid_avec_pdf": f"≤ {_f(cib['froid_s'], 0)}",
                 "lot_epci": f"≤ {_f(cib['lot_100_s'], 0)} (100 EPCI)"}.get(k, "")
        rows.append((lib, lambda v, k=k: _f(v["medianes_s"].get(k)) + f" [CPU {_f(cpu(v, k))}]" + _charge(v["mesures"].get(k)), cible))
    rows.append(("Mémoire max (Mio)", lambda v: _f(v.get("memoire_max_mio"), 0), f"≤ {cib['memoire_mio']}"))
    for lib, val, cible in rows:
        lines.append(f"| {lib} | " + " | ".join(val(r["versions"][n]) for n in noms) + f" | {cible} |")
    lines += ["", "Temps mural médian ; entre crochets le temps CPU (utilisateur + système du processus et de ses enfants "
              "attendus) ; entre parenthèses la charge moyenne (1 min) de la machine avant chaque exécution (2 cœurs).", "",
              "Profil d'un run à chaud sans PDF (cProfile avec une horloge CPU, `bench/profil_cpu.py`, `DIAGNOSTIC_WORKERS=1`) : "
              "appels / secondes CPU cumulées (gonflées par le profileur : pour les proportions).", ""]
    lines += _table_profil(r, "profil", FONCTIONS, noms)
    if any(v.get("profil_froid") for v in r["versions"].values()):
        lines += ["", "Profil d'un run à froid avec PDF (même méthode) :", ""]
        lines += _table_profil(r, "profil_froid", FONCTIONS_FROID, noms)
    lines += ["", "Ce qui explique les gains (lignes du profil) / what the gains come from:", "",
              "- `savefig` : chaque carte et graphique n'est plus rendu qu'une fois, en PNG (le SVG seulement avec `--svg`) ;",
              "- `series_graphiques` : un graphique annuel dont les entrées (valeurs, libellés, style, version du code) n'ont pas "
              "changé est repris du cache `data/processed/figures/` au lieu d'être redessiné (à chaud, tous le sont) ;",
              "- cartes (`carte_*`, dont Filosofi et acteurs) et `pyramide` : « — » après = reprises du cache (mêmes champs du "
              "contexte, même code : `figures.carte_en_cache`), non redessinées ; les empreintes des champs sont calculées une "
              "fois par rapport ;",
              "- `niveau_departemental` : calculé une fois par rapport (table des indicateurs et catalogue), non plus à chaque appel ;",
              "- `write_docx`, `docx_cellules` : les propriétés de paragraphe et de caractère d'une cellule sont copiées de la "
              "première cellule de même mise en forme au lieu d'être reconstruites élément par élément par python-docx "
              "(`document.xml` identique) ;",
              "- `write_docx` encore : le texte des runs Word écrit par segments (`report/docx_texte.py`) au lieu de la boucle "
              "caractère par caractère de python-docx (même XML) ;",
              "- `import_matplotlib` : « — » après = matplotlib n'est plus importé quand toutes les figures viennent du cache "
              "(`report/mpl.py` ; la clé du cache lit la version et les matplotlibrc sans l'importer) ;",
              "- `savefig` par graphique : après `tight_layout`, matplotlib redessinait toute la figure à blanc avant de la "
              "dessiner (moteur de mise en page fictif) ; ce moteur est retiré avant l'enregistrement (mêmes pixels, environ "
              "40 % de moins par graphique : lots et runs à froid) ;",
              "- classeurs (`indicateurs.xlsx`, `annuaire.xlsx`) écrits par un processus de dessin pendant que le processus "
              "principal écrit le reste (temps mural) ;",
              "- `write_pdf` (section du développeur vitesse-pdf) : images PNG en RVB, figures par fichier ;",
              "- à froid, `*_check_file` puis `*_parse` : un fichier brut contrôlé à son arrivée n'est plus relu par la "
              "construction du même run (`sources/memo.py`, clé : sha256 du contenu) ; `*_parse` tombe à presque rien ;",
              "- `texte_get_layout` : la mise en page du texte suit le nombre de figures dessinées.", ""]
    return lines


def _charge(m: dict | None) -> str:
    if not m or not m["charge"]:
        return " (échec)" if m and m["echec"] else ""
    return " (" + ", ".join(_f(c, 1) for c in m["charge"]) + ")"
