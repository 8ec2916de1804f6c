"""The ``syndicate`` command: parse arguments, call the step modules, print results."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__, logs
from .config import Config, ConfigError, load
from .model import CollectCounts
from .store import Store, StoreError, redact_url
from .timeutil import now_utc

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
        digest, …) shows its run as interrupted, not running.
        """
        if self._store is None:
            self._store = Store(self.cfg.store.url)
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
    """Exit 1 with one line naming what failed; the traceback only with --log-level debug."""
    log.debug("traceback of the error below", exc_info=exc)
    if isinstance(exc, ConfigError):
        text = str(exc)
        fail(f"invalid config:\n{text}" if "\n" in text else f"invalid config: {text}")
    if isinstance(exc, StoreError):
        fail(f"store: {exc}")
    fail(logs.describe(exc, store))


class LazyGroup(click.Group):
    """The root group, with some subcommands imported only when they are used.

    click's documented lazy-loading pattern: ``syndicate digest …`` imports
    the digest's modules (premailer, cssutils, …: ~0.3 s), every other command
    starts without them. Help and completion see the real commands.
    """

    lazy: ClassVar[dict[str, str]] = {}  # command name -> "module:attribute"

    def invoke(self, ctx: click.Context) -> Any:
        """Every command: an exception nothing else handled is one line and exit 1."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, EOFError):
            raise  # click's own: usage errors, --help, Ctrl-D
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # output piped into `head`: click exits quietly
            fatal(exc, _store_label(ctx))
        except Exception as exc:
            fatal(exc, _store_label(ctx))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, attr = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="syndicate")
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="SYNDICATE_CONFIG",
    help="Pipeline config (default: ./schedule.yaml; env SYNDICATE_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Plain lines, or one JSON object per line for log collectors.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """Per-category RSS, Atom and JSON feeds and daily e-mail digests for a news site.

    Each step reads and writes the store, so any step can run alone:
    `syndicate collect` reads the sources, `syndicate build` writes the feeds.
    Exit codes: 0 ok, 2 some inputs were rejected (listed), 1 fatal error.
    """
    logs.setup(log_level, log_format)
    ctx.obj = Ctx(config_path)


def _store_label(ctx: click.Context) -> str | None:
    return ctx.obj.store_label() if isinstance(ctx.obj, Ctx) else None


@contextmanager
def handled() -> Iterator[None]:
    try:
        yield
    except (ConfigError, StoreError) as exc:
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


@main.command()
@click.option("--force", is_flag=True, help="Fetch every feed source now, even if not yet due.")
@click.pass_obj
def collect(obj: Ctx, force: bool) -> None:
    """Read every source into the store (only changed files are parsed).

    Prints a one-line summary and every rejected input with its reason;
    exits 2 when any input was rejected.
    """
    from .collect.collector import collect as run_collect

    with handled():
        cfg, store = obj.cfg, obj.store
        with progress_bar("collecting") as advance:
            counts = run_collect(cfg, store, progress=advance, force=force)
    report_rejections(counts)
    print(describe_collect(counts))
    sys.exit(EXIT_REJECTED if counts.rejected else EXIT_OK)


@main.command()
@click.pass_obj
def status(obj: Ctx) -> None:
    """Posts per category, the newest post of each, and the last run of each job."""
    with handled():
        cfg, store = obj.cfg, obj.store
        stats = store.category_stats()
        last = store.last_runs()
    tz = cfg.site.tz
    table = Table(title=f"{cfg.site.title}: {store.count_posts(withdrawn=False):,} posts")
    for col in ("category", "name", "posts", "newest", "newest title"):
        table.add_column(col, justify="right" if col == "posts" else "left")
    for s in stats:
        newest = s["newest"].astimezone(tz).strftime("%Y-%m-%d %H:%M") if s["newest"] else "-"
        table.add_row(s["slug"], s["name"], f"{s['posts']:,}", newest, s["newest_title"] or "")
    out.print(table)
    runs = Table(title="last runs")
    for col in ("job", "started", "outcome", "counts", "error"):
        runs.add_column(col)
    for r in last:
        counts = ", ".join(f"{k} {v:,}" for k, v in r["counts"].items() if v)
        started = r["started_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        error = (r["error"] or "").splitlines()[0][:80] if r["error"] else ""
        runs.add_row(r["job"], started, r["outcome"], counts, error)
    if last:
        out.print(runs)
    else:
        out.print("no runs yet: try `syndicate collect`")
    _status_extras(obj, cfg, store)


@main.command()
@click.option("--force", is_flag=True, help="Render every file even if the store is unchanged.")
@click.option("--snippets", is_flag=True, help="Print each category's autodiscovery <link> tags.")
@click.pass_obj
def build(obj: Ctx, force: bool, snippets: bool) -> None:
    """Write the feeds: RSS, Atom and JSON Feed per category and for all posts,
    plus feeds.opml, index.html, feed.xsl and autodiscovery snippets.

    Files are written atomically and only when their bytes change; with
    nothing changed in the store, nothing is written at all.
    """
    from .publish.build import all_snippets
    from .publish.build import build as run_build

    with handled():
        result = run_build(obj.cfg, obj.store, force=force)
    if snippets:
        for key, html in all_snippets(obj.cfg, obj.store).items():
            print(f"<!-- {key} -->\n{html}")
    for msg in result.ping_errors:
        print(f"warning: {msg}", file=sys.stderr)
    if result.skipped:
        print(f"nothing changed: {result.feeds} feeds up to date in {result.index.parent}")
    else:
        print(
            f"built {result.feeds} feeds: {len(result.written)} files written, "
            f"{len(result.unchanged)} unchanged → {result.index}"
        )


@main.command()
@click.option("--once", is_flag=True, help="Run collect → build → due digests once, then exit.")
@click.pass_obj
def run(obj: Ctx, once: bool) -> None:
    """Start the daemon: run the `jobs:` of schedule.yaml on their triggers.

    One daemon per store (a second one exits naming the first). SIGTERM or
    SIGINT finish the running unit of work and exit 0; SIGHUP reloads
    schedule.yaml (an invalid file is refused and the old schedule kept).
    With --once, run the whole pipeline a single time: what `make demo` and
    a system cron call.
    """
    from . import jobs
    from .lock import AlreadyRunning

    if once:
        with handled():
            cfg, store = obj.cfg, obj.store
            outcome = jobs.execute(cfg, store, "once", step="pipeline", chain=False)
        counts = ", ".join(f"{k} {v:,}" for k, v in outcome.counts.items() if v)
        print(f"pipeline {outcome.outcome} in {outcome.duration:.1f}s: {counts or 'nothing to do'}")
        if outcome.error:
            job_error(outcome)
        sys.exit(
            EXIT_FATAL
            if outcome.outcome == "error"
            else EXIT_REJECTED
            if outcome.outcome == "partial"
            else EXIT_OK
        )
    from .daemon import Daemon

    with handled():
        try:
            daemon = Daemon(obj.config_path)
            code = daemon.run()
        except AlreadyRunning as exc:
            fail(str(exc))
    sys.exit(code)


@main.group(invoke_without_command=True)
@click.pass_context
def jobs(ctx: click.Context) -> None:
    """List the configured jobs with their next run times (no scheduler is started)."""
    if ctx.invoked_subcommand is not None:
        return
    from .daemon import stored_jobs
    from .triggers import make_trigger

    obj: Ctx = ctx.obj
    with handled():
        cfg, store = obj.cfg, obj.store
        stored = stored_jobs(cfg)
        last = {r["job"]: r for r in store.last_runs()}
    now = now_utc()
    table = Table(title="jobs")
    for col in ("job", "runs", "trigger", "next run", "last run", "outcome"):
        table.add_column(col)
    for name, job in cfg.jobs.items():
        trigger = make_trigger(cfg, job)
        if name in stored:
            nxt = stored[name]
        elif trigger is not None:
            nxt = trigger.get_next_fire_time(None, now)
        else:
            nxt = None
        when = "after " + job.after if job.after else (job.cron or job.at or f"every {job.every}")
        r = last.get(name)
        table.add_row(
            name,
            cfg.job_step(name) + (f" {job.digest}" if job.digest else ""),
            when,
            nxt.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S") if nxt else "-",
            r["started_at"].astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S") if r else "-",
            r["outcome"] if r else "",
        )
    out.print(table)
    if not stored:
        out.print("(the daemon has not stored its jobs yet: next runs are computed from now)")


@jobs.command("run")
@click.argument("name")
@click.pass_obj
def jobs_run(obj: Ctx, name: str) -> None:
    """Run one configured job now, in this process (and the jobs chained after it)."""
    from . import jobs as job_mod

    with handled():
        cfg, store = obj.cfg, obj.store
        if name not in cfg.jobs:
            fail(f"no job named {name!r} (configured: {', '.join(cfg.jobs) or 'none'})")
        outcome = job_mod.execute(cfg, store, name)
    for o in [outcome, *outcome.chained]:
        counts = ", ".join(f"{k} {v:,}" for k, v in o.counts.items() if v)
        print(f"{o.job}: {o.outcome} in {o.duration:.1f}s {counts}")
        if o.error:
            job_error(o)
    sys.exit(EXIT_FATAL if outcome.outcome == "error" else EXIT_OK)


def job_error(outcome: Any) -> None:
    """A job that raised: the first line of its recorded error (the traceback: under debug)."""
    lines = (outcome.error or "").splitlines()
    print(f"syndicate: error: {outcome.job}: {lines[0] if lines else 'failed'}", file=sys.stderr)


@main.command()
@click.pass_obj
def health(obj: Ctx) -> None:
    """Exit 0 when the daemon is alive and no job has failed too often; 1 otherwise.

    For supervisors and monitoring: checks the daemon's lock, its heartbeat in
    the health file, and the last `daemon.max_failures` runs of each job.
    """
    from .health import check

    with handled():
        problems, lines = check(obj.cfg, obj.store)
    for line in lines:
        print(line)
    for p in problems:
        print(f"unhealthy: {p}")
    sys.exit(EXIT_FATAL if problems else EXIT_OK)


@main.command()
@click.option("--host", metavar="ADDR", help="Address to bind (default: serve.host, 127.0.0.1).")
@click.option("--port", type=int, metavar="PORT", help="Port (default: serve.port, 8080; 0: any).")
@click.pass_obj
def serve(obj: Ctx, host: str | None, port: int | None) -> None:
    """Serve the feeds, the unsubscribe and preference pages and the digest archive.

    Binds 127.0.0.1 by default: put nginx or a CDN in front for the public.
    Unsubscribe links need the SYNDICATE_SECRET that signed them.
    """
    from .web.server import serve as run_server

    with handled():
        cfg = obj.cfg
    sys.exit(run_server(cfg, host or cfg.serve.host, cfg.serve.port if port is None else port))


# later steps (feed sources, digests, daemon) add their own status sections here
STATUS_SECTIONS: list[Callable[[Config, Store], Any]] = []


def _status_extras(obj: Ctx, cfg: Config, store: Store) -> None:
    for section in STATUS_SECTIONS:
        section(cfg, store)


def _feed_sources_status(cfg: Config, store: Store) -> None:
    """Each upstream feed: the URL in use, how the last fetch went, when the next one is."""
    from .collect.feedstate import states
    from .config import FeedSource

    configured = [s for s in cfg.sources if isinstance(s, FeedSource)]
    if not configured:
        return
    tz = cfg.site.tz
    table = Table(title="feed sources")
    for col in ("source", "url", "last result", "errors", "last fetch", "next fetch", "disabled"):
        table.add_column(col)

    def when(dt: Any) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else "-"

    for source, st in states(store, configured):
        if st is None:
            table.add_row(source.label, source.feed, "never fetched", "0", "-", "due", "no")
            continue
        url = st.url + (f" (→ {st.redirect_url} ×{st.redirect_count})" if st.redirect_url else "")
        table.add_row(
            source.label,
            url,
            st.last_result or "-",
            str(st.error_count),
            when(st.last_fetch),
            "-" if st.disabled else when(st.next_fetch) if st.next_fetch else "due",
            "yes" if st.disabled else "no",
        )
    out.print(table)


STATUS_SECTIONS.append(_feed_sources_status)


# the digest's command groups, imported when used (see LazyGroup)
LazyGroup.lazy.update(
    digest="syndicate.digest.commands:digest",
    subscribers="syndicate.digest.commands:subscribers",
)


def _digest_status(cfg: Config, store: Store) -> None:
    from .digest.commands import status_section

    status_section(cfg, store)


STATUS_SECTIONS.append(_digest_status)


if __name__ == "__main__":  # pragma: no cover
    main()
