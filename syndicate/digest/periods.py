"""Editions by period: which slot an instant falls in, what a weekly edition covers, who gets it.

The exactly-once rule is "one edition per digest per period": the store keys
an edition by (digest, period, slot), where the slot is

- ``day``: the local date (``site.timezone``) of the edition's window end,
  ``2026-12-03``, as before periods existed;
- ``week``: the ISO 8601 week (Monday to Sunday, local time) of the time the
  edition was due (its job's scheduled time; the window end when sent by
  hand), ``2026-W49``. Keying by the due time keeps a Sunday-evening slot
  caught up after midnight in the week it belongs to, so the next Sunday
  still gets its edition.

The two spellings never collide, so the slot is also what ``--date`` takes
and what the archive's file names are made of.

A digest with ``offer_weekly`` has two editions, each with its own window
(``since-last`` reads the previous edition of the same period only) and its
own audience: the weekly edition goes to the subscribers who chose it for
that digest, the daily one to everyone else who gets the digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import Config, DigestConfig
from ..model import Period
from ..timeutil import week_slot

WEEK = timedelta(days=7)  # a weekly edition's window when it has no previous edition


def slot(cfg: Config, period: Period, when: datetime) -> str:
    """The slot ``when`` falls in, in the site's timezone."""
    local = when.astimezone(cfg.site.tz)
    if period is Period.WEEK:
        return week_slot(local)
    return local.strftime("%Y-%m-%d")


def editions_of(digest: DigestConfig) -> tuple[Period, ...]:
    """The periods a digest has editions for, daily first."""
    return tuple(Period(p) for p in digest.periods())


def choosers(digest: DigestConfig, period: Period) -> bool | None:
    """Who gets this edition: None everyone taking the digest, True only those who chose
    its weekly edition, False everyone else (the daily edition of an ``offer_weekly`` digest)."""
    if not digest.offer_weekly:
        return None
    return period is Period.WEEK


def gets(digest: DigestConfig, period: Period, weekly: tuple[str, ...]) -> bool:
    """Whether a subscriber whose weekly choices are ``weekly`` gets this period's edition."""
    who = choosers(digest, period)
    return who is None or who == (digest.name in weekly)


def first_window(period: Period, end: datetime) -> datetime | None:
    """``since-last`` with no previous edition: a week back for a weekly one, else everything."""
    return end - WEEK if period is Period.WEEK else None


def when_label(period: Period) -> str:
    """How the CLI says "in this slot"."""
    return "this week" if period is Period.WEEK else "today"
