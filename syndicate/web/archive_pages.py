"""``/digests/<name>/``: the public archive of past editions, and each edition's page.

The archive copies are written by the digest step (``digest/archive.py``)
without any reader's name, address or token, so they can be public; this
module only lists and serves them, newest first, with their Atom feed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..digest import ledger
from ..errors import StoreUnavailable
from ..slugs import SLUG_RE
from ..store import StoreError
from ..timeutil import parse_week_slot
from .rendering import page
from .state import WebState

# an edition's page is named by its slot: a day, or an ISO week (digest/periods.py)
EDITION_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}-W\d{2})\.html$")
FEED_NAME = "index.atom"  # as digest/archive.py writes it


@dataclass(frozen=True)
class Edition:
    date: str  # the slot: a day (2026-12-03) or an ISO week (2026-W49)
    href: str
    subject: str
    # newest-first order across digests and periods (``_sent_on``): slots do not sort as text
    sent_on: tuple[str, str] = ("", "")


def _folder(state: WebState, name: str) -> Path:
    if not SLUG_RE.match(name):
        raise HTTPException(404)
    folder = state.cfg.feeds.dir / "digests" / name
    configured = any(d.name == name for d in state.cfg.digests)
    if not configured and not folder.is_dir():
        raise HTTPException(404)
    return folder


def _stored(state: WebState, name: str) -> dict[str, tuple[str, str]]:
    """Each edition's (subject, local date of its window end) from the store; the listing
    still works (file names only) without it."""
    try:
        rows = ledger.history(state.store.get(), name, limit=10_000)
    except (StoreUnavailable, StoreError):
        return {}
    tz = state.cfg.site.tz
    return {r.date: (r.subject, r.window_end.astimezone(tz).strftime("%Y-%m-%d")) for r in rows}


def _sent_on(slot: str, stored: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """Sort key, newest first: the day an edition was sent; a weekly one after that day's
    daily one. A week the store does not know goes by its Monday."""
    week = parse_week_slot(slot)
    if week is None:
        return slot, "0"
    if slot in stored:
        return stored[slot][1], "1"
    try:
        return date.fromisocalendar(*week, 1).isoformat(), "1"
    except ValueError:  # no such week: not a file the digest step wrote
        return f"{week[0]}-00-00", "1"


def editions(state: WebState, name: str) -> list[Edition]:
    folder = _folder(state, name)
    slots = [m.group(1) for p in folder.glob("*.html") if (m := EDITION_RE.match(p.name))]
    stored = _stored(state, name) if slots else {}
    slots.sort(key=lambda slot: _sent_on(slot, stored), reverse=True)
    return [Edition(d, f"{d}.html", stored.get(d, ("", ""))[0], _sent_on(d, stored)) for d in slots]


async def listing(request: Request) -> Response:
    state: WebState = request.app.state.web
    name = request.path_params["name"]
    found = await run_in_threadpool(editions, state, name)
    has_feed = (_folder(state, name) / FEED_NAME).is_file()
    form = await run_in_threadpool(_form, state, f"/digests/{name}/")
    return page(
        state.cfg,
        "archive.html.j2",
        private=False,
        name=name,
        editions=found,
        feed_href=f"/feeds/digests/{name}/{FEED_NAME}" if has_feed else "",
        signup=form,
        referrer="same-origin",
    )


def _form(state: WebState, page_url: str) -> dict[str, Any] | None:
    """The sign-up form for an archive page (None: no key, so no sign-up is possible)."""
    if state.key is None or not state.cfg.digests:
        return None
    from .signup_pages import served_form  # signup_pages links to the archive: no cycle

    try:
        store = state.store.get()
    except StoreUnavailable:
        store = None
    return served_form(state, store, page_url)


async def index(request: Request) -> Response:
    state: WebState = request.app.state.web
    form = await run_in_threadpool(_form, state, "/digests/")
    return page(
        state.cfg,
        "digests.html.j2",
        private=False,
        names=[d.name for d in state.cfg.digests],
        signup=form,
        referrer="same-origin",
    )


async def edition(request: Request) -> Response:
    state: WebState = request.app.state.web
    name, file = request.path_params["name"], request.path_params["file"]
    # the archive feed too: its self link is under feeds_base_url, which is the site
    # root (this route) in the jekyll-feed layout
    if not (EDITION_RE.match(file) or file == FEED_NAME):
        raise HTTPException(404)
    response = await run_in_threadpool(state.files.response, request, f"digests/{name}/{file}")
    if response is None:
        raise HTTPException(404)
    return response
