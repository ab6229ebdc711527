"""Benchmark of the pipeline (a script, not a test): `.venv/bin/python bench/run.py`.

Serves ../shared/opendata on a loopback HTTP server, works in a fresh temporary workspace, runs each
measured step several times as a child process (`python -m diagnostic.cli ...`) and records the median
wall time and the peak resident memory of the child (os.wait4 rusage, the child alone). Writes
bench/results.json and bench/RESULTS.md. About 5 minutes on 2 cores.

    .venv/bin/python bench/run.py [--runs 3] [--cold-runs 3] [--opendata DIR] [--keep]
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata as md
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BENCH = PROJECT / "bench"
SLUG = "cpts-centre-saone-et-loire"
PY = sys.executable
MIB = 1024 * 1024
TARGET_MEM_MIB = 1536  # 1.5 GiB
GROWTH_SIZES = (10, 100, 1255)
# Simulated sub-commune grains: (id, label, split factor applied after the IRIS-like split).
GRAINS = (("commune", "commune (COG 2026)", 0), ("iris_sim", "IRIS simulé", 1), ("iris_sim_x10", "IRIS simulé × 10", 10),
          ("iris_sim_x100", "IRIS simulé × 100", 100))
GRAIN_RUNS = {"iris_sim_x100": 1}  # ~1 min of preparation: one run only


# ------------------------------------------------------------------------------------------ plumbing

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path) -> tuple[str, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def new_workspace(root: Path) -> Path:
    """Same layout as tests/conftest.new_workspace: registry and perimeters, empty data/ and reports/."""
    (root / "pipelines").mkdir(parents=True)
    shutil.copy(PROJECT / "pipelines" / "sources.toml", root / "pipelines" / "sources.toml")
    shutil.copytree(PROJECT / "data" / "territoires", root / "data" / "territoires")
    return root


SRC = PROJECT / "src"  # replaced by a snapshot of the package at start-up (see snapshot())
_CURRENT: list[subprocess.Popen] = []


def snapshot(root: Path) -> Path:
    """Copy the package once, so that edits made to the project while the bench runs (which change the
    warehouse fingerprint and trigger rebuilds) do not leak into the measures."""
    global SRC
    shutil.copytree(PROJECT / "src" / "diagnostic", root / "src" / "diagnostic",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    SRC = root / "src"
    return SRC


def child_env(ws: Path | None = None, mirror: str = "", src: Path | None = None) -> dict:
    """``src``: the package folder to run (default: the snapshot); it replaces any PYTHONPATH."""
    path = str(src) if src else os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": path}
    if ws is not None:
        env.update(DIAGNOSTIC_HOME=str(ws), DIAGNOSTIC_MIRROR=mirror)
    return env


def run_child(args: list[str], ws: Path, mirror: str, log: Path, src: Path | None = None,
              extra: dict | None = None) -> tuple[float, float, int, float]:
    """Run one child process; (wall seconds, peak RSS MiB of that child, return code, CPU seconds user +
    system of that child: less sensitive than wall time to other processes sharing the machine)."""
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(args)}\n".encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ws, env=child_env(ws, mirror, src) | (extra or {}), stdout=out, stderr=out)
        _CURRENT[:] = [proc]
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        _CURRENT.clear()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime  # ru_maxrss: KiB on Linux


def _on_term(signum, frame):
    for proc in _CURRENT:
        proc.terminate()
    raise SystemExit(128 + signum)


class Bench:
    def __init__(self, ws: Path, mirror: str, log: Path):
        self.ws, self.mirror, self.log = ws, mirror, log
        self.measures: list[dict] = []

    def measure(self, mid: str, fr: str, en: str, args: list[str], runs: int, *, target_s: float | None = None,
                before=None, warmup: int = 0, note: str = "") -> dict:
        """Run `args` `runs` times (after `warmup` unrecorded runs); `before()` runs before each one."""
        print(f"- {fr} ({runs} exécution(s))", flush=True)
        walls, rss, cpus, failed, load = [], [], [], None, loadavg()
        for i in range(warmup + runs):
            if before:
                before()
            wall, peak, rc, cpu = run_child(args, self.ws, self.mirror, self.log)
            if rc != 0:
                failed = f"code de sortie {rc}, voir {self.log.name}"
                break
            if i >= warmup:
                walls.append(round(wall, 3))
                rss.append(round(peak, 1))
                cpus.append(round(cpu, 3))
        m = {
            "id": mid, "mesure": fr, "measure": en, "commande": " ".join(Path(a).name if a == PY else a for a in args),
            "executions_s": walls, "mediane_s": round(statistics.median(walls), 3) if walls and not failed else None,
            "memoire_max_mio": max(rss) if rss and not failed else None, "memoire_executions_mio": rss,
            "cpu_executions_s": cpus, "cpu_mediane_s": round(statistics.median(cpus), 3) if cpus and not failed else None,
            "cible_s": target_s, "note": note, "echec": failed, "charge_avant_apres": [load, loadavg()],
        }
        m["cible_atteinte"] = _ok(m)
        self.measures.append(m)
        print(f"  médiane {m['mediane_s']} s, mémoire max {m['memoire_max_mio']} Mio{'  ÉCHEC ' + failed if failed else ''}", flush=True)
        return m

    def placeholder(self, mid: str, fr: str, en: str, target_s: float, why: str) -> None:
        self.measures.append({"id": mid, "mesure": fr, "measure": en, "commande": None, "executions_s": [],
                              "mediane_s": None, "memoire_max_mio": None, "memoire_executions_mio": [],
                              "cpu_executions_s": [], "cpu_mediane_s": None, "charge_avant_apres": None,
                              "cible_s": target_s, "note": why, "echec": None, "cible_atteinte": None})


def _ok(m: dict) -> bool | None:
    if m["echec"] or m["mediane_s"] is None:
        return None
    ok = m["memoire_max_mio"] <= TARGET_MEM_MIB
    if m["cible_s"] is not None:
        ok = ok and m["mediane_s"] <= m["cible_s"]
    return ok


def warm_single(b: "Bench", cli: list[str], ws: Path, runs: int) -> None:
    """Warm single diagnostic, with and without PDF. Whether `diagnostic run` writes a PDF is read from what
    it wrote, not assumed; without PDF is measured only if the command has an option for it."""
    fr, en = "Diagnostic unique à chaud, CPTS Centre Saône-et-Loire", "Warm single diagnostic, CPTS Centre Saône-et-Loire"
    m = b.measure("warm_single", fr, en, cli + ["run", SLUG], runs, target_s=3, warmup=1)
    out = ws / "reports" / SLUG
    written = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    m["note"] = "écrit : " + ", ".join(n for n in written if not n.startswith("."))
    if "diagnostic.pdf" not in written:
        m.update(mesure=f"{fr}, sans PDF", measure=f"{en}, no PDF")
        b.placeholder("warm_single_pdf", f"{fr}, avec PDF", f"{en}, with PDF", 6, "non mesuré : PDF pas encore produit")
        return
    m.update(id="warm_single_pdf", mesure=f"{fr}, avec PDF", measure=f"{en}, with PDF", cible_s=6)
    m["cible_atteinte"] = _ok(m)
    help_text = subprocess.run(cli + ["run", "--help"], capture_output=True, text=True, env=child_env()).stdout
    flag = next((f for f in ("--no-pdf", "--sans-pdf") if f in help_text), None)
    if flag:
        b.measure("warm_single", f"{fr}, sans PDF ({flag})", f"{en}, no PDF", cli + ["run", SLUG, flag], runs, target_s=3, warmup=1)
    else:
        b.placeholder("warm_single", f"{fr}, sans PDF", f"{en}, no PDF", 3,
                      "non mesuré : `diagnostic run` écrit toujours le PDF (pas d'option pour s'en passer)")
    b.measures.remove(m)  # the without-PDF row first, as in the targets
    b.measures.append(m)


def batch_command() -> list[str]:
    """`python -m diagnostic.cli batch` once the command is wired, else the module's own entry point."""
    probe = subprocess.run([PY, "-m", "diagnostic.cli", "batch", "--help"], capture_output=True, env=child_env())
    return [PY, "-m", "diagnostic.cli", "batch"] if probe.returncode == 0 else [PY, "-m", "diagnostic.batch"]


# ------------------------------------------------------------------------------------------ inner steps (child processes)

def inner_stages(ws: Path, kind: str, fichier: str | None) -> dict:
    """Time the stages of a batch in one process (import, selection, indicators, ranks, CSV, XLSX)."""
    t0 = time.perf_counter()
    from diagnostic import batch, warehouse
    from diagnostic.config import Workspace

    out = {"import_s": time.perf_counter() - t0}
    w = Workspace(ws)
    with warehouse.connect(w) as con:
        t = time.perf_counter(); sel, _ = batch.selection(con, kind, Path(fichier) if fichier else None); out["selection_s"] = time.perf_counter() - t
        t = time.perf_counter(); ind = batch.indicateurs(con, sel); out["indicateurs_sql_s"] = time.perf_counter() - t
        t = time.perf_counter(); df = batch.rangs(con, sel, ind); out["rangs_sql_s"] = time.perf_counter() - t
    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter(); batch.write_csv(df, tmp / "x.csv"); out["csv_s"] = time.perf_counter() - t
    t = time.perf_counter(); batch.write_xlsx(df, tmp / "x.xlsx", kind=batch.KINDS[kind]); out["xlsx_s"] = time.perf_counter() - t
    shutil.rmtree(tmp)
    out["territoires"] = int(sel["territoire_code"].nunique())
    out["lignes_selection"] = len(sel)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def inner_grain(ws: Path, grain: str, scratch: Path) -> dict:
    """The base indicator mart (models/90_mart_indicateurs.sql, unchanged: population, area, density, APL)
    for every EPCI, département, région and France, at commune grain or at a SIMULATED sub-commune grain,
    in a scratch DuckDB copy. (The other marts read other int_* tables that the simulation does not split.)

    Simulation (no IRIS data in the mirror): each commune of 5 000 inhabitants or more is split into
    max(2, round(population / 2000)) pseudo-IRIS (the INSEE rule splits those communes into IRIS of about
    2 000 inhabitants); `iris_sim_x10` / `_x100` split each pseudo-IRIS again into 10 / 100. Counts are divided among the
    units (population exactly), APL values are copied: totals stay those of the communes."""
    import duckdb

    from diagnostic.warehouse import model_sql

    factor = dict((g, f) for g, _, f in GRAINS)[grain]
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    con.execute(f"ATTACH '{ws / 'data' / 'processed' / 'diagnostic.duckdb'}' AS w (READ_ONLY)")
    con.execute("CREATE TABLE meta_source AS SELECT * FROM w.meta_source")
    con.execute("CREATE TABLE ref_indicateur AS SELECT * FROM w.ref_indicateur")
    con.execute("CREATE TABLE meta_seuil AS SELECT * FROM w.meta_seuil")  # thresholds, read by the seuil() macro
    # the mart takes the population from the populations légales when a unit is in them, else from the COG file
    # (equal figures): the simulated units are not, so they carry the COG population, split as below
    con.execute("CREATE TABLE int_commune_population_legale AS SELECT * FROM w.int_commune_population_legale WHERE false")
    t = time.perf_counter()
    if factor == 0:
        con.execute("CREATE TABLE int_commune AS SELECT *, code AS commune FROM w.int_commune")
    else:
        con.execute(f"""
        CREATE TABLE int_commune AS
        WITH k AS (
            SELECT *, CASE WHEN population >= 5000 THEN greatest(2, round(population / 2000))::INT ELSE 1 END * {factor} AS k
            FROM w.int_commune
        ), u AS (SELECT *, unnest(range(k)) AS i FROM k)
        SELECT code || '_' || i AS code, nom, departement, region, zone, champ_france, epci,
               (population // k + CASE WHEN i < population % k THEN 1 ELSE 0 END)::BIGINT AS population,
               superficie_km2 / k AS superficie_km2,
               apl_mg, apl_pop_standardisee / k AS apl_pop_standardisee, apl_pop_totale / k AS apl_pop_totale,
               apl_pop_inf_2_5 / k AS apl_pop_inf_2_5, apl_mg_prec, apl_pop_standardisee_prec / k AS apl_pop_standardisee_prec,
               code AS commune
        FROM u""")
    con.execute("""
        CREATE TABLE selection_territoire AS
        SELECT t.territoire_type, t.territoire_code, t.territoire_nom, u.code AS commune
        FROM w.int_territoire_commune t JOIN int_commune u ON u.commune = t.commune""")
    prep = time.perf_counter() - t
    con.execute("DETACH w")
    units = con.sql("SELECT count(*) FROM int_commune").fetchone()[0]
    rows = con.sql("SELECT count(*) FROM selection_territoire").fetchone()[0]
    con.execute(model_sql("00_macros.sql"))  # somme_exacte, as the build defines it
    t = time.perf_counter()
    df = con.sql(model_sql("90_mart_indicateurs.sql")).df()
    query = time.perf_counter() - t
    france = df[(df.territoire_type == "france")].set_index("indicateur").valeur
    con.close()
    scratch.unlink(missing_ok=True)
    return {"grain": grain, "unites": units, "lignes_selection": rows, "preparation_s": round(prep, 3),
            "requete_s": round(query, 4), "territoires": int(df.territoire_code.nunique()),
            "population_france": float(france["population"]), "apl_mg_france": float(france["apl_mg"])}


def inner(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["stages", "grain"])
    p.add_argument("--ws", type=Path, required=True)
    p.add_argument("--kind")
    p.add_argument("--fichier")
    p.add_argument("--grain")
    p.add_argument("--scratch", type=Path)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    res = inner_stages(a.ws, a.kind, a.fichier) if a.what == "stages" else inner_grain(a.ws, a.grain, a.scratch)
    with open(a.out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(res) + "\n")


# ------------------------------------------------------------------------------------------ profiles

def profile(args: list[str], ws: Path, mirror: str, log: Path, functions: dict[str, str]) -> dict:
    """One run under cProfile; cumulative seconds of the named functions (key: label, value: suffix of
    'file:line(function)' to match)."""
    import pstats

    prof = ws / "profil.prof"
    wall, _, rc, _ = run_child([PY, "-m", "cProfile", "-o", str(prof), *args[1:]], ws, mirror, log)
    if rc != 0:
        return {"echec": f"code de sortie {rc}"}
    stats = pstats.Stats(str(prof)).stats
    out = {"total_s": round(wall, 2)}
    for label, pattern in functions.items():
        cum = [v[3] for (file, _, func), v in stats.items() if f"{Path(file).parent.name}/{Path(file).name}:{func}".endswith(pattern)]
        out[label] = round(max(cum), 3) if cum else None
    prof.unlink(missing_ok=True)
    return out


# ------------------------------------------------------------------------------------------ main

def loadavg() -> float:
    """1-minute load average: above the number of cores, other processes shared the machine."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict:
    mem = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            mem[key] = round(int(value.split()[0]) / 1024 / 1024, 2)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "")
    return {"coeurs": os.cpu_count(), "coeurs_disponibles": len(os.sched_getaffinity(0)), "processeur": cpu,
            "memoire_totale_gio": mem.get("MemTotal"), "memoire_disponible_gio": mem.get("MemAvailable"),
            "systeme": platform.platform(), "python": platform.python_version()}


def versions() -> dict:
    out = {}
    for name in ("diagnostic", "duckdb", "pandas", "geopandas", "shapely", "pyarrow", "pyogrio", "xlsxwriter", "matplotlib", "httpx"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def write_perimetres(path: Path, ws: Path, n: int) -> None:
    """A perimeters file holding the first `n` EPCI (by SIREN), each as a named perimeter."""
    import duckdb

    with duckdb.connect(str(ws / "data" / "processed" / "diagnostic.duckdb"), read_only=True) as con:
        rows = con.sql(f"""
            SELECT e.code, e.nom, list(c.code ORDER BY c.code) AS communes
            FROM (SELECT * FROM stg_cog_epci ORDER BY code LIMIT {n}) e JOIN int_commune c ON c.epci = e.code
            GROUP BY ALL ORDER BY e.code""").fetchall()
    with open(path, "w", encoding="utf-8") as fh:
        for code, nom, communes in rows:
            fh.write(f'[[perimetre]]\ncode = "{code}"\nnom = {json.dumps(nom, ensure_ascii=False)}\n'
                     f"communes = {json.dumps(communes)}\n\n")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        return inner(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="exécutions mesurées par étape chaude, après une de chauffe (défaut 3)")
    p.add_argument("--cold-runs", type=int, default=3, help="exécutions des étapes à froid (défaut 3)")
    p.add_argument("--opendata", type=Path, default=Path(os.environ.get("DIAGNOSTIC_TEST_OPENDATA", PROJECT.parent / "shared" / "opendata")))
    p.add_argument("--keep", action="store_true", help="garder l'espace de travail temporaire")
    p.add_argument("--rapport", action="store_true",
                   help="seulement la section du rapport (issue 16), en mode rapide ; les autres mesures de results.json sont gardées")
    p.add_argument("--avant", metavar="COMMIT", help="mesurer aussi le code de ce commit dans la section du rapport (avant / après)")
    p.add_argument("--complet", action="store_true",
                   help="avec --rapport : la section en mode complet (lots de 100 EPCI, profil à froid ; `make bench-16`)")
    a = p.parse_args()
    if not (a.opendata / "MANIFEST.md").is_file():
        sys.exit(f"Miroir de données ouvertes introuvable : {a.opendata}")

    started, load_start = time.perf_counter(), loadavg()
    signal.signal(signal.SIGTERM, _on_term)
    mirror, server = serve(a.opendata)
    root = Path(tempfile.mkdtemp(prefix="diagnostic-bench-"))
    snapshot(root)
    ws = new_workspace(root / "ws")
    log = root / "bench.log"
    b = Bench(ws, mirror, log)
    cli = [PY, "-m", "diagnostic.cli"]
    print(f"Espace de travail : {ws}\nMiroir : {mirror} ({a.opendata})\nJournal : {log}", flush=True)

    def wipe():
        shutil.rmtree(ws / "data" / "raw", ignore_errors=True)
        shutil.rmtree(ws / "data" / "processed", ignore_errors=True)

    def section_rapport(rapide: bool) -> dict:
        import rapport

        versions = {"avant": rapport.code_du_commit(PROJECT, a.avant, root / "avant")} if a.avant else {}
        versions["apres"] = SRC
        head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        section = rapport.mesurer(project=PROJECT, root=root, versions=versions, run_child=run_child, loadavg=loadavg,
                                  py=PY, runs=a.runs, rapide=rapide, log=log)
        if a.avant:
            section["versions"]["avant"]["code"] = f"commit {a.avant}"
        section["versions"]["apres"]["code"] = f"arbre de travail (HEAD {head})"
        return section

    if a.rapport:
        try:
            section = section_rapport(not a.complet)
        finally:
            server.shutdown()
        results = json.loads((BENCH / "results.json").read_text(encoding="utf-8")) if (BENCH / "results.json").is_file() else {}
        results["rapport"] = section
        ecrire(results)
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
        return

    try:
        b.measure("cold_ingest_build", "Ingestion + construction à froid depuis le miroir (espace vide)",
                  "Cold ingest + build from the mirror (empty workspace)", cli + ["build"], a.cold_runs,
                  target_s=30, before=wipe)
        raw = sum(f.stat().st_size for f in (ws / "data" / "raw").rglob("*") if f.is_file())
        b.measures[-1]["note"] = f"dont téléchargement HTTP local de {raw / MIB:.0f} Mio"
        b.measure("import", "Démarrage : import des modules (pipeline, rapport, lot)", "Start-up: importing the modules",
                  [PY, "-c", "import diagnostic.pipeline, diagnostic.report, diagnostic.batch"], a.runs, warmup=1,
                  note="coût fixe de chaque commande")
        b.measure("cold_build", "Construction à froid de l'entrepôt depuis les fichiers bruts (build --force)",
                  "Cold warehouse build from the raw files (build --force)", cli + ["build", "--force"], a.cold_runs, target_s=30)
        warm_single(b, cli, ws, a.runs)
        bcmd = batch_command()
        b.measure("batch_epci", "Lot : indicateurs et rangs des 1 255 EPCI (CSV + XLSX)", "Batch: indicators and ranks of all 1,255 EPCI",
                  bcmd + ["--kind", "epci"], a.runs, target_s=5, warmup=1)
        b.measure("batch_dep", "Lot : indicateurs et rangs des 101 départements", "Batch: indicators and ranks of all 101 départements",
                  bcmd + ["--kind", "dep"], a.runs, warmup=1)
        b.measure("batch_reports_100", "Rapports par lot (HTML, XLSX, CSV, cartes ; sans PDF ni Word) des 100 premiers EPCI",
                  "Batch reports (HTML, XLSX, CSV, maps; no PDF or Word) of the first 100 EPCI",
                  cli + ["rapports", "--kind", "epci", "--limite", "100"], a.cold_runs, target_s=60,
                  note="2 processus de dessin ; mémoire : pic du processus principal et de ses enfants")

        growth = []
        stages_out = root / "stages.jsonl"
        for n in GROWTH_SIZES:
            f = root / f"epci-{n}.toml"
            write_perimetres(f, ws, n)
            m = b.measure(f"batch_perimetres_{n}", f"Lot : fichier de {n} périmètres (les {n} premiers EPCI)",
                          f"Batch: perimeters file of {n} perimeters (first {n} EPCI)", bcmd + ["--kind", "perimetres", "--fichier", str(f)],
                          a.cold_runs, warmup=1)
            stages_out.unlink(missing_ok=True)
            for _ in range(a.cold_runs):
                run_child([PY, __file__, "--inner", "stages", "--ws", str(ws), "--kind", "perimetres", "--fichier", str(f),
                           "--out", str(stages_out)], ws, mirror, log)
            stages = [json.loads(l) for l in stages_out.read_text().splitlines()]
            med = {k: statistics.median(s[k] for s in stages) for k in stages[0]} if stages else {}
            growth.append({"territoires": n, "mediane_s": m["mediane_s"], "memoire_max_mio": m["memoire_max_mio"], "etapes_mediane_s": med})

        grains = []
        grain_out = root / "grain.jsonl"
        for gid, label, _ in GRAINS:
            grain_out.unlink(missing_ok=True)
            walls, rss = [], []
            n_runs = min(a.cold_runs, GRAIN_RUNS.get(gid, a.cold_runs))
            print(f"- Requête des indicateurs au grain {label} ({n_runs} exécution(s))", flush=True)
            for _ in range(n_runs):
                wall, peak, rc, _ = run_child([PY, __file__, "--inner", "grain", "--ws", str(ws), "--grain", gid,
                                            "--scratch", str(root / "scratch.duckdb"), "--out", str(grain_out)], ws, mirror, log)
                if rc == 0:
                    walls.append(round(wall, 3)); rss.append(round(peak, 1))
            runs = [json.loads(l) for l in grain_out.read_text().splitlines()] if grain_out.exists() else []
            if not runs:
                grains.append({"grain": gid, "libelle": label, "echec": f"voir {log.name}"})
                continue
            grains.append({"grain": gid, "libelle": label, "simulation": gid != "commune", "unites": runs[0]["unites"],
                           "lignes_selection": runs[0]["lignes_selection"], "territoires": runs[0]["territoires"],
                           "requete_executions_s": [r["requete_s"] for r in runs],
                           "requete_mediane_s": statistics.median(r["requete_s"] for r in runs),
                           "preparation_mediane_s": statistics.median(r["preparation_s"] for r in runs),
                           "processus_mediane_s": statistics.median(walls), "memoire_max_mio": max(rss),
                           "population_france": runs[0]["population_france"], "apl_mg_france": runs[0]["apl_mg_france"]})
            print(f"  requête médiane {grains[-1]['requete_mediane_s']} s, {grains[-1]['unites']} unités, mémoire max {max(rss)} Mio", flush=True)

        print("- Profils (cProfile, une exécution chacun)", flush=True)
        profils = {
            "build_force": profile(cli + ["build", "--force"], ws, mirror, log, {
                "prepare_s": "diagnostic/pipeline.py:prepare", "ingest_all_s": "diagnostic/pipeline.py:ingest_all",
                "build_s": "diagnostic/warehouse.py:build", "fingerprint_s": "diagnostic/warehouse.py:fingerprint",
                "parse_cog_s": "sources/cog.py:parse", "parse_contours_s": "sources/contours.py:parse",
                "parse_apl_s": "sources/apl.py:parse", "run_models_s": "diagnostic/warehouse.py:run_models",
                "geo_harmonise_s": "diagnostic/geo.py:harmonise", "build_into_s": "diagnostic/warehouse.py:_build_into"}),
            "warm_single": profile(cli + ["run", SLUG], ws, mirror, log, {
                "prepare_s": "diagnostic/pipeline.py:prepare", "fingerprint_s": "diagnostic/warehouse.py:fingerprint",
                "indicateurs_sql_s": "diagnostic/warehouse.py:indicateurs", "report_context_s": "diagnostic/pipeline.py:report_context",
                "write_atomically_s": "diagnostic/pipeline.py:write_atomically", "cartes_s": "report/maps.py:cartes",
                "write_pdf_s": "report/pdf.py:write_pdf", "write_docx_s": "report/word.py:write_docx",
                "write_xlsx_s": "report/exports.py:write_xlsx", "import_report_s": "report/__init__.py:<module>"}),
        }
        rapport_section = section_rapport(False)
    except BaseException:
        server.shutdown()
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
        raise
    server.shutdown()

    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(), "versions": versions(),
        "cibles": {"cold_build_s": 30, "warm_single_s": 3, "warm_single_pdf_s": 6, "batch_epci_s": 5,
                   "batch_reports_100_s": 60, "memoire_max_mio": TARGET_MEM_MIB},
        "code": f"instantané de {PROJECT / 'src' / 'diagnostic'} pris au début du banc",
        "methode": ("Chaque mesure est un processus enfant `python -m diagnostic.cli ...` (ou `python -m diagnostic.batch` tant que "
                    "la commande batch n'est pas branchée) ; temps mural médian de plusieurs exécutions ; mémoire = pic de RSS "
                    "du seul processus enfant (os.wait4, ru_maxrss). Miroir servi en HTTP local par le script."),
        "charge_debut_fin": [load_start, loadavg()],
        "mesures": b.measures, "croissance_territoires": growth, "croissance_grain": grains, "profils": profils,
        "duree_totale_s": round(time.perf_counter() - started, 1), "rapport": rapport_section,
    }
    ecrire(results)
    print(f"Écrit : {BENCH / 'results.json'}, {BENCH / 'RESULTS.md'} ({results['duree_totale_s']} s)")
    if a.keep:
        print(f"Espace gardé : {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def ecrire(results: dict) -> None:
    BENCH.mkdir(exist_ok=True)
    tmp = BENCH / ".results.json.tmp"
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, BENCH / "results.json")
    tmp = BENCH / ".RESULTS.md.tmp"
    tmp.write_text(markdown(results), encoding="utf-8")
    os.replace(tmp, BENCH / "RESULTS.md")


def _fmt(x, nd=2) -> str:
    return "—" if x is None else f"{x:.{nd}f}".replace(".", ",")


def _int(x) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")


def markdown(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    lines = [
        "# Banc d'essai / Benchmark",
        "",
        f"Produit par `bench/run.py` le {r['date']} — generated by `bench/run.py`. Données : miroir `../shared/opendata` servi en HTTP local.",
        "",
        f"Machine : {m['coeurs']} cœurs ({m['coeurs_disponibles']} disponibles), {_fmt(m['memoire_totale_gio'], 1)} Gio de mémoire, {m['processeur']} ; {m['systeme']}.",
        f"Versions : Python {m['python']}, duckdb {v['duckdb']}, pandas {v['pandas']}, geopandas {v['geopandas']}, shapely {v['shapely']}, pyarrow {v['pyarrow']}, xlsxwriter {v['xlsxwriter']}.",
        "",
        r["methode"],
        "",
        f"Charge moyenne (1 min) au début / à la fin : {_fmt(r['charge_debut_fin'][0])} / {_fmt(r['charge_debut_fin'][1])} "
        f"(au-delà de {m['coeurs']}, d'autres processus partageaient la machine ; voir `charge_avant_apres` par mesure dans results.json).",
        "",
        "| Mesure / Measure | Médiane (s) | Exécutions (s) | CPU médian (s) | Mémoire max (Mio) | Cible (s) | Atteinte | Charge avant → après |",
        "|---|---:|---|---:|---:|---:|:---:|---|",
    ]
    for x in r["mesures"]:
        runs = ", ".join(_fmt(s) for s in x["executions_s"]) or x["note"] or "—"
        ok = {True: "oui", False: "**non**", None: "—"}[x["cible_atteinte"]]
        med = _fmt(x["mediane_s"]) if not x["echec"] else f"échec ({x['echec']})"
        load = " → ".join(_fmt(c, 1) for c in x["charge_avant_apres"]) if x["charge_avant_apres"] else "—"
        note = f" ({x['note']})" if x["note"] and x["executions_s"] else ""
        lines.append(f"| {x['mesure']} / *{x['measure']}*{note} | {med} | {runs} | {_fmt(x['cpu_mediane_s'])} | {_fmt(x['memoire_max_mio'], 0)} | "
                     f"{'≤ ' + _fmt(x['cible_s'], 0) if x['cible_s'] else '—'} | {ok} | {load} |")
    lines += ["", f"Cible mémoire / memory target : pic ≤ {TARGET_MEM_MIB} Mio (1,5 Gio) pour chaque étape ; « Atteinte » combine temps mural médian et mémoire. "
              "CPU = temps processeur utilisateur + système du processus enfant (peut dépasser le temps mural : DuckDB et le téléchargement utilisent plusieurs fils). "
              "Charge = charge moyenne sur 1 min du système avant et après la mesure.", ""]
    lines += ["## Croissance avec le nombre de territoires / Growth with the number of territories", "",
              "Fichier de périmètres des N premiers EPCI, commande complète (processus) puis étapes internes (médianes, en s).", "",
              "| Territoires | Processus (s) | Mémoire (Mio) | import | sélection | SQL indicateurs | SQL rangs | CSV | XLSX |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for g in r["croissance_territoires"]:
        e = g["etapes_mediane_s"]
        lines.append(f"| {g['territoires']} | {_fmt(g['mediane_s'])} | {_fmt(g['memoire_max_mio'], 0)} | "
                     + " | ".join(_fmt(e.get(k), 3) for k in ("import_s", "selection_s", "indicateurs_sql_s", "rangs_sql_s", "csv_s", "xlsx_s")) + " |")
    lines += ["", "## Grain communal contre grain infra-communal simulé / Commune vs simulated sub-commune grain", "",
              "**Simulation** : pas d'IRIS dans le miroir ; chaque commune de 5 000 habitants ou plus est découpée en max(2, round(pop/2000)) "
              "pseudo-IRIS (règle INSEE : IRIS d'environ 2 000 habitants), comptes répartis, APL recopiée ; « × 10 » et « × 100 » redécoupent chaque pseudo-IRIS en 10 ou 100 (× 100 : une seule exécution). "
              "Même requête `90_mart_indicateurs.sql` (mart de base : population, superficie, densité, APL ; les autres marts lisent d'autres tables "
              "int_* que la simulation ne découpe pas) pour tous les EPCI, départements, régions et la France, dans une copie DuckDB de travail.", "",
              "| Grain | Unités | Lignes de sélection | Requête indicateurs (s, médiane) | Exécutions (s) | Préparation (s) | Processus (s) | Mémoire (Mio) | Population France | APL France |",
              "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for g in r["croissance_grain"]:
        if "echec" in g:
            lines.append(f"| {g['libelle']} | échec ({g['echec']}) |||||||||")
            continue
        lines.append(f"| {g['libelle']} | {_int(g['unites'])} | {_int(g['lignes_selection'])} | {_fmt(g['requete_mediane_s'], 3)} | "
                     f"{', '.join(_fmt(x, 3) for x in g['requete_executions_s'])} | {_fmt(g['preparation_mediane_s'], 2)} | "
                     f"{_fmt(g['processus_mediane_s'])} | {_fmt(g['memoire_max_mio'], 0)} | {_int(g['population_france'])} | {_fmt(g['apl_mg_france'], 4)} |")
    lines += ["", "## Profils / Profiles (cProfile, une exécution, secondes cumulées)", ""]
    for name, prof in r["profils"].items():
        lines.append(f"- `{name}` : " + ", ".join(f"{k} {_fmt(val, 2) if isinstance(val, (int, float)) else val}" for k, val in prof.items()))
    lines += ["", f"Durée totale du banc : {_fmt(r['duree_totale_s'], 0)} s.", ""]
    if r.get("rapport"):
        import rapport

        lines += rapport.markdown(r["rapport"])
    return "\n".join(lines)


if __name__ == "__main__":
    main()
