"""The `indicateurs.csv` files that must not change when the code is reorganised (issue 15).

Runs, on the real files of the offline mirror (`../shared/opendata`, served as a folder mirror), the
diagnostics of

- the CPTS `cpts-centre-saone-et-loire`,
- an EPCI spread over two départements (`epci:200070308`, CA Mâconnais Beaujolais Agglomération: Ain and
  Saône-et-Loire, two régions),
- a département (`dep:71`),
- a list of communes (`communes:71153,71306,71076`),
- and the batch `diagnostic batch --kind epci` (`reports/_national/epci.csv`),

and copies the CSV files into one folder. Usage:

    .venv/bin/python bench/contrat_csv.py --sortie /tmp/avant --rev main   # the package of a git revision
    .venv/bin/python bench/contrat_csv.py --sortie /tmp/apres              # the package of this checkout
    .venv/bin/python bench/contrat_csv.py --comparer /tmp/avant /tmp/apres  # byte comparison, exit 1 if any differs

`--rev` exports `src/` and `pipelines/` of that revision (`git archive`) and runs them; without it the
checkout's own `src/` runs. Each run works in a fresh temporary workspace; the raw files are fetched once
into `--cache` (default `/tmp/diagnostic-contrat-raw`) and hard-linked into the next workspaces.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
OPENDATA = Path(os.environ.get("DIAGNOSTIC_TEST_OPENDATA", PROJECT.parent / "shared" / "opendata"))
TERRITOIRES = {
    "cpts": "cpts-centre-saone-et-loire",
    "epci_deux_departements": "epci:200070308",
    "departement": "dep:71",
    "communes": "communes:71153,71306,71076",
}
SLUGS = {"cpts": "cpts-centre-saone-et-loire", "epci_deux_departements": "epci-200070308", "departement": "dep-71"}


def exporter(rev: str, dest: Path) -> Path:
    """`src/` and `pipelines/` of a git revision into `dest`; returns the project-like folder."""
    data = subprocess.run(["git", "-C", str(PROJECT), "archive", rev, "src", "pipelines"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def cli(ws: Path, src: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIAGNOSTIC_HOME": str(ws), "DIAGNOSTIC_MIRROR": str(OPENDATA), "PYTHONPATH": str(src),
           "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "diagnostic.cli", *args], cwd=ws, env=env, capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"diagnostic {' '.join(args)} a échoué ({proc.returncode}) :\n{proc.stdout}\n{proc.stderr}")
    return proc


def produire(sortie: Path, rev: str | None, cache: Path) -> None:
    sortie.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="contrat-") as tmp:
        tmp = Path(tmp)
        base = exporter(rev, tmp / "rev") if rev else PROJECT
        ws = tmp / "ws"
        (ws / "pipelines").mkdir(parents=True)
        for name in ("sources.toml", "diagnostic.toml"):
            if (base / "pipelines" / name).is_file():
                shutil.copy(base / "pipelines" / name, ws / "pipelines" / name)
        shutil.copytree(PROJECT / "data" / "territoires", ws / "data" / "territoires")
        if cache.is_dir():
            shutil.copytree(cache, ws / "data" / "raw", copy_function=os.link)
        src = base / "src"
        for nom, spec in TERRITOIRES.items():
            proc = cli(ws, src, "run", spec, "--sans-pdf")
            slug = SLUGS.get(nom) or next(p.name for p in (ws / "reports").iterdir() if p.name.startswith("communes"))
            shutil.copy(ws / "reports" / slug / "indicateurs.csv", sortie / f"{nom}.csv")
            print(f"{nom} ({spec}) : {sortie / (nom + '.csv')}", file=sys.stderr)
            del proc
        cli(ws, src, "batch", "--kind", "epci")
        shutil.copy(ws / "reports" / "_national" / "epci.csv", sortie / "batch_epci.csv")
        print(f"batch epci : {sortie / 'batch_epci.csv'}", file=sys.stderr)
        if not cache.is_dir():
            shutil.copytree(ws / "data" / "raw", cache)


def comparer(a: Path, b: Path) -> int:
    noms = sorted({p.name for p in a.glob("*.csv")} | {p.name for p in b.glob("*.csv")})
    differents = [n for n in noms if not ((a / n).is_file() and (b / n).is_file()
                                         and filecmp.cmp(a / n, b / n, shallow=False))]
    for n in noms:
        print(f"{'DIFFÉRENT' if n in differents else 'identique'} : {n}")
    return 1 if differents or not noms else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sortie", type=Path)
    p.add_argument("--rev", help="révision git dont le paquet est exécuté (défaut : cette copie de travail)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/diagnostic-contrat-raw"))
    p.add_argument("--comparer", nargs=2, type=Path, metavar=("AVANT", "APRES"))
    args = p.parse_args()
    if args.comparer:
        return comparer(*args.comparer)
    if not args.sortie:
        p.error("--sortie ou --comparer")
    produire(args.sortie, args.rev, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
