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

from sqlalchemy import delete, func, select, update

from .records import Signup
from .schema import signups
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
    )


class PendingMixin(StoreBase):
    def add_signup(
        self,
        email: str,
        name: str,
        categories: tuple[str, ...],
        digests: tuple[str, ...],
        *,
        method: str,
        page: str,
        ip_hash: str,
        now: datetime,
    ) -> int:
        """Record a sign-up (pending) and return its id, in its own commit."""
        with self.engine.begin() as conn:
            res = conn.execute(
                signups.insert().values(
                    email=email,
                    name=name,
                    categories=" ".join(categories),
                    digests=" ".join(digests),
                    method=method,
                    page=page,
                    ip_hash=ip_hash,
                    created_at=now,
                )
            )
            return new_id(res)

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
        self, tx: Tx, signup_id: int, subscriber_id: int, now: datetime
    ) -> bool:
        """Confirm a pending sign-up; False when it was confirmed already (nothing changed)."""
        res = tx.conn.execute(
            update(signups)
            .where(signups.c.id == signup_id, signups.c.confirmed_at.is_(None))
            .values(confirmed_at=now, subscriber_id=subscriber_id)
        )
        return bool(res.rowcount)

    def signups_from_ip(self, ip_hash: str, since: datetime) -> list[datetime]:
        """When each sign-up from this (hashed) client since ``since`` was made, oldest first."""
        q = (
            select(signups.c.created_at)
            .where(signups.c.ip_hash == ip_hash, signups.c.created_at >= since)
            .order_by(signups.c.created_at)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(q).scalars())

    def confirmations_mailed(self, email: str, since: datetime) -> list[datetime]:
        """When each confirmation mail to this address since ``since`` went out, oldest first."""
        q = (
            select(signups.c.mailed_at)
            .where(signups.c.email == email, signups.c.mailed_at >= since)
            .order_by(signups.c.mailed_at)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(q).scalars())

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

    def pending_count(self, *, since: datetime) -> int:
        q = (
            select(func.count())
            .select_from(signups)
            .where(signups.c.confirmed_at.is_(None), signups.c.created_at >= since)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def delete_signups_before(self, cutoff: datetime) -> int:
        """Delete every sign-up made before ``cutoff``, confirmed or not; how many."""
        with self.engine.begin() as conn:
            res = conn.execute(delete(signups).where(signups.c.created_at < cutoff))
            return int(res.rowcount or 0)

    def delete_signups_for(self, tx: Tx, email: str) -> None:
        tx.conn.execute(delete(signups).where(signups.c.email == email))
