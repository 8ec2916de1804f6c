"""Bounces, complaints and unsubscribe replies change who gets the next edition.

The rules (``bounces:`` in schedule.yaml):

- a permanent failure is a ``bounce`` event; ``bounces.permanent`` of them
  (default 1) mark the subscriber *bounced*;
- a temporary failure is a ``bounce-temporary`` event; ``bounces.temporary``
  of them (default 3) within ``bounces.temporary_days`` (14) mark them bounced;
- a complaint (ARF) unsubscribes at once and is recorded as a ``complaint``;
- a reply to the unsubscribe address carrying a valid token unsubscribes;
- anything else is kept in the mailbox (moved to ``cur/``, for a person to
  read) and counted as unrecognised.

Each message is applied in one transaction together with its ``feedback``
row, keyed by its Message-ID (else a hash of its bytes): a message read
twice (a crash after the commit, before it left ``new/``; a webhook call
replayed) finds its key and changes nothing. A message is moved out of
``new/`` only after its transaction committed, so a crash loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Config
from ..model import SubscriberStatus
from ..observe import metrics
from ..store import Store, Tx
from ..store.records import FeedbackRecord
from . import bounce_parse
from .bounce_parse import Feedback

log = logging.getLogger(__name__)


@dataclass
class FeedbackCounts:
    read: int = 0
    seen: int = 0  # read before: counted then, skipped now
    kinds: Counter[str] = field(default_factory=Counter)
    bounced: int = 0  # subscribers this run marked bounced
    unsubscribed: int = 0
    unknown: int = 0  # feedback naming nobody we know

    def add(self, other: FeedbackCounts) -> None:
        self.read += other.read
        self.seen += other.seen
        self.kinds.update(other.kinds)
        self.bounced += other.bounced
        self.unsubscribed += other.unsubscribed
        self.unknown += other.unknown

    def describe(self) -> str:
        k = self.kinds
        parts = [
            f"{k['bounce-permanent']} permanent and {k['bounce-temporary']} temporary bounces",
            f"{k['complaint']} complaints",
            f"{k['unsubscribe']} unsubscribe replies",
            f"{k['unrecognised']} unrecognised",
        ]
        tail = f"; {self.bounced} marked bounced, {self.unsubscribed} unsubscribed"
        if self.seen:
            tail += f"; {self.seen} read before"
        return f"read {self.read} messages: " + ", ".join(parts) + tail

    def as_json(self) -> dict[str, int]:
        return {
            "read": self.read,
            "seen": self.seen,
            "bounced": self.bounced,
            "unsubscribed": self.unsubscribed,
            **{k.replace("-", "_"): v for k, v in self.kinds.items()},
        }


def unsubscribe_addresses(cfg: Config) -> tuple[str, ...]:
    host = urlsplit(cfg.site.url).hostname or "localhost"
    out = {(d.unsubscribe_mailto or f"unsubscribe@{host}").lower() for d in cfg.digests}
    return tuple(sorted(out or {f"unsubscribe@{host}"}))


def message_key(data: bytes, message_id: str) -> str:
    """The key a message is recorded under: its Message-ID, else its bytes."""
    if message_id:
        return "mid:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "sha:" + hashlib.sha256(data).hexdigest()


def _subscriber(store: Store, tx: Tx, fb: Feedback, *, addresses: bool) -> int | None:
    for sid in fb.subscriber_ids:  # our own signed tokens: the most reliable
        if store.find_subscriber_by_id(tx, sid) is not None:
            return sid
    for mid in fb.original_ids:
        by_message = store.subscriber_for_message(tx, mid)
        if by_message is not None:
            return by_message
    if not addresses:
        return None
    for address in fb.addresses:
        found = store.find_subscriber(tx, address)
        if found is not None:
            return found.id
    return None


# the form of ``MessageFactory.message_id``: <digest-NAME-YYYYMMDD-MAC@host>
_OWN_ID = re.compile(r"^<digest-(.+)-\d{8}-[0-9a-f]{16}@[^>]*>$")


def digest_of(message_ids: list[str], names: set[str]) -> str | None:
    """The configured digest one of our Message-IDs names; None for any other id.

    Only a name in ``names`` is returned, so a forged id cannot invent one.
    """
    for mid in message_ids:
        found = _OWN_ID.match(mid.strip())
        if found and found.group(1) in names:
            return found.group(1)
    return None


def _kind(fb: Feedback) -> str:
    if fb.kind == "bounce":
        return "bounce-permanent" if fb.permanent else "bounce-temporary"
    return fb.kind


def apply(
    cfg: Config,
    store: Store,
    fb: Feedback,
    *,
    key: str,
    now: datetime,
    counts: FeedbackCounts,
    trusted: bool = False,
) -> bool:
    """Record ``fb`` under ``key`` and apply the rules; False when it was recorded before.

    ``trusted``: the addresses come from a signed source (the webhook), so they
    are matched whatever ``bounces.match_addresses`` says.
    """
    rules = cfg.bounces
    with store.transaction() as tx:
        # the key first, in one statement (INSERT … ON CONFLICT DO NOTHING): the
        # first write takes SQLite's lock, and PostgreSQL makes a second insert of
        # the key wait for the first, so two readers of one message (two runs, a
        # webhook call replayed at once) cannot both find it new
        record = FeedbackRecord(
            key=key,
            received_at=now,
            kind=fb.kind,
            permanent=fb.permanent,
            subscriber_id=None,
            message_id=fb.message_id or None,
            reason=fb.reason,
        )
        if not store.claim_feedback(tx, record):
            counts.seen += 1
            return False
        counts.read += 1
        kind = _kind(fb)
        counts.kinds[kind] += 1
        if fb.kind == "bounce":
            names = {d.name for d in cfg.digests}
            metrics.bounce_report(digest_of(fb.original_ids, names), permanent=bool(fb.permanent))
        sid = (
            _subscriber(store, tx, fb, addresses=trusted or rules.match_addresses)
            if fb.kind != "unrecognised"
            else None
        )
        sub = store.find_subscriber_by_id(tx, sid) if sid is not None else None
        if sub is None or sub.status == SubscriberStatus.FORGOTTEN:
            sid = None  # unknown, or erased on request: nothing more is kept about them
        else:
            store.set_feedback_subscriber(tx, key, sub.id)
        if fb.kind == "unrecognised":
            return True
        if sid is None:
            counts.unknown += 1
            log.info("%s names no known subscriber (%s)", kind, fb.reason)
            return True
        mid = fb.message_id or None
        if fb.kind == "bounce":
            event = "bounce" if fb.permanent else "bounce-temporary"
            store.add_event(tx, sid, event, now, fb.reason[:500], mid)
            # only what happened since they (re)subscribed counts against them
            active_since = sub.status_at if sub is not None else None
            if fb.permanent:
                many = store.count_events(tx, sid, "bounce", active_since) >= rules.permanent
            else:
                since = now - timedelta(days=rules.temporary_days)
                if active_since is not None and active_since > since:
                    since = active_since
                many = store.count_events(tx, sid, "bounce-temporary", since) >= rules.temporary
            if many and store.bounce(tx, sid, now):
                counts.bounced += 1
                metrics.subscriber_bounced("feedback")
                store.add_event(tx, sid, "bounced", now, f"after {event}s", mid)
        else:  # a complaint or an unsubscribe reply
            event = "complaint" if fb.kind == "complaint" else "unsubscribed"
            detail = fb.reason if fb.kind == "complaint" else "via reply"
            store.add_event(tx, sid, event, now, detail, mid)
            if store.unsubscribe_in(tx, sid, now):
                counts.unsubscribed += 1
                metrics.unsubscribed("complaint" if fb.kind == "complaint" else "reply")
        return True


def process_bytes(
    cfg: Config, store: Store, data: bytes, *, key: bytes, now: datetime, counts: FeedbackCounts
) -> bool:
    msg = bounce_parse.parse(data)
    fb = bounce_parse.classify(msg, key=key, unsubscribe_addresses=unsubscribe_addresses(cfg))
    return apply(cfg, store, fb, key=message_key(data, fb.message_id), now=now, counts=counts)


def process_maildir(
    cfg: Config, store: Store, folder: Path, *, key: bytes, now: datetime, limit: int = 100_000
) -> FeedbackCounts:
    """Read every message in ``folder/new`` once, then move it to ``cur`` (flagged seen).

    Unrecognised messages are moved too (they are counted and kept, for a
    person to read); nothing is deleted.
    """
    counts = FeedbackCounts()
    new, cur = folder / "new", folder / "cur"
    if not new.is_dir():
        raise FileNotFoundError(f"{folder} is not a Maildir (no new/ folder)")
    cur.mkdir(exist_ok=True)
    names = sorted(n for n in os.listdir(new) if not n.startswith("."))[:limit]
    for name in names:
        path = new / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another reader took it
            continue
        process_bytes(cfg, store, data, key=key, now=now, counts=counts)
        # after the commit: a crash before this line leaves it in new/, and the next
        # run finds its key and only moves it
        base = name.split(":", 1)[0]
        with contextlib.suppress(FileNotFoundError):  # a second reader moved it first
            os.replace(path, cur / f"{base}:2,S")
    return counts


def process(cfg: Config, store: Store, *, key: bytes, now: datetime) -> FeedbackCounts:
    """Read the configured bounce mailboxes: ``bounces.maildir``, then ``bounces.imap``."""
    if cfg.bounces.maildir is None and cfg.bounces.imap is None:
        raise ValueError("no bounce mailbox: set bounces.maildir or bounces.imap in schedule.yaml")
    total = FeedbackCounts()
    if cfg.bounces.maildir is not None:
        total = process_maildir(cfg, store, cfg.bounces.maildir, key=key, now=now)
    if cfg.bounces.imap is not None:
        from .bounce_imap import process_imap

        total.add(process_imap(cfg, store, cfg.bounces.imap, key=key, now=now))
    return total
