"""The delivery ledger: editions and one row per (edition, subscriber).

Rows are written (pending) when the edition is created, claimed in small
chunks by a sender, and marked sent only after the server accepted the
message or the Maildir file is in place, each in its own commit. A sender
that dies leaves at most its claimed rows behind; a later run hands them back
(the one in flight at the crash may go twice, with the same Message-ID).
"""

from __future__ import annotations

import itertools
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..store import Store, deliveries, editions, subscribers
from .subscribers import ACTIVE, Subscriber, record_outcome

PENDING, CLAIMED, SENT, FAILED, SKIPPED = "pending", "claimed", "sent", "failed", "skipped"
DEFERRED = "deferred"  # a temporary failure, held by its sender until the end of its run
HELD = (CLAIMED, DEFERRED)
SENDING, DONE = "sending", "done"
# a claim by another machine counts as abandoned after this long without progress
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class EditionRow:
    id: int
    digest: str
    date: str
    window_start: datetime | None
    window_end: datetime
    items: str
    item_count: int
    subject: str
    summary: str
    status: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempts: int
    subscriber: Subscriber


def _edition(row: Any) -> EditionRow:
    return EditionRow(**{k: row._mapping[k] for k in EditionRow.__dataclass_fields__})


# -- editions -------------------------------------------------------------


def last_window_end(store: Store, digest: str, *, before: datetime) -> datetime | None:
    with store.connect() as conn:
        return conn.execute(
            select(func.max(editions.c.window_end)).where(
                editions.c.digest == digest, editions.c.window_end < before
            )
        ).scalar()


def find(store: Store, digest: str, date: str) -> EditionRow | None:
    with store.connect() as conn:
        row = conn.execute(
            select(editions).where(editions.c.digest == digest, editions.c.date == date)
        ).first()
    return _edition(row) if row else None


def get(store: Store, edition_id: int) -> EditionRow:
    with store.connect() as conn:
        return _edition(conn.execute(select(editions).where(editions.c.id == edition_id)).one())


def unfinished(store: Store, digest: str) -> list[EditionRow]:
    with store.connect() as conn:
        rows = conn.execute(
            select(editions)
            .where(editions.c.digest == digest, editions.c.status == SENDING)
            .order_by(editions.c.window_end)
        ).all()
    return [_edition(r) for r in rows]


def history(store: Store, digest: str, limit: int = 50) -> list[EditionRow]:
    with store.connect() as conn:
        rows = conn.execute(
            select(editions)
            .where(editions.c.digest == digest)
            .order_by(editions.c.window_end.desc())
            .limit(limit)
        ).all()
    return [_edition(r) for r in rows]


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
) -> EditionRow | None:
    """The edition and a pending row for every active subscriber of the digest, in one commit.

    None when another process created the same edition first (the unique
    constraints on (digest, window end) and (digest, date) decide).
    """
    wants = or_(
        subscribers.c.digests == "",
        (literal(" ") + subscribers.c.digests + literal(" ")).like(f"% {digest} %"),
    )
    try:
        with store.begin() as conn:
            res = conn.execute(
                editions.insert().values(
                    digest=digest,
                    date=date,
                    window_start=window_start,
                    window_end=window_end,
                    items=items,
                    item_count=item_count,
                    subject=subject,
                    summary=summary,
                    status=SENDING,
                    created_at=now,
                )
            )
            key = res.inserted_primary_key
            assert key is not None  # an insert of one row always has one
            edition_id = int(key[0])
            conn.execute(
                deliveries.insert().from_select(
                    ["edition_id", "subscriber_id", "status", "attempts"],
                    select(
                        literal(edition_id), subscribers.c.id, literal(PENDING), literal(0)
                    ).where(subscribers.c.status == ACTIVE, wants),
                )
            )
    except IntegrityError:
        return None
    return get(store, edition_id)


def finish_if_done(store: Store, edition_id: int, now: datetime) -> bool:
    with store.begin() as conn:
        open_rows = conn.execute(
            select(func.count()).where(
                deliveries.c.edition_id == edition_id,
                deliveries.c.status.in_([PENDING, *HELD]),
            )
        ).scalar()
        if open_rows:
            return False
        conn.execute(
            update(editions)
            .where(editions.c.id == edition_id, editions.c.status == SENDING)
            .values(status=DONE, finished_at=now)
        )
        return True


def counts(store: Store, edition_id: int) -> dict[str, int]:
    with store.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.status, func.count())
            .where(deliveries.c.edition_id == edition_id)
            .group_by(deliveries.c.status)
        ).all()
    out = dict.fromkeys((SENT, FAILED, PENDING, CLAIMED, DEFERRED, SKIPPED), 0)
    out.update({status: int(n) for status, n in rows})
    return out


def overview(store: Store, limit: int = 30) -> list[dict[str, Any]]:
    """The newest editions with their delivery counts, for ``syndicate digest status``."""
    d = deliveries
    per_status = (
        select(d.c.edition_id, d.c.status, func.count().label("n"))
        .group_by(d.c.edition_id, d.c.status)
        .subquery()
    )
    with store.connect() as conn:
        eds = conn.execute(
            select(editions).order_by(editions.c.window_end.desc(), editions.c.digest).limit(limit)
        ).all()
        ids = [e.id for e in eds]
        tallies: dict[int, dict[str, int]] = {i: {} for i in ids}
        if ids:
            for edition_id, status, n in conn.execute(
                select(per_status).where(per_status.c.edition_id.in_(ids))
            ):
                tallies[edition_id][status] = int(n)
    out = []
    for e in eds:
        t = tallies[e.id]
        out.append(
            {
                "edition": _edition(e),
                "sent": t.get(SENT, 0),
                "pending": t.get(PENDING, 0) + t.get(CLAIMED, 0) + t.get(DEFERRED, 0),
                "failed": t.get(FAILED, 0),
                "skipped": t.get(SKIPPED, 0),
            }
        )
    return out


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
    with store.connect() as conn:
        claimers = [
            c
            for (c,) in conn.execute(
                select(deliveries.c.claimer)
                .where(deliveries.c.edition_id == edition_id, deliveries.c.status.in_(HELD))
                .distinct()
            )
        ]
    dead = [c for c in claimers if c is None or c.split("#", 1)[0] == me or not _alive(c)]
    stale = and_(deliveries.c.claimed_at < now - LEASE)
    cond = or_(deliveries.c.claimer.in_(dead), stale) if dead else stale
    with store.begin() as conn:
        res = conn.execute(
            update(deliveries)
            .where(deliveries.c.edition_id == edition_id, deliveries.c.status.in_(HELD), cond)
            .values(status=PENDING, claimer=None, claimed_at=None)
        )
        return int(res.rowcount or 0)


def claim(store: Store, edition_id: int, *, me: str, n: int, now: datetime) -> list[Claim]:
    """Take up to n pending rows in one write (two senders never get the same row).

    Each chunk gets its own tag (``me#n``), so rows of an earlier chunk still
    being sent by worker threads are not handed out again.
    """
    d = deliveries
    tag = f"{me}#{next(_CHUNKS)}"
    pick = (
        select(d.c.id)
        .where(d.c.edition_id == edition_id, d.c.status == PENDING)
        .order_by(d.c.id)
        .limit(n)
        .scalar_subquery()
    )
    with store.begin() as conn:
        conn.execute(
            update(d)
            .where(d.c.id.in_(pick), d.c.status == PENDING)
            .values(status=CLAIMED, claimer=tag, claimed_at=now)
        )
        rows = conn.execute(
            select(d.c.id.label("delivery_id"), d.c.attempts, subscribers)
            .join(subscribers, subscribers.c.id == d.c.subscriber_id)
            .where(d.c.edition_id == edition_id, d.c.status == CLAIMED, d.c.claimer == tag)
            .order_by(d.c.id)
        ).all()
    return [
        Claim(
            r.delivery_id,
            r.attempts,
            Subscriber(
                id=r.id,
                email=r.email,
                name=r.name,
                categories=tuple(r.categories.split()),
                digests=tuple(r.digests.split()),
                status=r.status,
                source=r.source,
                hard_failures=r.hard_failures,
            ),
        )
        for r in rows
    ]


def release_mine(store: Store, edition_id: int, *, me: str) -> None:
    with store.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.edition_id == edition_id,
                deliveries.c.status.in_(HELD),
                deliveries.c.claimer.startswith(f"{me}#", autoescape=True),
            )
            .values(status=PENDING, claimer=None, claimed_at=None)
        )


# -- outcomes (one commit each: what is marked sent was accepted) ---------

# built once: this runs for every message, and building statements costs more than running them
_OUTCOME = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        message_id=bindparam("b_message_id"),
        location=bindparam("b_location"),
        error=bindparam("b_error"),
        claimer=None,
        updated_at=bindparam("b_now"),
    )
)
_DEFER = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        status=DEFERRED,
        attempts=bindparam("b_attempts"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now"),
    )
)


def _outcome(
    c: Claim,
    status: str,
    now: datetime,
    *,
    message_id: str | None = None,
    location: str | None = None,
    error: str | None = None,
    attempt: bool = True,
) -> dict[str, Any]:
    return {
        "b_id": c.delivery_id,
        "b_status": status,
        "b_attempts": c.attempts + (1 if attempt else 0),
        "b_message_id": message_id,
        "b_location": location,
        "b_error": error[:1000] if error else None,
        "b_now": now,
    }


def mark_sent(store: Store, c: Claim, *, message_id: str, location: str, now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(_OUTCOME, _outcome(c, SENT, now, message_id=message_id, location=location))
        if c.subscriber.hard_failures:
            record_outcome(conn, c.subscriber.id, ok=True, now=now)


def mark_failed(store: Store, c: Claim, *, message_id: str, error: str, now: datetime) -> bool:
    """A permanent failure; True when it was the subscriber's third in a row (now bounced)."""
    with store.begin() as conn:
        conn.execute(_OUTCOME, _outcome(c, FAILED, now, message_id=message_id, error=error))
        return record_outcome(conn, c.subscriber.id, ok=False, now=now)


def mark_skipped(store: Store, c: Claim, *, reason: str, now: datetime) -> None:
    with store.begin() as conn:
        conn.execute(_OUTCOME, _outcome(c, SKIPPED, now, error=reason, attempt=False))


def defer(store: Store, c: Claim, *, error: str, now: datetime) -> None:
    """A temporary failure that outlived its retries: not again in this run, pending after it."""
    with store.begin() as conn:
        conn.execute(
            _DEFER,
            {
                "b_id": c.delivery_id,
                "b_attempts": c.attempts + 1,
                "b_error": error[:1000],
                "b_now": now,
            },
        )
