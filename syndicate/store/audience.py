"""The subscribers table: who gets which digest, and what they chose.

Categories and digests are stored space-separated ("" = all) and handed out
as tuples. Subscriber ids are never reused (they are inside unsubscribe
tokens). The rules (what an import may change, when a subscriber bounces)
are ``digest/subscribers.py``'s; this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from ..model import SubscriberStatus
from .records import Consent, KnownSubscriber, NewSubscriber, Subscriber
from .schema import deliveries, signups, subscriber_events, subscribers
from .wrapping import StoreBase, Tx, new_id


def subscriber_record(row: Any) -> Subscriber:
    """A ``subscribers`` row (all columns) as a ``Subscriber``."""
    return Subscriber(
        id=row.id,
        email=row.email,
        name=row.name,
        categories=tuple(row.categories.split()),
        digests=tuple(row.digests.split()),
        status=SubscriberStatus(row.status),
        source=row.source,
        hard_failures=row.hard_failures,
        consent=(
            Consent(
                method=row.consent_method,
                at=row.consent_at,
                page=row.consent_page,
                ip_hash=row.consent_ip,
                confirmed_at=row.confirmed_at,
            )
            if row.consent_method
            else None
        ),
        created_at=row.created_at,
        status_at=row.status_at,
        weekly=tuple(row.weekly.split()),
    )


def consent_method(source: str) -> str:
    """How an operator's subscriber came in, from their ``source``."""
    return "file" if source.startswith("file:") else "cli"


def _consent_values(consent: Consent) -> dict[str, Any]:
    return {
        "consent_method": consent.method,
        "consent_page": consent.page,
        "consent_ip": consent.ip_hash,
        "consent_at": consent.at,
        "confirmed_at": consent.confirmed_at,
    }


def _batches(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class AudienceMixin(StoreBase):
    def subscriber(self, email: str) -> Subscriber | None:
        """The subscriber with this (already normalized) address."""
        with self.engine.connect() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
        return subscriber_record(row) if row else None

    def find_subscriber(self, tx: Tx, email: str) -> Subscriber | None:
        """``subscriber`` inside a transaction that may then change the row."""
        row = tx.conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
        return subscriber_record(row) if row else None

    def find_subscriber_by_id(self, tx: Tx, subscriber_id: int) -> Subscriber | None:
        row = tx.conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
        return subscriber_record(row) if row else None

    def subscriber_by_id(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
        return subscriber_record(row) if row else None

    def subscribers_after(
        self, last_id: int, *, status: str | None = None, limit: int = 1000
    ) -> list[Subscriber]:
        """Up to ``limit`` subscribers with ids above ``last_id``, in id order (one page)."""
        q = select(subscribers).where(subscribers.c.id > last_id).order_by(subscribers.c.id)
        if status:
            q = q.where(subscribers.c.status == str(status))
        with self.engine.connect() as conn:
            rows = conn.execute(q.limit(limit)).all()
        return [subscriber_record(r) for r in rows]

    def subscriber_counts(self) -> dict[str, int]:
        """Subscribers per status."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
            ).all()
        return {status: int(n) for status, n in rows}

    def known_subscribers(self, tx: Tx) -> dict[str, KnownSubscriber]:
        """Every subscriber by address, with when they chose (what an import compares)."""
        s = subscribers.c
        rows = tx.conn.execute(
            select(
                s.id,
                s.email,
                s.name,
                s.categories,
                s.digests,
                s.status,
                s.source,
                s.chosen_at,
                s.weekly,
            )
        )
        return {
            email: KnownSubscriber(
                id,
                email,
                name,
                tuple(cats.split()),
                tuple(digests.split()),
                SubscriberStatus(status),
                source,
                chosen_at,
                tuple(weekly.split()),
            )
            for id, email, name, cats, digests, status, source, chosen_at, weekly in rows
        }

    def insert_subscribers(self, tx: Tx, new: Iterable[NewSubscriber], now: datetime) -> None:
        """Insert active subscribers (500 rows a statement)."""
        rows = [
            {
                "email": n.email,
                "name": n.name,
                "categories": " ".join(n.categories),
                "digests": " ".join(n.digests),
                "weekly": " ".join(n.weekly),
                "status": SubscriberStatus.ACTIVE.value,
                "source": n.source,
                "hard_failures": 0,
                "created_at": now,
                "updated_at": now,
                "status_at": now,
                "consent_method": consent_method(n.source),
                "consent_page": None,
                "consent_ip": None,
                "consent_at": now,
                "confirmed_at": None,
            }
            for n in new
        ]
        for batch in _batches(rows, 500):
            tx.conn.execute(subscribers.insert(), batch)

    def insert_confirmed_subscriber(
        self, tx: Tx, new: NewSubscriber, consent: Consent, now: datetime
    ) -> int:
        """Insert one subscriber who signed up and confirmed; their choice counts as chosen."""
        res = tx.conn.execute(
            subscribers.insert().values(
                email=new.email,
                name=new.name,
                categories=" ".join(new.categories),
                digests=" ".join(new.digests),
                weekly=" ".join(new.weekly),
                status=SubscriberStatus.ACTIVE.value,
                source=new.source,
                hard_failures=0,
                chosen_at=now,
                created_at=now,
                updated_at=now,
                status_at=now,
                **_consent_values(consent),
            )
        )
        return new_id(res)

    def update_subscriber(
        self,
        tx: Tx,
        subscriber_id: int,
        *,
        updated_at: datetime,
        name: str | None = None,
        categories: tuple[str, ...] | None = None,
        digests: tuple[str, ...] | None = None,
        status: SubscriberStatus | None = None,
        status_at: datetime | None = None,
        source: str | None = None,
        hard_failures: int | None = None,
        chosen_at: datetime | None = None,
        consent: Consent | None = None,
        weekly: tuple[str, ...] | None = None,
    ) -> None:
        """Change the given columns (None: left as it is) and ``updated_at``."""
        values: dict[str, Any] = _consent_values(consent) if consent is not None else {}
        if weekly is not None:
            values["weekly"] = " ".join(weekly)
        if chosen_at is not None:
            values["chosen_at"] = chosen_at
        if name is not None:
            values["name"] = name
        if categories is not None:
            values["categories"] = " ".join(categories)
        if digests is not None:
            values["digests"] = " ".join(digests)
        if status is not None:
            values["status"] = str(status)
        if status_at is not None:
            values["status_at"] = status_at
        if source is not None:
            values["source"] = source
        if hard_failures is not None:
            values["hard_failures"] = hard_failures
        values["updated_at"] = updated_at
        tx.conn.execute(
            subscribers.update().where(subscribers.c.id == subscriber_id).values(values)
        )

    def mark_removed(self, tx: Tx, ids: list[int], now: datetime) -> None:
        """Mark subscribers gone from their file ``removed`` (500 ids a statement)."""
        for batch in _batches(ids, 500):
            tx.conn.execute(
                subscribers.update()
                .where(subscribers.c.id.in_(batch))
                .values(status=SubscriberStatus.REMOVED.value, status_at=now, updated_at=now)
            )

    def set_subscriber_status(
        self, subscriber_id: int, status: SubscriberStatus, *, now: datetime
    ) -> bool:
        """Record a status; False when the subscriber is unknown or already had it."""
        with self.engine.begin() as conn:
            res = conn.execute(
                subscribers.update()
                .where(subscribers.c.id == subscriber_id, subscribers.c.status != str(status))
                .values(status=str(status), status_at=now, updated_at=now)
            )
            return bool(res.rowcount)

    def set_choices(
        self,
        subscriber_id: int,
        categories: Iterable[str],
        digests: Iterable[str],
        now: datetime,
        weekly: Iterable[str] | None = None,
    ) -> bool:
        """Record a choice made on the preferences page (it outranks the subscribers file).

        ``weekly``: the digests whose weekly edition they chose (None: left as it is).
        """
        values = {"categories": " ".join(categories), "digests": " ".join(digests)}
        if weekly is not None:
            values["weekly"] = " ".join(weekly)
        with self.engine.begin() as conn:
            res = conn.execute(
                subscribers.update()
                .where(subscribers.c.id == subscriber_id)
                .values(**values, updated_at=now, chosen_at=now)
            )
            return bool(res.rowcount)

    def purge_subscriber(self, subscriber_id: int) -> None:
        """Delete the subscriber, their delivery rows, events and sign-ups, in one commit."""
        with self.engine.begin() as conn:
            email = conn.execute(
                select(subscribers.c.email).where(subscribers.c.id == subscriber_id)
            ).scalar()
            conn.execute(delete(deliveries).where(deliveries.c.subscriber_id == subscriber_id))
            conn.execute(
                delete(subscriber_events).where(subscriber_events.c.subscriber_id == subscriber_id)
            )
            conn.execute(
                delete(signups).where(
                    or_(signups.c.subscriber_id == subscriber_id, signups.c.email == email)
                )
            )
            conn.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))

    # -- hard failures (counted in the delivery's own commit) ------------

    def reset_hard_failures(self, tx: Tx, subscriber_id: int) -> None:
        tx.conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id, subscribers.c.hard_failures > 0)
            .values(hard_failures=0)
        )

    def count_hard_failure(self, tx: Tx, subscriber_id: int, now: datetime) -> int | None:
        """One more consecutive hard failure; the new count (None: no such subscriber)."""
        tx.conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(hard_failures=subscribers.c.hard_failures + 1, updated_at=now)
        )
        failures = tx.conn.execute(
            select(subscribers.c.hard_failures).where(subscribers.c.id == subscriber_id)
        ).scalar()
        return int(failures) if failures is not None else None

    def unsubscribe_in(self, tx: Tx, subscriber_id: int, now: datetime) -> bool:
        """Unsubscribe inside the caller's transaction; False when they were not active."""
        res = tx.conn.execute(
            update(subscribers)
            .where(
                subscribers.c.id == subscriber_id,
                subscribers.c.status == SubscriberStatus.ACTIVE.value,
            )
            .values(status=SubscriberStatus.UNSUBSCRIBED.value, status_at=now, updated_at=now)
        )
        return bool(res.rowcount)

    def bounce(self, tx: Tx, subscriber_id: int, now: datetime) -> bool:
        """Mark an active subscriber bounced; False when they were not active."""
        res = tx.conn.execute(
            update(subscribers)
            .where(
                subscribers.c.id == subscriber_id,
                subscribers.c.status == SubscriberStatus.ACTIVE.value,
            )
            .values(status=SubscriberStatus.BOUNCED.value, status_at=now)
        )
        return bool(res.rowcount)
