"""``syndicate subscribers …``: who gets the digests, their consent, their data on request.

Imported only when the group is used (``cli/__init__.py``'s LazyGroup).
Exit codes as everywhere: 0 ok, 2 some rows rejected, 1 fatal.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..config import Config
from ..digest import privacy
from ..digest import subscribers as subs
from ..digest.signups import expire
from ..store import Store
from ..store.records import Consent
from ..timeutil import now_utc
from .context import EXIT_OK, EXIT_REJECTED, fail, handled
from .digest_commands import out, report_import


@click.group()
def subscribers() -> None:
    """Manage who gets the digests.

    The configured subscribers file is imported on every `digest send`; an
    unsubscribe or bounce recorded in the store always wins over the file.
    Readers also sign up themselves on `syndicate serve`'s /subscribe (double
    opt-in); `show` gives their consent record, `export` and `forget` answer
    a request for their data.
    """


def _entry(
    cfg: Config,
    store: Store,
    address: str,
    name: str,
    categories: str,
    digests: str,
    weekly: str = "",
) -> subs.Entry:
    try:
        return subs.Choices(cfg, store).entry(
            {
                "email": address,
                "name": name,
                "categories": categories,
                "digests": digests,
                "weekly": weekly,
            },
            "argument",
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@subscribers.command()
@click.argument("address")
@click.option("--name", default="", help="Name for the greeting.")
@click.option(
    "--categories", default="", help='Category slugs, e.g. "caijing keji" (default: all).'
)
@click.option("--digests", default="", help='Digest names, e.g. "daily" (default: all).')
@click.option(
    "--weekly",
    default="",
    help="Digests (with offer_weekly) whose weekly edition ADDRESS gets instead of the daily"
    " one (default: none, daily).",
)
@click.pass_obj
def add(obj: Any, address: str, name: str, categories: str, digests: str, weekly: str) -> None:
    """Add ADDRESS, or update it (an unsubscribed address is subscribed again)."""
    with handled():
        cfg, store = obj.cfg, obj.store
        entry = _entry(cfg, store, address, name, categories, digests, weekly)
        sub, action = subs.add(cfg, store, entry, now=now_utc())
    cats = " ".join(sub.categories) or "all categories"
    line = f"{action}: {sub.email} ({cats}; {' '.join(sub.digests) or 'all digests'}"
    print(line + (f"; weekly: {' '.join(sub.weekly)})" if sub.weekly else ")"))


@subscribers.command()
@click.argument("address")
@click.option("--purge", is_flag=True, help="Delete the address and its delivery history.")
@click.pass_obj
def remove(obj: Any, address: str, purge: bool) -> None:
    """Unsubscribe ADDRESS (remembered, so a file import cannot bring it back)."""
    with handled():
        action = subs.remove(obj.store, address, now=now_utc(), purge=purge)
    if action is None:
        fail(f"no subscriber {address}")
    print(f"{action}: {address}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(subs.STATUSES), help="Only this status.")
@click.pass_obj
def list_(obj: Any, status: str | None) -> None:
    """Every subscriber with their categories, digests, weekly choices and status.

    Sign-ups from the form or the API that are not confirmed yet are listed
    too, as `pending` (they get no digest until they are confirmed).
    """
    with handled():
        store, cfg = obj.store, obj.cfg
        now = now_utc()
        expire(cfg, store, now)
        pending = []
        if status in (None, subs.PENDING):
            pending = store.pending_signups(since=now - timedelta(days=cfg.serve.pending_days))
        rows = iter(()) if status == subs.PENDING else subs.iter_subscribers(store, status=status)
        first = next(rows, None)
        if first is None and not pending:
            print("no subscribers yet: try `syndicate subscribers add ADDR`")
            return
        table = Table()
        for col in ("email", "name", "categories", "digests", "weekly", "status"):
            table.add_column(col)
        count = 0
        for s in [first, *rows] if first is not None else []:
            count += 1
            table.add_row(*_row(s.email, s.name, s.categories, s.digests, s.status, s.weekly))
        for p in pending:
            table.add_row(*_row(p.email, p.name, p.categories, p.digests, subs.PENDING))
        title = f"{count:,} subscribers"
        if pending:
            title += f", {len(pending):,} pending sign-ups"
        table.title = title
        out.print(table)


def _row(
    email: str,
    name: str,
    categories: tuple[str, ...],
    digests: tuple[str, ...],
    status: str,
    weekly: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """One line of `subscribers list` (empty choices mean all; no weekly choice: "-")."""
    cats, names = " ".join(categories) or "all", " ".join(digests) or "all"
    return (email, name, cats, names, " ".join(weekly) or "-", str(status))


def _when(value: datetime | None, cfg: Config) -> str:
    return value.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S %z") if value else "-"


@subscribers.command()
@click.argument("address")
@click.pass_obj
def show(obj: Any, address: str) -> None:
    """One subscriber: status, choices, how they subscribed (consent) and what happened since."""
    with handled():
        cfg, store = obj.cfg, obj.store
        sub = subs.get(store, address)
        signups = store.signups_for(subs.normalize_address(address)) if sub is None else []
        if sub is None and not signups:
            fail(f"no subscriber {address}")
        if sub is None:
            for p in signups:
                state = "confirmed" if p.confirmed_at else subs.PENDING
                when = _when(p.created_at, cfg)
                print(f"sign-up {p.id}: {p.email} {state}, by {p.method} at {when}")
            return
        _show(cfg, store, sub)


def _confirmed(c: Consent, cfg: Config) -> str:
    if c.confirmed_at is not None:
        return f"{_when(c.confirmed_at, cfg)} (pressed the link of the confirmation mail)"
    return "no: added by the operator" if c.method in ("file", "cli") else "no"


def _show(cfg: Config, store: Store, sub: subs.Subscriber) -> None:
    lines = [
        ("address", sub.email),
        ("name", sub.name or "-"),
        ("status", f"{sub.status} since {_when(sub.status_at, cfg)}"),
        ("categories", " ".join(sub.categories) or "all"),
        ("digests", " ".join(sub.digests) or "all"),
        ("weekly", " ".join(sub.weekly) or "none (daily editions)"),
        ("source", sub.source),
        ("added", _when(sub.created_at, cfg)),
    ]
    c = sub.consent
    if c is not None:
        lines += [
            ("consent", f"{c.method}, asked {_when(c.at, cfg)}"),
            ("confirmed", _confirmed(c, cfg)),
            ("page", c.page or "-"),
            ("client", f"IP hash {c.ip_hash}" if c.ip_hash else "-"),
        ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")
    events = store.events_of(sub.id)
    if events:
        print("events:")
        for e in events:
            detail = f"  {e.detail}" if e.detail else ""
            source = f"  (message {e.message_id})" if e.message_id else ""
            print(f"  {_when(e.at, cfg)}  {e.kind}{detail}{source}")


@subscribers.command()
@click.argument("address")
@click.pass_obj
def export(obj: Any, address: str) -> None:
    """Everything held about ADDRESS, as JSON (for a data access request)."""
    with handled():
        data = privacy.export(obj.store, address)
    if data is None:
        fail(f"nothing is held about {address}")
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    print()


@subscribers.command()
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def forget(obj: Any, address: str, yes: bool) -> None:
    """Erase ADDRESS: its address, name, consent record and the address in ledger rows.

    Only a keyed hash of the address is kept, so importing an old subscribers
    file that still lists it does not subscribe it again; signing up again
    through the form (or `subscribers add`) is a new consent and does.
    """
    if not yes and not click.confirm(f"erase everything held about {address}?"):
        fail("nothing erased")
    with handled():
        done = privacy.forget(obj.store, address, now=now_utc())
    if not done:
        fail(f"nothing is held about {address}")
    print(f"forgotten: {address} (only a keyed hash is kept, so imports leave it out)")


@subscribers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sync",
    is_flag=True,
    help="Also remove subscribers this file added before but no longer lists.",
)
@click.pass_obj
def import_(obj: Any, file: Path, sync: bool) -> None:
    """Import a CSV (email,name,categories[,digests[,weekly]]) or YAML subscribers file.

    weekly lists the digests (each with offer_weekly: true) whose weekly
    edition the subscriber takes instead of the daily one; left out, the
    daily edition. Rows with an invalid address, an unknown digest, a bad
    category or a weekly digest that offers no weekly edition are listed
    with their file:line and skipped (exit 2); the rest is imported.
    """
    with handled():
        counts = subs.import_file(obj.cfg, obj.store, file, now=now_utc(), sync=sync)
    report_import(counts)
    print(f"imported {file}: {counts.describe()}")
    sys.exit(EXIT_REJECTED if counts.rejections else EXIT_OK)
