"""A subscriber's history and erasure: events, delivery history, forgotten addresses.

Invariant: after ``erase_subscriber`` no row of the store holds the address,
the name, the consent details or any free text a server wrote about the
address (delivery ``location`` and ``error``); the subscriber's id stays,
so the delivery ledger's counts and the ids inside old links still mean
what they meant. The address survives only as a keyed hash in
``forgotten``; the key is a random value in ``meta``, made on first use,
so it survives a rotation of ``SYNDICATE_SECRET``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..model import DeliveryStatus, SubscriberStatus
from .dialect import insert_if_absent
from .records import DeliveryHistory, SubscriberEvent
from .schema import (
    deliveries,
    editions,
    feedback,
    forgotten,
    meta,
    signups,
    subscriber_events,
    subscribers,
)
from .wrapping import StoreBase, Tx, store_error

FORGET_KEY = "forget-key"


class HistoryMixin(StoreBase):
    @contextmanager
    def erasing(self) -> Iterator[Tx]:
        """A transaction whose erased values leave no copy in the database files.

        On SQLite, ``secure_delete`` overwrites the freed content on this
        connection, and a ``TRUNCATE`` checkpoint afterwards moves the change
        into the database and empties the write-ahead log, which would
        otherwise keep the old pages (with the address) until the next
        checkpoint. Other dialects: a plain transaction (their storage is
        theirs to scrub: PostgreSQL's VACUUM).
        """
        try:
            with self.engine.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:
                    conn.exec_driver_sql("PRAGMA secure_delete = ON")
                    conn.commit()  # the pragma began a transaction of its own
                try:
                    with conn.begin():
                        yield Tx(conn)
                    if sqlite:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                        conn.commit()
                finally:
                    if sqlite:
                        conn.rollback()
                        conn.exec_driver_sql("PRAGMA secure_delete = OFF")
                        conn.commit()
        except SQLAlchemyError as exc:
            raise store_error(exc, str(getattr(self, "label", "store"))) from exc

    # -- events ------------------------------------------------------------

    def add_event(
        self,
        tx: Tx,
        subscriber_id: int,
        kind: str,
        now: datetime,
        detail: str = "",
        message_id: str | None = None,
    ) -> None:
        tx.conn.execute(
            subscriber_events.insert().values(
                subscriber_id=subscriber_id,
                at=now,
                kind=kind,
                detail=detail,
                message_id=message_id,
            )
        )

    def count_events(self, tx: Tx, subscriber_id: int, kind: str, since: datetime | None) -> int:
        """How many ``kind`` events the subscriber has had (since ``since``)."""
        e = subscriber_events.c
        q = select(func.count()).where(e.subscriber_id == subscriber_id, e.kind == kind)
        if since is not None:
            q = q.where(e.at >= since)
        return int(tx.conn.execute(q).scalar() or 0)

    def record_event(self, subscriber_id: int, kind: str, now: datetime, detail: str = "") -> None:
        """``add_event`` in its own commit."""
        with self.engine.begin() as conn:
            self.add_event(Tx(conn), subscriber_id, kind, now, detail)

    def events_of(self, subscriber_id: int) -> list[SubscriberEvent]:
        e = subscriber_events.c
        q = select(e.at, e.kind, e.detail, e.message_id).where(e.subscriber_id == subscriber_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(e.at, e.id)).all()
        return [SubscriberEvent(at, kind, detail, mid) for at, kind, detail, mid in rows]

    def delivery_history(self, subscriber_id: int) -> list[DeliveryHistory]:
        d, ed = deliveries.c, editions.c
        q = (
            select(ed.digest, ed.date, d.status, d.message_id, d.updated_at)
            .join_from(deliveries, editions, d.edition_id == ed.id)
            .where(d.subscriber_id == subscriber_id)
            .order_by(d.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            DeliveryHistory(digest, date, DeliveryStatus(status), message_id, updated_at)
            for digest, date, status, message_id, updated_at in rows
        ]

    # -- forgotten addresses ----------------------------------------------

    def forget_key(self, tx: Tx) -> str:
        """The key of the forgotten hashes, made (and stored) the first time it is needed.

        Two first erasures at once agree on one key: the second's insert finds
        the first's row (``insert_if_absent``), and both read the stored one.
        """
        query = select(meta.c.value).where(meta.c.key == FORGET_KEY)
        key = tx.conn.execute(query).scalar()
        if key is None:
            insert_if_absent(tx.conn, meta, {"key": FORGET_KEY, "value": secrets.token_hex(32)})
            key = tx.conn.execute(query).scalar()
        return str(key)

    def existing_forget_key(self, tx: Tx) -> str | None:
        """The key, or None when nothing was ever forgotten (no hash to compare)."""
        key = tx.conn.execute(select(meta.c.value).where(meta.c.key == FORGET_KEY)).scalar()
        return None if key is None else str(key)

    def forgotten_hashes(self, tx: Tx) -> set[str]:
        return set(tx.conn.execute(select(forgotten.c.hash)).scalars())

    def is_forgotten(self, tx: Tx, digest: str) -> bool:
        q = select(forgotten.c.hash).where(forgotten.c.hash == digest)
        return tx.conn.execute(q).first() is not None

    def unforget(self, tx: Tx, digest: str) -> None:
        """The address subscribed again of its own accord: it is no longer held back."""
        tx.conn.execute(delete(forgotten).where(forgotten.c.hash == digest))

    def erase_subscriber(self, tx: Tx, subscriber_id: int, digest: str, now: datetime) -> None:
        """Erase every personal detail of one subscriber (see the module's invariant)."""
        email = tx.conn.execute(
            select(subscribers.c.email).where(subscribers.c.id == subscriber_id)
        ).scalar()
        if email is not None:
            tx.conn.execute(delete(signups).where(signups.c.email == email))
        tx.conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(
                email=f"forgotten-{subscriber_id}@forgotten.invalid",
                name="",
                categories="",
                digests="",
                status=SubscriberStatus.FORGOTTEN.value,
                source="forgotten",
                consent_method=None,
                consent_page=None,
                consent_ip=None,
                consent_at=None,
                confirmed_at=None,
                updated_at=now,
                status_at=now,
            )
        )
        tx.conn.execute(
            update(deliveries)
            .where(deliveries.c.subscriber_id == subscriber_id)
            .values(location=None, error=None)
        )
        tx.conn.execute(
            delete(subscriber_events).where(subscriber_events.c.subscriber_id == subscriber_id)
        )
        # what mail servers wrote about the address ("550 5.1.1 <alice@…>")
        tx.conn.execute(
            update(feedback)
            .where(feedback.c.subscriber_id == subscriber_id)
            .values(reason="", message_id=None)
        )
        tx.conn.execute(
            update(signups)
            .where(signups.c.subscriber_id == subscriber_id)
            .values(subscriber_id=None)
        )
        if not self.is_forgotten(tx, digest):
            tx.conn.execute(forgotten.insert().values(hash=digest, forgotten_at=now))
        self.add_event(tx, subscriber_id, "forgotten", now)
