"""The pipeline's commands: collect, build, status, run, jobs, health, serve."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from rich.table import Table

from ..config import Config
from ..store import Store
from ..timeutil import now_utc
from .context import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_REJECTED,
    Ctx,
    describe_collect,
    fail,
    handled,
    job_error,
    out,
    progress_bar,
    report_rejections,
)


@click.command()
@click.option("--force", is_flag=True, help="Fetch every feed source now, even if not yet due.")
@click.pass_obj
def collect(obj: Ctx, force: bool) -> None:
    """Read every source into the store (only changed files are parsed).

    Prints a one-line summary and every rejected input with its reason;
    exits 2 when any input was rejected.
    """
    from ..collect.collector import collect as run_collect

    with handled():
        cfg, store = obj.cfg, obj.store
        with progress_bar("collecting") as advance:
            counts = run_collect(cfg, store, progress=advance, force=force)
    report_rejections(counts)
    print(describe_collect(counts))
    sys.exit(EXIT_REJECTED if counts.rejected else EXIT_OK)


@click.command()
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
        newest = s.newest.astimezone(tz).strftime("%Y-%m-%d %H:%M") if s.newest else "-"
        table.add_row(s.slug, s.name, f"{s.posts:,}", newest, s.newest_title or "")
    out.print(table)
    runs = Table(title="last runs")
    for col in ("job", "started", "outcome", "counts", "error"):
        runs.add_column(col)
    for r in last:
        counts = ", ".join(f"{k} {v:,}" for k, v in r.counts.items() if v)
        started = r.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        error = (r.error or "").splitlines()[0][:80] if r.error else ""
        runs.add_row(r.job, started, r.outcome.value, counts, error)
    if last:
        out.print(runs)
    else:
        out.print("no runs yet: try `syndicate collect`")
    _status_extras(obj, cfg, store)


@click.command()
@click.option("--force", is_flag=True, help="Render every file even if the store is unchanged.")
@click.option("--snippets", is_flag=True, help="Print each category's autodiscovery <link> tags.")
@click.pass_obj
def build(obj: Ctx, force: bool, snippets: bool) -> None:
    """Write the feeds: RSS, Atom and JSON Feed per category and for all posts,
    an HTML page per feed (<key>.html, what a browser is shown), feeds.opml,
    the index page, feed.css and autodiscovery snippets, in feeds.dir.

    Where each file goes follows feeds.layout: all.atom, <slug>.rss and
    index.html by default; feed.xml, feed/<category>.xml and feed/index.html
    with jekyll-feed's (docs/jekyll.md).

    Files are written atomically and only when their bytes change; with
    nothing changed in the store, nothing is written at all.
    """
    from ..publish.build import all_snippets
    from ..publish.build import build as run_build

    with handled():
        result = run_build(obj.cfg, obj.store, force=force)
    if snippets:
        for key, html in all_snippets(obj.cfg, obj.store).items():
            print(f"<!-- {key} -->\n{html}")
    for msg in result.ping_errors:
        print(f"warning: {msg}", file=sys.stderr)
    if result.skipped:
        where = obj.cfg.feeds.dir
        print(f"nothing changed: {result.feeds} feeds up to date in {where}")
    else:
        print(
            f"built {result.feeds} feeds: {len(result.written)} files written, "
            f"{len(result.unchanged)} unchanged → {result.index}"
        )


@click.command()
@click.option("--once", is_flag=True, help="Run collect → build → due digests once, then exit.")
@click.pass_obj
def run(obj: Ctx, once: bool) -> None:
    """Start the daemon: run the `jobs:` of schedule.yaml on their triggers.

    One daemon per SQLite store (a second one exits naming the first). On
    PostgreSQL start one per machine: one leads (an advisory lock), the
    others stand by and take over when it dies; a leader that loses its lock
    exits 75 for its service manager to restart it as a standby. With
    daemon.execute: queue the leader only defers tasks to `syndicate worker`s.
    With daemon.watch (the default) a saved post file starts the collect job
    (and its build) as soon as the posts folder settles, without waiting for
    its trigger. SIGTERM or SIGINT finish the running unit of work and exit 0; SIGHUP
    reloads schedule.yaml (an invalid file is refused and the old schedule kept).
    With daemon.metrics_port set, it serves Prometheus metrics there
    (docs/operations.md). With --once, run the whole pipeline a single time: what `make demo` and
    a system cron call.
    """
    from .. import jobs
    from ..errors import AlreadyRunning

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
    from ..daemon import Daemon

    with handled():
        try:
            daemon = Daemon(obj.config_path)
            code = daemon.run()
        except AlreadyRunning as exc:
            fail(str(exc))
    sys.exit(code)


@click.group(invoke_without_command=True)
@click.pass_context
def jobs(ctx: click.Context) -> None:
    """List the configured jobs with their next run times (no scheduler is started).

    "runs" says what a job does: a step, or a digest and the edition it sends
    (daily or weekly, for a digest with offer_weekly: jobs[].edition).
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..daemon import stored_jobs
    from ..triggers import make_trigger

    obj: Ctx = ctx.obj
    with handled():
        cfg, store = obj.cfg, obj.store
        stored = stored_jobs(cfg)
        last = {r.job: r for r in store.last_runs()}
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
            _runs(cfg, name),
            when,
            nxt.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S") if nxt else "-",
            r.started_at.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S") if r else "-",
            r.outcome.value if r else "",
        )
    out.print(table)
    if not stored:
        out.print("(the daemon has not stored its jobs yet: next runs are computed from now)")


def _runs(cfg: Config, name: str) -> str:
    """What a job runs; a digest job with the edition it sends, since a digest with
    offer_weekly has two jobs (``daily``, ``daily-weekly``) that would read the same."""
    from ..config import ADJECTIVE

    job = cfg.jobs[name]
    step = cfg.job_step(name)
    if not job.digest:
        return step
    digest = next((d for d in cfg.digests if d.name == job.digest), None)
    period = job.edition or (digest.period if digest is not None else None)
    edition = f", {ADJECTIVE[period]} edition" if period else ""
    return f"{step} {job.digest}{edition}"


@jobs.command("run")
@click.argument("name")
@click.pass_obj
def jobs_run(obj: Ctx, name: str) -> None:
    """Run one configured job now, in this process (and the jobs chained after it)."""
    from .. import jobs as job_mod

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


@click.command()
@click.pass_obj
def health(obj: Ctx) -> None:
    """Exit 0 when the daemon is alive and no job has failed too often; 1 otherwise.

    For supervisors and monitoring: checks the daemon's lock, its heartbeat in
    the health file, and the last `daemon.max_failures` runs of each job. On
    PostgreSQL: that some `syndicate run` leads and that no queued task is
    stuck (waiting longer than daemon.stuck_after, or running with no worker).
    """
    from ..health import check

    with handled():
        problems, lines = check(obj.cfg, obj.store)
    for line in lines:
        print(line)
    for p in problems:
        print(f"unhealthy: {p}")
    sys.exit(EXIT_FATAL if problems else EXIT_OK)


@click.command()
@click.option("--host", metavar="ADDR", help="Address to bind (default: serve.host, 127.0.0.1).")
@click.option("--port", type=int, metavar="PORT", help="Port (default: serve.port, 8080; 0: any).")
@click.pass_obj
def serve(obj: Ctx, host: str | None, port: int | None) -> None:
    """Serve the feeds, the unsubscribe and preference pages and the digest archive.

    Binds 127.0.0.1 by default: put nginx or a CDN in front for the public.
    Unsubscribe links need the SYNDICATE_SECRET that signed them. GET /metrics
    answers Prometheus (docs/operations.md): keep it off the public side.
    """
    from ..web.server import serve as run_server

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
    from ..collect.feedstate import states
    from ..config import FeedSource

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


def _digest_status(cfg: Config, store: Store) -> None:
    from .digest_commands import status_section

    status_section(cfg, store)


STATUS_SECTIONS.append(_digest_status)


def _cluster_status(cfg: Config, store: Store) -> None:
    """On PostgreSQL: the leader, the standbys, the workers and the queue."""
    if store.engine.dialect.name != "postgresql":
        return
    from ..cluster.overview import report

    rep = report(cfg, store, now_utc())
    out.print("cluster:")
    for line in rep.lines():
        out.print(f"  {line}")


STATUS_SECTIONS.append(_cluster_status)


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Tasks run at once by this process, each in a thread of its own.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve this worker's Prometheus metrics on PORT (default: none; docs/operations.md).",
)
@click.option(
    "--metrics-host",
    metavar="ADDR",
    help="Address for --metrics-port (default: daemon.metrics_host, 127.0.0.1).",
)
@click.pass_obj
def worker(obj: Ctx, concurrency: int, metrics_port: int | None, metrics_host: str | None) -> None:
    """Run queued tasks (daemon.execute: queue, PostgreSQL only) until SIGTERM or Ctrl-C.

    The units of work: collect one source, build the feeds, read bounces,
    compose an edition, deliver one chunk of it (daemon.chunk recipients).
    Start as many workers on as many machines as you like: the delivery
    ledger keeps each message exactly-once and a relay's rate is shared by all.
    """
    from ..cluster.worker import run_worker

    with handled():
        cfg, store = obj.cfg, obj.store
        if store.engine.dialect.name != "postgresql":
            fail("syndicate worker needs a PostgreSQL store (store.url: postgresql+psycopg://…)")
        if not store.has_queue():
            fail(f"{store.label} has no queue tables: run `syndicate store upgrade`")
        host = metrics_host or cfg.daemon.metrics_host
        code = run_worker(
            cfg, store, concurrency=concurrency, metrics_port=metrics_port, metrics_host=host
        )
        sys.exit(code)
