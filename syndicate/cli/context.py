"""What every command shares: the context (config, store), exit codes, errors, output.

Commands print through ``out``/``err`` and leave through ``fail``/``fatal`` so
that every fatal error is one line (the traceback only under ``--log-level
debug``) and the exit codes are decided in one place.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .. import logs
from ..config import Config, load
from ..errors import ConfigError, InputError, StoreError, SyndicateError
from ..model import CollectCounts
from ..store import Store, open_store, redact_url

EXIT_OK, EXIT_FATAL, EXIT_REJECTED = 0, 1, 2
log = logging.getLogger("syndicate")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Ctx:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._cfg: Config | None = None
        self._store: Store | None = None

    @property
    def cfg(self) -> Config:
        if self._cfg is None:
            self._cfg = load(self.config_path)
        return self._cfg

    @property
    def store(self) -> Store:
        """The store, opened once; opening it closes the runs of processes that died.

        So whichever command comes after a killed collect (status, build, a
        digest, …) shows its run as interrupted, not running. ``open_store``:
        a SQLite store is upgraded on the spot, any other is refused if behind.
        """
        if self._store is None:
            self._store = open_store(self.cfg.store.url)
            self._store.close_stale_runs()
        return self._store

    def store_label(self) -> str | None:
        """How an error names the store: its file or URL, if the config got that far."""
        if self._store is not None:
            return self._store.label
        return redact_url(self._cfg.store.url) if self._cfg is not None else None


def fail(message: str, code: int = EXIT_FATAL) -> NoReturn:
    if err.is_terminal:
        err.print(f"[red]syndicate: error:[/red] {escape(message)}", markup=True)
    else:
        print(f"syndicate: error: {message}", file=sys.stderr)
    sys.exit(code)


def fatal(exc: BaseException, store: str | None = None) -> NoReturn:
    """Exit with one line naming what failed; the traceback only with --log-level debug.

    The one place where the error tree meets exit codes: an ``InputError``
    that reaches a command is a rejected input (2), every other error is
    fatal (1). Our own errors say what they mean in ``str()``; anything else
    is described with the file and line it came from.
    """
    log.debug("traceback of the error below", exc_info=exc)
    if isinstance(exc, ConfigError):
        text = str(exc)
        fail(f"invalid config:\n{text}" if "\n" in text else f"invalid config: {text}")
    if isinstance(exc, StoreError):
        fail(f"store: {exc}")
    if isinstance(exc, InputError):
        fail(str(exc), EXIT_REJECTED)
    if isinstance(exc, SyndicateError):
        fail(str(exc))
    fail(logs.describe(exc, store))


def _store_label(ctx: click.Context) -> str | None:
    return ctx.obj.store_label() if isinstance(ctx.obj, Ctx) else None


@contextmanager
def handled() -> Iterator[None]:
    try:
        yield
    except SyndicateError as exc:
        fatal(exc)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A bar on a terminal; nothing when output goes to a file or a pipe."""
    if not err.is_terminal:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(n: int, total: int | None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.advance(task, n)

        yield advance


def describe_collect(c: CollectCounts) -> str:
    parts = [f"{c.new:,} new", f"{c.updated:,} updated", f"{c.rejected:,} rejected"]
    if c.unchanged:
        parts.insert(2, f"{c.unchanged:,} unchanged")
    if c.withdrawn:
        parts.append(f"{c.withdrawn:,} withdrawn")
    if c.skipped:
        parts.append(f"{c.skipped:,} skipped")
    return f"collected {c.files:,} files: " + ", ".join(parts)


def report_rejections(c: CollectCounts) -> None:
    for r in c.rejections:
        print(f"rejected: {r.path}: {r.reason}", file=sys.stderr)


def job_error(outcome: Any) -> None:
    """A job that raised: the first line of its recorded error (the traceback: under debug)."""
    lines = (outcome.error or "").splitlines()
    print(f"syndicate: error: {outcome.job}: {lines[0] if lines else 'failed'}", file=sys.stderr)
