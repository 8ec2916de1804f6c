"""Who gets which digest: addresses, their choices and their status.

Subscribers come from a CSV/YAML file (imported on each run) and from the
``syndicate subscribers`` commands. The store is the memory of what people
did: an unsubscribe or a bounce recorded there always wins over the file, so
re-importing an old file never mails somebody who left.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email

from .. import safeyaml
from ..config import Config
from ..errors import SlugError, SubscriberFileError, YamlError
from ..model import Rejection, SubscriberStatus
from ..observe import metrics
from ..slugs import SLUG_RE, slugify
from ..store import Store, Tx
from ..store.records import Consent, KnownSubscriber, NewSubscriber, Subscriber
from ..text import display_name
from . import tokens

log = logging.getLogger(__name__)

ACTIVE, UNSUBSCRIBED, BOUNCED, REMOVED, FORGOTTEN, PENDING = (
    SubscriberStatus.ACTIVE,
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
    SubscriberStatus.REMOVED,
    SubscriberStatus.FORGOTTEN,
    SubscriberStatus.PENDING,
)
# the plain strings (for click.Choice, which would show an enum's member names)
STATUSES = tuple(s.value for s in SubscriberStatus)
# statuses the file may not undo; REMOVED only means "gone from the file"
STICKY = (UNSUBSCRIBED, BOUNCED)
BOUNCE_AFTER = 3  # consecutive hard failures
COLUMNS = ("email", "name", "categories", "digests", "weekly")
SUBSCRIBERS_MAX_CHARS = 256 << 20  # a YAML list of a million subscribers fits


@dataclass(frozen=True)
class Entry:
    """One subscriber as a file or a command gives it, already validated."""

    email: str
    name: str = ""
    categories: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    where: str = ""
    weekly: tuple[str, ...] = ()  # digests (offer_weekly) whose weekly edition they take


@dataclass
class ImportCounts:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    kept: int = 0  # unsubscribed or bounced in the store, so left alone
    held_back: int = 0  # forgotten on request: a file may not bring them back
    removed: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped_unchanged_file: bool = False

    def describe(self) -> str:
        parts = [f"{self.added} added", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        texts = {"kept": "kept unsubscribed/bounced", "held_back": "held back (forgotten)"}
        for label in ("reactivated", "kept", "held_back", "removed"):
            if getattr(self, label):
                text = texts.get(label, label)
                parts.append(f"{getattr(self, label)} {text}")
        parts.append(f"{self.rejected} rejected")
        return f"{self.rows} subscribers: " + ", ".join(parts)


# -- validation -----------------------------------------------------------


def normalize_address(text: str) -> str:
    """One spelling per mailbox: ASCII domain, lower case; raises ValueError with the reason."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty address")
    try:
        info = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"invalid address {text!r}: {exc}") from None
    return (info.ascii_email or info.normalized).lower()


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return str(value).replace(",", " ").split()


class Choices:
    """The categories and digests a subscriber may name (slugs, or category display names)."""

    def __init__(self, cfg: Config, store: Store | None = None) -> None:
        self.by_name: dict[str, str] = {}
        self.slugs: set[str] = set(cfg.categories)
        if store is not None:
            for cat in store.all_categories():
                self.slugs.add(cat.slug)
                self.by_name.setdefault(cat.name, cat.slug)
        for slug, name in cfg.categories.items():
            self.by_name[name] = slug
        self.digests = [d.name for d in cfg.digests]
        self.offered = [d.name for d in cfg.digests if d.offer_weekly]

    def categories(self, value: Any) -> tuple[str, ...]:
        out: list[str] = []
        for word in _words(value):
            if word.lower() in ("all", "*"):
                return ()
            slug = self.by_name.get(word) or (word if SLUG_RE.match(word) else None)
            if slug is None:
                try:
                    slug = slugify(word)
                except SlugError as exc:
                    raise ValueError(f"category {word!r}: {exc}") from None
            if slug not in self.slugs:
                log.info("subscriber category %r is not known yet", slug)
            if slug not in out:
                out.append(slug)
        return tuple(out)

    def digest_names(self, value: Any) -> tuple[str, ...]:
        out: list[str] = []
        for word in _words(value):
            if word.lower() in ("all", "*"):
                return ()
            if self.digests and word not in self.digests:
                known = ", ".join(self.digests)
                raise ValueError(f"unknown digest {word!r} (configured: {known})")
            if word not in out:
                out.append(word)
        return tuple(out)

    def weekly(self, value: Any) -> tuple[str, ...]:
        """Digests whose weekly edition is chosen: each must offer one (``offer_weekly``)."""
        out: list[str] = []
        for word in _words(value):
            if word not in self.offered:
                offered = ", ".join(self.offered) or "none configured"
                raise ValueError(
                    f"weekly: digest {word!r} offers no weekly edition (offer_weekly: {offered})"
                )
            if word not in out:
                out.append(word)
        return tuple(out)

    def entry(self, raw: dict[str, Any], where: str) -> Entry:
        name = display_name(str(raw.get("name") or ""))
        return Entry(
            email=normalize_address(str(raw.get("email") or "")),
            name=name,
            categories=self.categories(raw.get("categories")),
            digests=self.digest_names(raw.get("digests")),
            where=where,
            weekly=self.weekly(raw.get("weekly")),
        )


# -- files ----------------------------------------------------------------


def read_file(
    path: Path, choices: Choices, *, label: str | None = None
) -> tuple[list[Entry], list[Rejection]]:
    """Valid entries and the rejected rows (``file:line: reason``); CSV or YAML by extension."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SubscriberFileError(f"{label}: subscribers file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SubscriberFileError(f"{label}: cannot read: {exc}") from None
    rows: Iterable[tuple[int, dict[str, Any]]]
    if path.suffix.lower() in (".yaml", ".yml"):
        rows = _yaml_rows(text, label)
    else:
        rows = _csv_rows(text, label)
    entries: list[Entry] = []
    rejections: list[Rejection] = []
    first_line: dict[str, int] = {}
    for line, raw in rows:
        where = f"{label}:{line}"
        if "__error__" in raw:
            rejections.append(Rejection(where, raw["__error__"]))
            continue
        try:
            entry = choices.entry(raw, where)
        except ValueError as exc:
            rejections.append(Rejection(where, str(exc)))
            continue
        if entry.email in first_line:
            rejections.append(
                Rejection(where, f"{entry.email} is already on line {first_line[entry.email]}")
            )
            continue
        first_line[entry.email] = line
        entries.append(entry)
    return entries, rejections


def _csv_rows(text: str, label: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise SubscriberFileError(
            f"{label}:1: the header must name the columns: email,name,categories"
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise SubscriberFileError(
            f"{label}:1: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header
    return _csv_iter(reader)


def _csv_iter(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for raw in reader:
        email = (raw.get("email") or "").strip()
        if not email and not any((v or "").strip() for k, v in raw.items() if k):
            continue  # blank line
        if email.startswith("#"):
            continue  # a comment
        yield reader.line_num, raw


def _yaml_rows(text: str, label: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        node = safeyaml.compose(text, max_bytes=SUBSCRIBERS_MAX_CHARS)
        data = safeyaml.construct(node)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line is not None else ""
        raise SubscriberFileError(f"{label}{where}: invalid YAML: {exc.reason}") from None
    if isinstance(data, dict) and "subscribers" in data and isinstance(node, yaml.MappingNode):
        data = data["subscribers"]
        node = next(v for k, v in node.value if k.value == "subscribers")
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise SubscriberFileError(f"{label}:1: expected a list of subscribers (- email: …)")
    rows = []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if isinstance(item, str):
            item = {"email": item}
        if not isinstance(item, dict):
            rows.append((line, {"__error__": "expected a mapping with email, name, categories"}))
            continue
        unknown = [k for k in item if k not in COLUMNS]
        if unknown:
            rows.append((line, {"__error__": f"unknown key {unknown[0]!r}"}))
            continue
        rows.append((line, item))
    return rows


# -- store ----------------------------------------------------------------


class HeldBack:
    """The forgotten addresses an import must leave out (empty when none was forgotten)."""

    def __init__(self, store: Store, tx: Tx) -> None:
        self.key = store.existing_forget_key(tx)
        self.hashes = store.forgotten_hashes(tx) if self.key is not None else set()

    def __contains__(self, email: object) -> bool:
        if not self.hashes or self.key is None or not isinstance(email, str):
            return False
        return tokens.address_hash(email, self.key) in self.hashes


__all__ = ["Subscriber"]


def get(store: Store, address: str) -> Subscriber | None:
    try:
        email = normalize_address(address)
    except ValueError:
        return None
    return store.subscriber(email)


def get_by_id(store: Store, subscriber_id: int) -> Subscriber | None:
    return store.subscriber_by_id(subscriber_id)


def iter_subscribers(
    store: Store, *, status: str | None = None, chunk: int = 1000
) -> Iterator[Subscriber]:
    """Every subscriber in id order, read in chunks so memory stays flat."""
    last = 0
    while True:
        rows = store.subscribers_after(last, status=status, limit=chunk)
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def count_by_status(store: Store) -> dict[str, int]:
    return store.subscriber_counts()


def import_entries(
    store: Store,
    entries: Iterable[Entry],
    *,
    source: str,
    now: datetime,
    sync: bool = False,
    counts: ImportCounts | None = None,
) -> ImportCounts:
    """Add or update subscribers; with ``sync``, active ones this source no longer lists go.

    A recorded unsubscribe or bounce is never undone here: only an explicit
    ``subscribers add`` brings such an address back. Categories and digests a
    subscriber chose on the preferences page are not overwritten either.
    """
    counts = counts or ImportCounts()
    seen: set[str] = set()
    with store.transaction() as tx:
        existing: dict[str, KnownSubscriber] = store.known_subscribers(tx)
        held = HeldBack(store, tx)
        new_rows: list[NewSubscriber] = []
        for entry in entries:
            counts.rows += 1
            seen.add(entry.email)
            row = existing.get(entry.email)
            if row is None and entry.email in held:
                counts.held_back += 1
                continue
            if row is None:
                new_rows.append(
                    NewSubscriber(
                        entry.email,
                        entry.name,
                        entry.categories,
                        entry.digests,
                        source,
                        entry.weekly,
                    )
                )
                counts.added += 1
                continue
            values: dict[str, Any] = {
                "name": entry.name,
                "categories": entry.categories,
                "digests": entry.digests,
                "weekly": entry.weekly,
            }
            changes = {k: v for k, v in values.items() if getattr(row, k) != v}
            if row.chosen_at is not None:  # chosen on the preferences page: that wins
                changes.pop("categories", None)
                changes.pop("digests", None)
                changes.pop("weekly", None)
            if row.status in STICKY:
                counts.kept += 1
            elif row.status == REMOVED:
                changes.update(status=ACTIVE, status_at=now, source=source)
                counts.reactivated += 1
            elif changes:
                counts.updated += 1
            else:
                counts.unchanged += 1
            if changes:
                store.update_subscriber(tx, row.id, updated_at=now, **changes)
        store.insert_subscribers(tx, new_rows, now)
        if sync:
            gone = [
                row.id
                for email, row in existing.items()
                if row.source == source and row.status == ACTIVE and email not in seen
            ]
            store.mark_removed(tx, gone, now)
            counts.removed += len(gone)
    return counts


def import_file(
    cfg: Config,
    store: Store,
    path: Path,
    *,
    now: datetime,
    sync: bool = False,
    label: str | None = None,
) -> ImportCounts:
    entries, rejections = read_file(path, Choices(cfg, store), label=label)
    counts = ImportCounts(rejected=len(rejections), rejections=rejections)
    source = f"file:{path.resolve()}"
    return import_entries(store, entries, source=source, now=now, sync=sync, counts=counts)


def sync_configured(cfg: Config, store: Store, *, now: datetime) -> ImportCounts | None:
    """Import the configured subscribers file when its bytes changed since the last import.

    A file with rejected rows is read again on every run, so the operator
    keeps seeing what is wrong until it is fixed.
    """
    path = cfg.subscribers.file
    if path is None:
        return None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise SubscriberFileError(f"{path}: subscribers file not found") from None
    key = f"subscribers-file:{path.resolve()}"
    if store.get_meta(key) == digest:
        return ImportCounts(skipped_unchanged_file=True)
    counts = import_file(cfg, store, path, now=now, sync=True, label=_label(cfg, path))
    log.info("imported %s: %s", path, counts.describe())
    for r in counts.rejections:
        log.warning("rejected subscriber: %s: %s", r.path, r.reason)
    store.replace_meta(key, None if counts.rejections else digest)
    return counts


def _label(cfg: Config, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(cfg.base_dir.resolve()))
    except ValueError:
        return str(path)


def add(cfg: Config, store: Store, entry: Entry, *, now: datetime) -> tuple[Subscriber, str]:
    """Add or update one subscriber; an explicit add also brings back one who had left."""
    with store.transaction() as tx:
        row = store.find_subscriber(tx, entry.email)
        key = store.existing_forget_key(tx)
        if key is not None:  # the operator's explicit add is a new consent
            store.unforget(tx, tokens.address_hash(entry.email, key))
        if row is None:
            new = NewSubscriber(
                entry.email, entry.name, entry.categories, entry.digests, "cli", entry.weekly
            )
            store.insert_subscribers(tx, [new], now)
            action = "added"
        else:
            changes: dict[str, Any] = {}
            action = "updated"
            if row.status != ACTIVE:
                changes.update(
                    status=ACTIVE,
                    status_at=now,
                    hard_failures=0,
                    consent=Consent(method="cli", at=now),
                )
                action = f"re-subscribed (was {row.status})"
                store.add_event(tx, row.id, "resubscribed", now, f"by cli (was {row.status})")
            store.update_subscriber(
                tx,
                row.id,
                updated_at=now,
                name=entry.name,
                categories=entry.categories,
                digests=entry.digests,
                weekly=entry.weekly,
                **changes,
            )
    found = get(store, entry.email)
    assert found is not None
    return found, action


def set_status(
    store: Store, subscriber_id: int, status: str, *, now: datetime, via: str = ""
) -> bool:
    """Record an unsubscribe (or bounce); this is what the web unsubscribe endpoint calls.

    A change is also recorded as an event (``via``: web, one-click, cli, …).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    changed = store.set_subscriber_status(subscriber_id, SubscriberStatus(status), now=now)
    if changed:
        store.record_event(subscriber_id, str(status), now, f"via {via}" if via else "")
        if status == UNSUBSCRIBED:
            metrics.unsubscribed(via)
    return changed


def remove(store: Store, address: str, *, now: datetime, purge: bool = False) -> str | None:
    """Unsubscribe an address (kept so the file cannot bring it back), or purge every trace."""
    found = get(store, address)
    if found is None:
        return None
    if not purge:
        set_status(store, found.id, UNSUBSCRIBED, now=now, via="cli")
        return "unsubscribed"
    store.purge_subscriber(found.id)
    return "purged"


def record_outcome(store: Store, tx: Tx, subscriber_id: int, *, ok: bool, now: datetime) -> bool:
    """Count consecutive hard failures; the third one marks the subscriber bounced.

    Runs in the transaction of the delivery's outcome. Returns True when this
    outcome bounced the subscriber.
    """
    if ok:
        store.reset_hard_failures(tx, subscriber_id)
        return False
    failures = store.count_hard_failure(tx, subscriber_id, now)
    if failures is not None and failures >= BOUNCE_AFTER:
        return store.bounce(tx, subscriber_id, now)
    return False
