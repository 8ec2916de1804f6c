"""The feedback table: each bounce, complaint, reply or webhook call, recorded once.

A message is recorded under its key in the same transaction as what it
changed, so reading a mailbox again (after a crash before the message was
moved out of ``new/``) finds the key and counts nothing twice. The rules
(thresholds, what a complaint does) are ``digest/feedback.py``'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from .dialect import insert_if_absent
from .records import FeedbackRecord
from .schema import deliveries, feedback
from .wrapping import StoreBase, Tx


class FeedbackMixin(StoreBase):
    def claim_feedback(self, tx: Tx, record: FeedbackRecord) -> bool:
        """Record ``record`` unless its key is there; False when it was (read before).

        One ``INSERT … ON CONFLICT DO NOTHING`` (``dialect.insert_if_absent``):
        a write first, so two readers of the same message cannot both win, on
        SQLite (its write lock) as on PostgreSQL (the second waits for the
        first's commit, then finds the key; never a unique violation).
        """
        return insert_if_absent(tx.conn, feedback, _values(record))

    def set_feedback_subscriber(self, tx: Tx, key: str, subscriber_id: int) -> None:
        tx.conn.execute(
            update(feedback).where(feedback.c.key == key).values(subscriber_id=subscriber_id)
        )

    def feedback_counts(self, since: datetime | None = None) -> dict[str, int]:
        """Messages read per kind (since ``since``)."""
        q = select(feedback.c.kind, func.count()).group_by(feedback.c.kind)
        if since is not None:
            q = q.where(feedback.c.received_at >= since)
        with self.engine.connect() as conn:
            return {kind: int(n) for kind, n in conn.execute(q).all()}

    def subscriber_for_message(self, tx: Tx, message_id: str) -> int | None:
        """The subscriber a message the ledger sent (by its Message-ID) went to."""
        q = select(deliveries.c.subscriber_id).where(deliveries.c.message_id == message_id)
        found = tx.conn.execute(q.order_by(deliveries.c.id).limit(1)).scalar()
        return int(found) if found is not None else None


def _values(record: FeedbackRecord) -> dict[str, object]:
    return {
        "key": record.key,
        "received_at": record.received_at,
        "kind": record.kind,
        "permanent": record.permanent,
        "subscriber_id": record.subscriber_id,
        "message_id": record.message_id,
        "reason": record.reason[:2000],
    }
