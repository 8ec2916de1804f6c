"""``syndicate digest …``: parse, call the digest modules, print.

Imported only when one of these groups is used (``cli/__init__.py``'s
LazyGroup): the digest modules load premailer and cssutils. Exit codes as
everywhere: 0 ok, 2 some inputs rejected or some messages refused, 1 fatal.
"""

from __future__ import annotations

import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table

from ..config import Config
from ..digest import editions, ledger, tokens
from ..digest import subscribers as subs
from ..digest.subscribers import ImportCounts
from ..errors import DateError
from ..model import Period
from ..store import Store
from ..timeutil import now_utc, parse_date
from .context import EXIT_FATAL, EXIT_REJECTED, fail, handled, progress_bar

# wide enough for the status table when the output goes to a file or a pipe
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def _parse_now(value: str | None, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    try:
        return parse_date(value, tz)
    except DateError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


_edition_option = click.option(
    "--edition",
    type=click.Choice(["day", "week"]),
    help="Only the daily or the weekly edition (default: every edition the digest has; a"
    " digest with offer_weekly has both).",
)

_now_option = click.option(
    "--now",
    "now_text",
    metavar="TIME",
    hidden=True,
    help="Compose as if it were TIME (ISO 8601 with offset); for tests and replays.",
)


def report_import(counts: ImportCounts | None) -> bool:
    """Print rejected rows; True when there were any."""
    if counts is None:
        return False
    for r in counts.rejections:
        print(f"rejected: {r.path}: {r.reason}", file=sys.stderr)
    return bool(counts.rejections)


# -- digest ---------------------------------------------------------------


@click.group()
def digest() -> None:
    """Compose the e-mail digests and deliver them exactly once.

    Editions are recorded in the store with one ledger row per subscriber, so
    `digest send` can be run (or re-run after a crash) at any time: nothing
    accepted by the mail server is ever sent again.
    """


@digest.command()
@click.argument("name")
@click.option("--subscriber", "address", metavar="ADDR", help="Render for this subscriber.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: preview-NAME-DATE.html); the .eml goes beside it.",
)
@click.option(
    "--edition",
    type=click.Choice(["day", "week"]),
    help="The daily or the weekly edition (default: the one the subscriber chose, else the"
    " digest's period).",
)
@_now_option
@click.pass_obj
def preview(
    obj: Any,
    name: str,
    address: str | None,
    out_file: Path | None,
    edition: str | None,
    now_text: str | None,
) -> None:
    """Write the next edition of digest NAME as HTML and .eml, without sending anything.

    Shows what a subscriber (or, without --subscriber, somebody who chose
    every category) would get if `digest send` ran now.
    """
    with handled():
        result = editions.preview(
            obj.cfg,
            obj.store,
            name,
            now=_parse_now(now_text, obj.cfg.site.tz),
            address=address,
            period=Period(edition) if edition else None,
        )
    if result is None:
        print(f"{name}: no new posts since the last edition; nothing to preview")
        return
    html_path = out_file or Path(f"preview-{name}-{result.plan.date}.html")
    eml_path = html_path.with_suffix(".eml")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(result.html, encoding="utf-8")
    eml_path.write_bytes(result.eml)
    trimmed = f", {result.trimmed} cut for the size budget" if result.trimmed else ""
    print(
        f"{name} {result.plan.date}: {result.items} items{trimmed}, "
        f"{result.size / 1024:.1f} KB HTML, to {result.subscriber.email}"
    )
    print(f"subject: {result.subject}")
    print(f"wrote {html_path} and {eml_path}")


@digest.command()
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Every configured digest (same as no NAME).")
@click.option("--dry-run", is_flag=True, help="Compose and count, send and record nothing.")
@_edition_option
@_now_option
@click.pass_obj
def send(
    obj: Any,
    name: str | None,
    all_: bool,
    dry_run: bool,
    edition: str | None,
    now_text: str | None,
) -> None:
    """Compose and deliver the due editions of digest NAME (or of every digest).

    An edition is due when its digest has none yet in this period (today, in
    the site's timezone; this ISO week for a weekly edition) and there are new
    posts in its window; unfinished editions are resumed first. Prints one
    line per edition. Exit 2 when subscriber rows were rejected or a server
    refused some messages; 1 when delivery had to stop.
    """
    if name and all_:
        raise click.UsageError("give a digest NAME or --all, not both")
    with handled():
        cfg, store = obj.cfg, obj.store
        if not cfg.digests:
            fail("no digests configured (add a `digests:` section to the config)")
        names = [name] if name else None
        now = _parse_now(now_text, cfg.site.tz)
        rejected = False
        if not dry_run:
            tokens.secret()  # fail before importing anything
            rejected = report_import(subs.sync_configured(cfg, store, now=now or now_utc()))

        with progress_bar("sending") as advance:
            results = editions.send_due(
                cfg,
                store,
                now=now,
                names=names,
                dry_run=dry_run,
                sync_subscribers=False,
                progress=advance,
                period=Period(edition) if edition else None,
            )
    for r in results:
        print(r.summary())
    if any(r.status in ("aborted", "incomplete") for r in results):
        sys.exit(EXIT_FATAL)
    if rejected or any(r.failed for r in results if r.status == "sent"):
        sys.exit(EXIT_REJECTED)


_date_option = click.option(
    "--date",
    metavar="YYYY-MM-DD",
    help="The edition of this date, or of this ISO week (YYYY-Www) for a weekly one"
    " (default: the newest).",
)


@digest.command()
@click.argument("name", required=False)
@click.option("--limit", default=30, show_default=True, help="How many editions to show.")
@click.option(
    "--failed",
    is_flag=True,
    help="With NAME: each recipient the edition did not reach, with the server's answer.",
)
@_date_option
@click.pass_obj
def status(obj: Any, name: str | None, limit: int, failed: bool, date: str | None) -> None:
    """Editions, newest first, with their sent / pending / failed / skipped counts."""
    with handled():
        cfg, store = obj.cfg, obj.store
        if not failed:
            rows = ledger.overview(store, limit)
            if name:
                rows = [r for r in rows if r.edition.digest == name]
            out.print(_status_table(cfg, rows))
            return
        if not name:
            raise click.UsageError("--failed needs the digest NAME")
        (wanted,) = editions.digests_named(cfg, [name])
        row = editions.find_edition(store, wanted, date)
        missed = store.undelivered(row.id)
    if not missed:
        print(f"{name} {row.date}: every recipient was reached (or skipped)")
        return
    table = Table(title=f"{name} {row.date}: {len(missed):,} not delivered")
    for col in ("address", "status", "tries", "server's answer"):
        table.add_column(col)
    for m in missed:
        kind = "failed" if m.status == ledger.FAILED else "pending (temporary)"
        table.add_row(m.email, kind, str(m.attempts), m.error)
    out.print(table)


@digest.command()
@click.argument("name")
@_date_option
@click.pass_obj
def retry(obj: Any, name: str, date: str | None) -> None:
    """Send edition NAME again to the recipients it did not reach yet.

    Only rows still open are sent: temporary failures (4xx, the server
    unreachable) and pending ones. A recipient marked sent is never sent
    again; a permanent failure (5xx) is not retried.
    """
    with handled(), progress_bar("retrying") as advance:
        result = editions.retry(obj.cfg, obj.store, name, date=date, progress=advance)
    print(result.summary())
    if result.status in ("aborted", "incomplete"):
        sys.exit(EXIT_FATAL)


def _status_table(cfg: Config, rows: list[ledger.EditionOverview]) -> Table | str:
    if not rows:
        return "no digest editions yet: try `syndicate digest send`"
    tz = cfg.site.tz
    table = Table(title="digest editions")
    for col in (
        "digest",
        "date",
        "window",
        "items",
        "sent",
        "pending",
        "failed",
        "skipped",
        "state",
    ):
        numeric = col in ("items", "sent", "pending", "failed", "skipped")
        justify: Literal["right", "left"] = "right" if numeric else "left"
        table.add_column(col, justify=justify)
    for r in rows:
        e = r.edition
        start = e.window_start.astimezone(tz).strftime("%m-%d %H:%M") if e.window_start else "…"
        window = f"{start} → {e.window_end.astimezone(tz).strftime('%m-%d %H:%M')}"
        table.add_row(
            e.digest,
            e.date,
            window,
            str(e.item_count),
            f"{r.sent:,}",
            f"{r.pending:,}",
            f"{r.failed:,}",
            f"{r.skipped:,}",
            e.status.value,
        )
    return table


def status_section(cfg: Config, store: Store) -> None:
    """The newest editions, for `syndicate status`."""
    if cfg.digests:
        out.print(_status_table(cfg, ledger.overview(store, 5)))
