"""The `diagnostic` command (called by the Makefile). Errors an analyst can act on are printed in
French without a traceback."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler

from .config import DiagnosticError, Workspace

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Diagnostic territorial de CPTS à partir des données ouvertes.")
err = Console(stderr=True, soft_wrap=True)

MirrorOpt = typer.Option(None, "--mirror", help="Miroir hors ligne : dossier ou base http://127.0.0.1:PORT (sinon DIAGNOSTIC_MIRROR).")
PerteOpt = typer.Option(False, "--accepter-perte", help="Reconstruire même si l'entrepôt perd les chiffres d'une source "
                        "qu'il contient (fichier altéré irréparable, illisible) ; --force ne le fait pas.")


def _setup(mirror: Optional[str]) -> Workspace:
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=err, show_path=False, show_time=False)])
    for noisy in ("httpx", "weasyprint", "fontTools"):  # their INFO lines are noise for analysts
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mirror = mirror or os.environ.get("DIAGNOSTIC_MIRROR")
    if mirror:
        if not mirror.startswith(("http://", "https://")):
            path = Path(mirror).expanduser().resolve()
            if not path.is_dir():
                raise DiagnosticError(f"Miroir introuvable : {path} n'est pas un dossier.")
            mirror = str(path)
        os.environ["DIAGNOSTIC_MIRROR"] = mirror
    return Workspace.find()


def _print_outcome(result) -> None:
    """Warnings, unavailable sources and failed updates of a run, in French."""
    for e in result.integrite:  # raw files found altered (integrite.py), healed or not
        err.print(f"[{'green' if e['repare'] else 'yellow'}]Intégrité ({e['source']}) :[/] {e['message']}", highlight=False)
    for w in result.warnings:
        err.print(f"[yellow]Avertissement :[/] {w}", highlight=False)
    for sid, reason in result.unavailable.items():
        err.print(f"[yellow]Source indisponible ({sid}) :[/] {reason}", highlight=False)
    for sid, reason in result.not_updated.items():
        err.print(f"[yellow]Source non mise à jour ({sid}) :[/] {reason}", highlight=False)
    for refus in getattr(result, "enquetes_refusees", []):
        err.print(f"[yellow]Avertissement :[/] {refus}", highlight=False)


def _fail(exc: BaseException) -> None:
    err.print(f"[bold red]Erreur :[/] {exc}", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    territoire: str = typer.Argument(..., help="cpts-centre-saone-et-loire, epci:<SIREN>, dep:<code> ou communes:<code>,<code>"),
    refresh: bool = typer.Option(False, "--refresh", help="Retélécharger les sources même si elles sont déjà là."),
    strict: bool = typer.Option(False, "--strict", help="Échouer si une source est indisponible."),
    sans_pdf: bool = typer.Option(False, "--sans-pdf", help="Ne pas produire diagnostic.pdf (plus rapide)."),
    svg: bool = typer.Option(False, "--svg", help="Écrire aussi chaque carte et graphique en SVG (vectoriel, plus lent)."),
    mirror: Optional[str] = MirrorOpt,
    accepter_perte: bool = PerteOpt,
) -> None:
    """Produire le diagnostic d'un territoire dans reports/<territoire>/."""
    from .pipeline import run as run_pipeline

    start = time.perf_counter()
    try:
        ws = _setup(mirror)
        result = run_pipeline(ws, territoire, refresh=refresh, pdf=not sans_pdf, accepter_perte=accepter_perte,
                                svg=svg)
    except DiagnosticError as exc:
        _fail(exc)
    _print_outcome(result)
    err.print(f"Rapport écrit dans [bold]{result.out_dir}[/] en {time.perf_counter() - start:.1f} s.", highlight=False)
    if strict and result.degraded:
        err.print("[bold red]Mode strict :[/] au moins une source est indisponible"
                  + (" ou un fichier d'enquête est refusé" if result.enquetes_refusees else "")
                  + (" ou un fichier brut est altéré" if any(not e["repare"] for e in result.integrite) else "") + ".")
        raise typer.Exit(1)


@app.command("ingest")
def ingest_cmd(
    sources: Optional[list[str]] = typer.Argument(None, help="Identifiants de sources (par défaut : toutes)."),
    refresh: bool = typer.Option(False, "--refresh"),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Télécharger les sources du registre dans data/raw/."""
    from .fetch import FetchError
    from .ingest import ingest
    from .registry import load_registry

    try:
        ws = _setup(mirror)
        registry = load_registry(ws.registry)
        unknown = [s for s in sources or [] if s not in registry]
        if unknown:
            raise DiagnosticError(f"Source(s) inconnue(s) : {', '.join(unknown)} (registre : {', '.join(registry)}).")
        failed = False
        for sid in sources or list(registry):
            journal: list[dict] = []
            try:
                got = ingest(ws, registry[sid], refresh=refresh, journal=journal)
                err.print(f"{sid} : {len(got)} fichier(s), {sum(f.downloaded for f in got)} téléchargé(s).")
            except FetchError as exc:
                failed = True
                err.print(f"[red]{sid} :[/] {exc}", highlight=False)
            for e in journal:
                failed = failed or not e["repare"]
                err.print(f"[{'green' if e['repare'] else 'yellow'}]Intégrité ({sid}) :[/] {e['message']}", highlight=False)
    except DiagnosticError as exc:
        _fail(exc)
    if failed:
        raise typer.Exit(1)


@app.command()
def build(force: bool = typer.Option(False, "--force", help="Reconstruire même si rien n'a changé."), mirror: Optional[str] = MirrorOpt,
          accepter_perte: bool = PerteOpt) -> None:
    """Construire l'entrepôt data/processed/diagnostic.duckdb à partir des fichiers bruts."""
    from .pipeline import prepare

    try:
        ws = _setup(mirror)
        result = prepare(ws, force_build=force, accepter_perte=accepter_perte)
    except DiagnosticError as exc:
        _fail(exc)
    _print_outcome(result)
    err.print(f"Entrepôt prêt : {ws.warehouse}")


@app.command()
def batch(
    kind: Optional[str] = typer.Option(None, "--kind", help="Type de territoires : epci, dep, ou perimetres (avec --fichier)."),
    fichier: Optional[Path] = typer.Option(None, "--fichier", help="Fichier de périmètres nommés : .toml ([[perimetre]] nom, communes) ou .csv (nom;commune)."),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Indicateurs et rangs de tous les territoires d'un type : reports/_national/<type>.csv et .xlsx."""
    from .batch import KINDS, run_batch
    from .pipeline import prepare

    start = time.perf_counter()
    try:
        kind = kind or ("perimetres" if fichier else None)
        if kind not in KINDS:
            raise DiagnosticError(f"Type de territoires {'inconnu « ' + kind + ' »' if kind else 'absent'} : --kind epci, --kind dep ou --kind perimetres --fichier <fichier>.")
        ws = _setup(mirror)
        result = prepare(ws)
        paths = run_batch(ws, kind, fichier.resolve() if fichier else None)
    except DiagnosticError as exc:
        _fail(exc)
    _print_outcome(result)
    err.print(f"Tables nationales écrites : [bold]{paths['csv']}[/] et [bold]{paths['xlsx']}[/] en {time.perf_counter() - start:.1f} s.", highlight=False)


@app.command()
def rapports(
    kind: str = typer.Option("epci", "--kind", help="Type de territoires : epci ou dep."),
    limite: Optional[int] = typer.Option(None, "--limite", min=1, help="Seulement les N premiers territoires (ordre des codes)."),
    code: Optional[list[str]] = typer.Option(None, "--code", help="Seulement ces territoires (option répétable), ex. --code 247100290."),
    pdf: bool = typer.Option(False, "--pdf", help="Produire aussi diagnostic.pdf de chaque territoire (cartes à la résolution d'impression)."),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Rapports par lot (HTML, XLSX, CSV, cartes ; sans Word, PDF avec --pdf) : reports/_rapports/<type>/<territoire>/."""
    from .pipeline import prepare
    from .rapports import run_rapports
    from .registry import load_registry

    start = time.perf_counter()
    try:
        ws = _setup(mirror)
        sources = load_registry(ws.registry)
        result = prepare(ws, sources=sources)
        dossiers = run_rapports(ws, kind, sources, result, limite, code, pdf=pdf)
    except DiagnosticError as exc:
        _fail(exc)
    _print_outcome(result)
    err.print(f"{len(dossiers)} rapports écrits dans [bold]{dossiers[0].parent}[/] en {time.perf_counter() - start:.1f} s.",
              highlight=False)


@app.command("annuaire")
def annuaire_cmd(
    territoire: str = typer.Argument(..., help="cpts-centre-saone-et-loire, epci:<SIREN>, dep:<code> ou communes:<code>,<code>"),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Écrire l'annuaire des acteurs du territoire (annuaire.xlsx, annuaire.csv) dans reports/<territoire>/."""
    from .annuaire import produire

    try:
        ws = _setup(mirror)
        result, ecrits, a = produire(ws, territoire)
    except DiagnosticError as exc:
        _fail(exc)
    _print_outcome(result)
    n_pro, n_struct = a.professionnels["identifiant"].nunique(), len(a.structures)
    err.print(f"Annuaire écrit dans [bold]{result.out_dir}[/] : {n_pro} professionnel(s) de santé, "
              f"{n_struct} établissement(s) et service(s) ({', '.join(p.name for p in ecrits)}).", highlight=False)


@app.command("verifier")
def verifier_cmd(
    source: Optional[list[str]] = typer.Option(None, "--source", help="Seulement cette source (option répétable)."),
    json_: bool = typer.Option(False, "--json", help="Résultat en JSON (pour les scripts)."),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Comparer en ligne le format publié par chaque producteur à celui que lit le diagnostic (code 1 si un écart bloquerait un traitement)."""
    from .verification.sortie import imprimer

    try:
        ws = _setup(mirror)
        code = imprimer(ws, source, json_)
    except DiagnosticError as exc:
        _fail(exc)
    raise typer.Exit(code)


@app.command()
def evolution(
    territoire: str = typer.Argument(..., help="cpts-centre-saone-et-loire, epci:<SIREN>, dep:<code> ou communes:<code>,<code>"),
    depuis: Optional[str] = typer.Option(None, "--depuis", help="Référence : une date AAAA-MM-JJ de l'historique, ou le dossier d'un rapport antérieur (par défaut : l'exécution précédente)."),
    mirror: Optional[str] = MirrorOpt,
) -> None:
    """Ce qui a changé depuis un diagnostic antérieur, indicateur par indicateur, et pourquoi (evolution.csv)."""
    from .suivi.commande import afficher, evolution as comparer

    try:
        ws = _setup(mirror)
        resultat = comparer(ws, territoire, depuis)
    except DiagnosticError as exc:
        _fail(exc)
    afficher(Console(), resultat)


@app.command()
def status(mirror: Optional[str] = MirrorOpt,
           verifier: bool = typer.Option(False, "--verifier", help="Recalculer l'empreinte sha256 de chaque fichier brut "
                                         "et lister les fichiers altérés, absents et orphelins (code de sortie 1 s'il y en a).")) -> None:
    """État des sources : millésime détenu, date de récupération, taille, empreinte, millésime plus récent, preuve du format."""
    from rich.table import Table

    from . import integrite
    from .fetch import read_manifest
    from .registry import load_registry, evidence_summary

    try:
        ws = _setup(mirror)
        registry = load_registry(ws.registry)
    except DiagnosticError as exc:
        _fail(exc)
    if verifier:
        constats = integrite.inventaire(ws.raw)
        for ligne in integrite.rapport(constats):
            Console(soft_wrap=True).print(ligne, highlight=False)
        raise typer.Exit(1 if any(c.etat != integrite.OK for c in constats) else 0)
    table = Table(title="Sources du diagnostic", show_lines=False)
    for col in ("source", "millésime détenu", "fichiers", "récupéré le", "taille", "sha256", "registre", "preuve"):
        table.add_column(col)
    for sid, source in registry.items():
        held = sorted(p.name for p in (ws.raw / sid).glob("*") if p.is_dir() and read_manifest(p)) if (ws.raw / sid).is_dir() else []
        latest_held = max(held, default=None)
        expected = source.files(latest_held) if latest_held in source.vintages else {}
        manifest = read_manifest(ws.raw / sid / latest_held) if latest_held else {}
        recs = [manifest[n] for n in expected if n in manifest]
        newer = [v for v in source.vintages if latest_held is None or v > latest_held]
        table.add_row(
            sid,
            latest_held or "absent",
            f"{len(recs)}/{len(expected) or len(source.files())}",
            max((r["retrieved_at"] for r in recs), default="—"),
            f"{sum(r['bytes'] for r in recs) / 1e6:.1f} Mo" if recs else "—",
            recs[0]["sha256"][:12] + ("…" if len(recs) == 1 else f"… (+{len(recs) - 1})") if recs else "—",
            f"plus récent : {', '.join(sorted(newer))}" if newer else "à jour",
            evidence_summary(source),
        )
    Console().print(table)
    for ecart in integrite.ecarts_rapides(ws.raw):
        Console(soft_wrap=True).print(f"Attention : {ecart} ; vérifiez avec « diagnostic status --verifier ».", highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        err.print("Interrompu.")
        sys.exit(130)
    except Exception as exc:  # a bug, not a user error: short French message, details on demand
        if os.environ.get("DIAGNOSTIC_DEBUG"):
            raise
        err.print(
            f"[bold red]Erreur inattendue[/] ({type(exc).__name__}) : {exc}\n"
            "Relancez avec DIAGNOSTIC_DEBUG=1 pour le détail technique, et signalez-la aux mainteneurs.",
            highlight=False,
        )
        sys.exit(3)


if __name__ == "__main__":  # python -m diagnostic.cli
    main()
