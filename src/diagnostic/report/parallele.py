"""Run the report's slow, independent steps (figures, the Word file) in worker processes.

Each map or chart takes about a second of matplotlib; the PDF and the Word file do not depend on each
other. On a machine with several cores the workers draw while the main process writes the tables.
Workers are forked, so they inherit the context (GeoDataFrames) without pickling it; the results
(paths and captions) are small. ``DIAGNOSTIC_WORKERS=1`` runs everything in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Callable

_contexte: list[Any] = []  # a stack: pushed before the workers fork, read by them (innermost last)


def nombre_workers() -> int:
    """``DIAGNOSTIC_WORKERS`` if set, else the cores this process may use, at most 2."""
    try:
        return max(1, int(os.environ["DIAGNOSTIC_WORKERS"]))
    except (KeyError, ValueError):
        return max(1, min(2, len(os.sched_getaffinity(0))))


class _EnLigne(Executor):
    """The same interface, run at once in this process (one core, or fork not available)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed back through the future, as a pool would
            f.set_exception(exc)
        return f


def _avec_contexte(fonction: Callable, *args):
    return fonction(_contexte[-1], *args)


class Travaux:
    """``with Travaux(ctx) as t:`` then ``t.avec_contexte(f, *args)`` runs ``f(ctx, *args)`` in a worker and
    ``t.submit(f, *args)`` runs ``f(*args)``; both return a ``Future``. Functions and arguments are
    pickled (module-level functions, small values); the context is not: the workers inherit it.
    ``workers``: at most that many workers (1: a process of its own beside this one, for one long task; 0: none).
    """

    def __init__(self, contexte: Any, workers: int | None = None):
        self.contexte = contexte
        coeurs = nombre_workers()
        n = coeurs if workers is None else min(workers, coeurs)
        fork = "fork" in multiprocessing.get_all_start_methods()
        self.pool: Executor = (
            ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) if coeurs > 1 and n > 0 and fork
            else _EnLigne()
        )

    def __enter__(self) -> "Travaux":
        _contexte.append(self.contexte)  # before the first submit: the workers fork on demand
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=exc[0] is not None)
        _contexte.pop()

    def avec_contexte(self, fonction: Callable, *args) -> Future:
        return self.pool.submit(_avec_contexte, fonction, *args)

    def submit(self, fonction: Callable, *args) -> Future:
        return self.pool.submit(fonction, *args)
