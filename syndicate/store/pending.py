"""The signups table: sign-ups from the form and the API, waiting for their confirmation.

A sign-up is never a subscriber: digests read ``subscribers`` only, so an
address that has not pressed its confirmation button gets nothing. Its id
is inside the confirmation link and is never reused. The rules (limits,
what a confirmation changes) are ``digest/signups.py``'s; this module only
reads and writes rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from .records import Signup
from .schema import meta, signups
from .wrapping import StoreBase, Tx, new_id


def signup_record(row: Any) -> Signup:
    return Signup(
        id=row.id,
        email=row.email,
        name=row.name,
        categories=tuple(row.categories.split()),
        digests=tuple(row.digests.split()),
        method=row.method,
        page=row.page,
        ip_hash=row.ip_hash,
        created_at=row.created_at,
        mailed_at=row.mailed_at,
        confirmed_at=row.confirmed_at,
        subscriber_id=row.subscriber_id,
        weekly=tuple(row.weekly.split()),
    )


SIGNUPS_LOCK = "signups-lock"  # the meta row every sign-up and confirmation updates first


class PendingMixin(StoreBase):
    def lock_signups(self, tx: Tx) -> None:
        """Serialize sign-ups and confirmations: the limits are checked, then kept.

        Writing one row first takes SQLite's write lock (and that row's lock
        on PostgreSQL) before anything is read, so two requests at the same
        moment cannot both see room under a limit. Revision 0005 makes the row.
        """
        res = tx.conn.execute(
            update(meta).where(meta.c.key == SIGNUPS_LOCK).values(value=meta.c.value)
        )
        if not res.rowcount:
            tx.conn.execute(meta.insert().values(key=SIGNUPS_LOCK, value=""))

    def insert_signup(
        self,
        tx: Tx,
        email: str,
        name: str,
        categories: tuple[str, ...],
        digests: tuple[str, ...],
        *,
        method: str,
        page: str,
        ip_hash: str,
        now: datetime,
        weekly: tuple[str, ...] = (),
    ) -> int:
        res = tx.conn.execute(
            signups.insert().values(
                email=email,
                name=name,
                categories=" ".join(categories),
                digests=" ".join(digests),
                weekly=" ".join(weekly),
                method=method,
                page=page,
                ip_hash=ip_hash,
                created_at=now,
            )
        )
        return new_id(res)

    def signup_times(
        self, tx: Tx, *, since: datetime, email: str | None = None, ip_hash: str | None = None
    ) -> list[datetime]:
        """When each sign-up for ``email`` (or from ``ip_hash``) since ``since`` was made."""
        q = select(signups.c.created_at).where(signups.c.created_at >= since)
        if email is not None:
            q = q.where(signups.c.email == email)
        if ip_hash is not None:
            q = q.where(signups.c.ip_hash == ip_hash)
        return list(tx.conn.execute(q.order_by(signups.c.created_at)).scalars())

    def mark_signup_mailed(self, signup_id: int, now: datetime) -> None:
        """The confirmation mail was accepted: it counts against the address's limit."""
        with self.engine.begin() as conn:
            conn.execute(update(signups).where(signups.c.id == signup_id).values(mailed_at=now))

    def signup(self, signup_id: int) -> Signup | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(signups).where(signups.c.id == signup_id)).first()
        return signup_record(row) if row else None

    def find_signup(self, tx: Tx, signup_id: int) -> Signup | None:
        """``signup`` inside the transaction that confirms it."""
        row = tx.conn.execute(select(signups).where(signups.c.id == signup_id)).first()
        return signup_record(row) if row else None

    def mark_signup_confirmed(
        self, tx: Tx, signup_id: int, subscriber_id: int | None, now: datetime
    ) -> bool:
        """Confirm a pending sign-up; False when it was confirmed already (nothing changed)."""
        res = tx.conn.execute(
            update(signups)
            .where(signups.c.id == signup_id, signups.c.confirmed_at.is_(None))
            .values(confirmed_at=now, subscriber_id=subscriber_id)
        )
        return bool(res.rowcount)

    def set_signup_subscriber(self, tx: Tx, signup_id: int, subscriber_id: int) -> None:
        tx.conn.execute(
            update(signups).where(signups.c.id == signup_id).values(subscriber_id=subscriber_id)
        )

    def pending_signups(self, *, since: datetime) -> list[Signup]:
        """Sign-ups made since ``since`` and not confirmed, oldest first."""
        q = (
            select(signups)
            .where(signups.c.confirmed_at.is_(None), signups.c.created_at >= since)
            .order_by(signups.c.id)
        )
        with self.engine.connect() as conn:
            return [signup_record(r) for r in conn.execute(q)]

    def signups_for(self, email: str) -> list[Signup]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(signups).where(signups.c.email == email).order_by(signups.c.id)
            )
            return [signup_record(r) for r in rows]

    def delete_signups_before(self, cutoff: datetime) -> int:
        """Delete every sign-up made before ``cutoff``, confirmed or not; how many."""
        with self.engine.begin() as conn:
            res = conn.execute(delete(signups).where(signups.c.created_at < cutoff))
            return int(res.rowcount or 0)

    def delete_signups_for(self, tx: Tx, email: str) -> None:
        tx.conn.execute(delete(signups).where(signups.c.email == email))
