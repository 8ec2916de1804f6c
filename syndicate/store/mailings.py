"""Editions and the delivery ledger: one row per (edition, subscriber).

The statements ``digest/ledger.py``'s exactly-once rules are made of: an
edition is created with a pending row for every active subscriber in one
commit (the unique keys on (digest, period, window end) and (digest, period,
slot) decide between two creators; a digest's daily and weekly editions are
apart by their period); rows are claimed by one ``UPDATE`` (two senders never
get the same row); each outcome is its own commit. Which claimers are dead
is decided by the ledger; this module only hands their rows back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..model import DeliveryStatus, EditionStatus, Period, SubscriberStatus
from .audience import subscriber_record
from .records import Claim, EditionOverview, EditionRow, Undelivered
from .schema import deliveries, editions, subscribers
from .wrapping import StoreBase, Tx, new_id

PENDING, CLAIMED, DEFERRED = DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.DEFERRED
SENDING = EditionStatus.SENDING.value
HELD = (CLAIMED.value, DEFERRED.value)
OPEN = (PENDING.value, *HELD)

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
        status=DEFERRED.value,
        attempts=bindparam("b_attempts"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now"),
    )
)


def _edition(row: Any) -> EditionRow:
    m = row._mapping
    return EditionRow(
        id=m["id"],
        digest=m["digest"],
        date=m["date"],
        window_start=m["window_start"],
        window_end=m["window_end"],
        items=m["items"],
        item_count=m["item_count"],
        subject=m["subject"],
        summary=m["summary"],
        status=EditionStatus(m["status"]),
        created_at=m["created_at"],
        finished_at=m["finished_at"],
        period=Period(m["period"]),
    )


class MailingsMixin(StoreBase):
    # -- editions -------------------------------------------------------

    def last_window_end(
        self, digest: str, *, before: datetime, period: Period = Period.DAY
    ) -> datetime | None:
        """The newest window end of the digest's editions of this period before ``before``."""
        with self.engine.connect() as conn:
            end: datetime | None = conn.execute(
                select(func.max(editions.c.window_end)).where(
                    editions.c.digest == digest,
                    editions.c.period == period.value,
                    editions.c.window_end < before,
                )
            ).scalar()
            return end

    def edition_on(self, digest: str, date: str, period: Period | None = None) -> EditionRow | None:
        """The edition in this slot (a day's and a week's slots never look alike)."""
        q = select(editions).where(editions.c.digest == digest, editions.c.date == date)
        if period is not None:
            q = q.where(editions.c.period == period.value)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return _edition(row) if row else None

    def edition(self, edition_id: int) -> EditionRow:
        with self.engine.connect() as conn:
            return _edition(conn.execute(select(editions).where(editions.c.id == edition_id)).one())

    def unfinished_editions(self, digest: str) -> list[EditionRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(editions)
                .where(editions.c.digest == digest, editions.c.status == SENDING)
                .order_by(editions.c.window_end)
            ).all()
        return [_edition(r) for r in rows]

    def edition_history(self, digest: str, limit: int = 50) -> list[EditionRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(editions)
                .where(editions.c.digest == digest)
                .order_by(editions.c.window_end.desc())
                .limit(limit)
            ).all()
        return [_edition(r) for r in rows]

    def create_edition(
        self,
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
    ) -> int | None:
        """The edition and a pending row for every active subscriber of the digest, one commit.

        ``weekly`` narrows the audience by the subscribers' weekly choice for
        this digest: True only those who chose it, False only the others,
        None everyone. None when another process created the same edition first.
        """
        wants = or_(
            subscribers.c.digests == "",
            (literal(" ") + subscribers.c.digests + literal(" ")).like(f"% {digest} %"),
        )
        if weekly is not None:
            chose = (literal(" ") + subscribers.c.weekly + literal(" ")).like(f"% {digest} %")
            wants = wants & (chose if weekly else ~chose)
        try:
            with self.engine.begin() as conn:
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
                        status=EditionStatus.SENDING.value,
                        created_at=now,
                        period=period.value,
                    )
                )
                edition_id = new_id(res)
                conn.execute(
                    deliveries.insert().from_select(
                        ["edition_id", "subscriber_id", "status", "attempts"],
                        select(
                            literal(edition_id),
                            subscribers.c.id,
                            literal(PENDING.value),
                            literal(0),
                        ).where(subscribers.c.status == SubscriberStatus.ACTIVE.value, wants),
                    )
                )
        except IntegrityError:
            return None
        return edition_id

    def finish_edition_if_done(self, edition_id: int, now: datetime) -> bool:
        """Mark the edition done when no row is pending or held; False while one is."""
        with self.engine.begin() as conn:
            open_rows = conn.execute(
                select(func.count()).where(
                    deliveries.c.edition_id == edition_id, deliveries.c.status.in_(OPEN)
                )
            ).scalar()
            if open_rows:
                return False
            conn.execute(
                update(editions)
                .where(editions.c.id == edition_id, editions.c.status == SENDING)
                .values(status=EditionStatus.DONE.value, finished_at=now)
            )
            return True

    def delivery_counts(self, edition_id: int) -> dict[DeliveryStatus, int]:
        """Rows per status (every status present, 0 when none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.status, func.count())
                .where(deliveries.c.edition_id == edition_id)
                .group_by(deliveries.c.status)
            ).all()
        out = dict.fromkeys(DeliveryStatus, 0)
        out.update({DeliveryStatus(status): int(n) for status, n in rows})
        return out

    def undelivered(self, edition_id: int, limit: int = 10_000) -> list[Undelivered]:
        """Rows of an edition that failed, or wait with a server's answer, in id order."""
        d, s = deliveries.c, subscribers.c
        q = (
            select(s.email, d.status, d.attempts, d.error, d.updated_at)
            .join_from(deliveries, subscribers, d.subscriber_id == s.id)
            .where(
                d.edition_id == edition_id,
                or_(
                    d.status == DeliveryStatus.FAILED.value,
                    (d.status == PENDING.value) & d.error.is_not(None),
                ),
            )
            .order_by(d.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            Undelivered(email, DeliveryStatus(status), attempts, error or "", at)
            for email, status, attempts, error, at in rows
        ]

    def editions_overview(self, limit: int = 30) -> list[EditionOverview]:
        """The newest editions with their delivery counts."""
        d = deliveries
        per_status = (
            select(d.c.edition_id, d.c.status, func.count().label("n"))
            .group_by(d.c.edition_id, d.c.status)
            .subquery()
        )
        with self.engine.connect() as conn:
            eds = conn.execute(
                select(editions)
                .order_by(editions.c.window_end.desc(), editions.c.digest)
                .limit(limit)
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
                EditionOverview(
                    edition=_edition(e),
                    sent=t.get(DeliveryStatus.SENT.value, 0),
                    pending=t.get(PENDING.value, 0) + t.get(CLAIMED.value, 0) + t.get(DEFERRED, 0),
                    failed=t.get(DeliveryStatus.FAILED.value, 0),
                    skipped=t.get(DeliveryStatus.SKIPPED.value, 0),
                )
            )
        return out

    # -- claims ---------------------------------------------------------

    def held_claimers(self, edition_id: int) -> list[str | None]:
        """Who holds the edition's claimed or deferred rows (None: a row without a claimer)."""
        with self.engine.connect() as conn:
            return [
                c
                for (c,) in conn.execute(
                    select(deliveries.c.claimer)
                    .where(deliveries.c.edition_id == edition_id, deliveries.c.status.in_(HELD))
                    .distinct()
                )
            ]

    def release_claims(
        self, edition_id: int, claimers: Sequence[str | None], *, claimed_before: datetime
    ) -> int:
        """Hand back (pending) held rows of these claimers, and any claimed before the lease."""
        stale = deliveries.c.claimed_at < claimed_before
        cond = or_(deliveries.c.claimer.in_(list(claimers)), stale) if claimers else stale
        with self.engine.begin() as conn:
            res = conn.execute(
                update(deliveries)
                .where(deliveries.c.edition_id == edition_id, deliveries.c.status.in_(HELD), cond)
                .values(status=PENDING.value, claimer=None, claimed_at=None)
            )
            return int(res.rowcount or 0)

    def claim_deliveries(self, edition_id: int, *, tag: str, n: int, now: datetime) -> list[Claim]:
        """Claim up to n pending rows for ``tag`` in one write; the rows with their subscribers."""
        d = deliveries
        pick = (
            select(d.c.id)
            .where(d.c.edition_id == edition_id, d.c.status == PENDING.value)
            .order_by(d.c.id)
            .limit(n)
            # PostgreSQL: rows another worker is claiming right now are passed over, not
            # waited for (SQLite has one writer at a time and no such clause)
            .with_for_update(skip_locked=True)
            # evaluated once: PostgreSQL may run a LIMIT subquery inside IN (…) again
            # for later rows, and a claim would then take more than n rows
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.id.in_(select(pick.c.id)), d.c.status == PENDING.value)
                .values(status=CLAIMED.value, claimer=tag, claimed_at=now)
            )
            rows = conn.execute(
                select(d.c.id.label("delivery_id"), d.c.attempts, subscribers)
                .join(subscribers, subscribers.c.id == d.c.subscriber_id)
                .where(d.c.edition_id == edition_id, d.c.status == CLAIMED, d.c.claimer == tag)
                .order_by(d.c.id)
            ).all()
        return [Claim(r.delivery_id, r.attempts, subscriber_record(r)) for r in rows]

    def release_claimed_by(self, edition_id: int, prefix: str) -> None:
        """Hand back the held rows whose claimer starts with ``prefix``."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.edition_id == edition_id,
                    deliveries.c.status.in_(HELD),
                    deliveries.c.claimer.startswith(prefix, autoescape=True),
                )
                .values(status=PENDING.value, claimer=None, claimed_at=None)
            )

    # -- outcomes -------------------------------------------------------

    def set_delivery_outcome(
        self,
        tx: Tx,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        attempts: int,
        now: datetime,
        message_id: str | None = None,
        location: str | None = None,
        error: str | None = None,
    ) -> None:
        """Settle a row (sent, failed, skipped): its claim is let go."""
        tx.conn.execute(
            _OUTCOME,
            {
                "b_id": delivery_id,
                "b_status": status.value,
                "b_attempts": attempts,
                "b_message_id": message_id,
                "b_location": location,
                "b_error": error,
                "b_now": now,
            },
        )

    def defer_delivery(self, delivery_id: int, *, attempts: int, error: str, now: datetime) -> None:
        """Hold a row ``deferred`` (still claimed by its sender), in its own commit."""
        with self.engine.begin() as conn:
            conn.execute(
                _DEFER,
                {"b_id": delivery_id, "b_attempts": attempts, "b_error": error, "b_now": now},
            )
