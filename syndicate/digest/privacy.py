"""Data on request: everything held about an address, and forgetting it.

``export`` gives every row that names the subscriber (their record and
consent, their events, their sign-ups, each delivery) as one JSON-ready
mapping. ``forget`` erases the personal data in one transaction (see
``store/history.py``'s invariant) and keeps a keyed hash of the address, so
a file import that lists it again leaves it out (``subscribers.HeldBack``). Coming
back through the sign-up form, or an explicit ``subscribers add``, is a new
consent and lifts that.

Messages already handed to a mail server or written to the outbox Maildir
are outside the store: ``forget`` cannot recall them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..model import SubscriberStatus
from ..store import Store
from . import tokens
from .subscribers import get, normalize_address


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(store: Store, address: str) -> dict[str, Any] | None:
    """Everything about ``address`` (None: the store holds nothing under it)."""
    try:
        email = normalize_address(address)
    except ValueError:
        return None
    sub = get(store, email)
    signups = store.signups_for(email)
    if sub is None and not signups:
        return None
    out: dict[str, Any] = {"email": email}
    if sub is not None:
        consent = asdict(sub.consent) if sub.consent is not None else None
        if consent is not None:
            consent = {k: _iso(v) if isinstance(v, datetime) else v for k, v in consent.items()}
        out["subscriber"] = {
            "id": sub.id,
            "name": sub.name,
            "status": str(sub.status),
            "categories": list(sub.categories) or "all",
            "digests": list(sub.digests) or "all",
            "weekly": list(sub.weekly),
            "source": sub.source,
            "created_at": _iso(sub.created_at),
            "status_at": _iso(sub.status_at),
            "consent": consent,
        }
        out["events"] = [
            {"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in store.events_of(sub.id)
        ]
        out["deliveries"] = [
            {
                "digest": d.digest,
                "date": d.date,
                "status": str(d.status),
                "message_id": d.message_id,
                "at": _iso(d.updated_at),
            }
            for d in store.delivery_history(sub.id)
        ]
    out["signups"] = [
        {
            "id": s.id,
            "name": s.name,
            "categories": list(s.categories) or "all",
            "digests": list(s.digests) or "all",
            "method": s.method,
            "page": s.page,
            "ip_hash": s.ip_hash,
            "created_at": _iso(s.created_at),
            "mailed_at": _iso(s.mailed_at),
            "confirmed_at": _iso(s.confirmed_at),
        }
        for s in signups
    ]
    return out


def forget(store: Store, address: str, *, now: datetime) -> bool:
    """Erase ``address``; False when the store holds nothing under it."""
    try:
        email = normalize_address(address)
    except ValueError:
        return False
    with store.erasing() as tx:
        sub = store.find_subscriber(tx, email)
        digest = tokens.address_hash(email, store.forget_key(tx))
        if sub is None:
            if not store.signups_for(email):
                return False
            store.delete_signups_for(tx, email)
            return True
        store.erase_subscriber(tx, sub.id, digest, now)
    return True


def forget_id(store: Store, subscriber_id: int, *, now: datetime) -> bool:
    """``forget`` by id: what the preferences page's "delete my data" does."""
    with store.erasing() as tx:
        sub = store.find_subscriber_by_id(tx, subscriber_id)
        if sub is None or sub.status == SubscriberStatus.FORGOTTEN:
            return False
        digest = tokens.address_hash(sub.email, store.forget_key(tx))
        store.erase_subscriber(tx, sub.id, digest, now)
    return True
