"""The delivery ledger: editions and one row per (edition, subscriber).

Rows are written (pending) when the edition is created, claimed in small
chunks by a sender, and marked sent only after the server accepted the
message or the Maildir file is in place, each in its own commit. A sender
that dies leaves at most its claimed rows behind; a later run hands them back
(the one in flight at the crash may go twice, with the same Message-ID).

The statements are the store's (``store/mailings.py``); the rules above are
kept here: which claims are dead, one commit per outcome, the bounce count
in the same commit as the failure.
"""

from __future__ import annotations

import itertools
import os
import socket
from datetime import datetime, timedelta

from ..model import DeliveryStatus, EditionStatus, Period
from ..store import Store
from ..store.records import Claim, EditionOverview, EditionRow
from .subscribers import record_outcome

PENDING, CLAIMED, SENT, FAILED, SKIPPED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.CLAIMED,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
)
DEFERRED = DeliveryStatus.DEFERRED  # a temporary failure, held by its sender until its run ends
HELD = (CLAIMED, DEFERRED)
SENDING, DONE = EditionStatus.SENDING, EditionStatus.DONE
# a claim by another machine counts as abandoned after this long without progress
LEASE = timedelta(minutes=15)

__all__ = ["Claim", "EditionOverview", "EditionRow"]


# -- editions -------------------------------------------------------------


def last_window_end(
    store: Store, digest: str, *, before: datetime, period: Period = Period.DAY
) -> datetime | None:
    return store.last_window_end(digest, before=before, period=period)


def find(store: Store, digest: str, date: str, period: Period | None = None) -> EditionRow | None:
    """The digest's edition in slot ``date`` (a day or an ISO week: ``digest/periods.py``)."""
    return store.edition_on(digest, date, period)


def get(store: Store, edition_id: int) -> EditionRow:
    return store.edition(edition_id)


def unfinished(store: Store, digest: str) -> list[EditionRow]:
    return store.unfinished_editions(digest)


def history(store: Store, digest: str, limit: int = 50) -> list[EditionRow]:
    return store.edition_history(digest, limit)


def create(
    store: Store,
    *,
    digest: str,
    date: str,
    window_start: datetime | None,
    window_end: datetime,
    items: str,
    item_count: int,
    subject: str,
    summary: str,
    now: datetime,
    period: Period = Period.DAY,
    weekly: bool | None = None,
) -> EditionRow | None:
    """The edition and a pending row for every active subscriber of the digest, in one commit.

    ``weekly`` picks the audience of an ``offer_weekly`` digest's editions
    (``periods.choosers``). None when another process created the same edition
    first (the unique constraints on (digest, period, window end) and
    (digest, period, slot) decide: one edition per digest per period).
    """
    edition_id = store.create_edition(
        digest=digest,
        date=date,
        window_start=window_start,
        window_end=window_end,
        items=items,
        item_count=item_count,
        subject=subject,
        summary=summary,
        now=now,
        period=period,
        weekly=weekly,
    )
    return None if edition_id is None else get(store, edition_id)


def finish_if_done(store: Store, edition_id: int, now: datetime) -> bool:
    return store.finish_edition_if_done(edition_id, now)


def counts(store: Store, edition_id: int) -> dict[DeliveryStatus, int]:
    return store.delivery_counts(edition_id)


def overview(store: Store, limit: int = 30) -> list[EditionOverview]:
    """The newest editions with their delivery counts, for ``syndicate digest status``."""
    return store.editions_overview(limit)


# -- claims ---------------------------------------------------------------


def _start_tag(pid: int) -> str:
    """The process start time (Linux), so a reused pid is not taken for the old sender."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode("ascii")
    except (OSError, IndexError):
        return ""


_CHUNKS = itertools.count(1)


def claimer_id() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_tag(pid)}"


def _alive(claimer: str) -> bool:
    host, _, rest = claimer.split("#", 1)[0].partition(":")
    pid_text, _, tag = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only the lease can tell
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_tag(pid) == tag


def reclaim(store: Store, edition_id: int, *, me: str, now: datetime) -> int:
    """Hand back rows claimed by senders that are gone (or by this process: it is not sending)."""
    claimers = store.held_claimers(edition_id)
    dead = [c for c in claimers if c is None or c.split("#", 1)[0] == me or not _alive(c)]
    return store.release_claims(edition_id, dead, claimed_before=now - LEASE)


def claim(store: Store, edition_id: int, *, me: str, n: int, now: datetime) -> list[Claim]:
    """Take up to n pending rows in one write (two senders never get the same row).

    Each chunk gets its own tag (``me#n``), so rows of an earlier chunk still
    being sent by worker threads are not handed out again.
    """
    return store.claim_deliveries(edition_id, tag=f"{me}#{next(_CHUNKS)}", n=n, now=now)


def release_mine(store: Store, edition_id: int, *, me: str) -> None:
    store.release_claimed_by(edition_id, f"{me}#")


# -- outcomes (one commit each: what is marked sent was accepted) ---------


def mark_sent(store: Store, c: Claim, *, message_id: str, location: str, now: datetime) -> None:
    with store.transaction() as tx:
        store.set_delivery_outcome(
            tx,
            c.delivery_id,
            SENT,
            attempts=c.attempts + 1,
            now=now,
            message_id=message_id,
            location=location,
        )
        if c.subscriber.hard_failures:
            record_outcome(store, tx, c.subscriber.id, ok=True, now=now)


def mark_failed(store: Store, c: Claim, *, message_id: str, error: str, now: datetime) -> bool:
    """A permanent failure; True when it was the subscriber's third in a row (now bounced)."""
    with store.transaction() as tx:
        store.set_delivery_outcome(
            tx,
            c.delivery_id,
            FAILED,
            attempts=c.attempts + 1,
            now=now,
            message_id=message_id,
            error=error[:1000] if error else None,
        )
        return record_outcome(store, tx, c.subscriber.id, ok=False, now=now)


def mark_skipped(store: Store, c: Claim, *, reason: str, now: datetime) -> None:
    with store.transaction() as tx:
        store.set_delivery_outcome(
            tx,
            c.delivery_id,
            SKIPPED,
            attempts=c.attempts,
            now=now,
            error=reason[:1000] if reason else None,
        )


def defer(store: Store, c: Claim, *, error: str, now: datetime) -> None:
    """A temporary failure that outlived its retries: not again in this run, pending after it."""
    store.defer_delivery(c.delivery_id, attempts=c.attempts + 1, error=error[:1000], now=now)
