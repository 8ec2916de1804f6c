"""The digest step end to end: import subscribers, compose due editions, deliver, archive.

``send_due`` is what ``syndicate digest send`` and the daemon call. It is
safe to call as often as you like: an edition is (digest, period, window end)
with at most one per period's slot (a local day, or an ISO week: see
``periods.py``), unfinished editions are resumed first, and the ledger never
lets an accepted message go out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import i18n, stopping
from ..config import ADJECTIVE, Config, DigestConfig
from ..errors import DeliveryAborted, DigestError
from ..model import Period, RunOutcome
from ..store import Store
from ..timeutil import now_utc
from . import archive, compose, ledger, periods, signups, subscribers, tokens
from .compose import EditionPlan
from .deliver import PacerFor, Transport, transports_for
from .message import MessageFactory
from .render import Placeholders, Renderer
from .sender import Sender, Variants
from .subscribers import ACTIVE, Subscriber

log = logging.getLogger(__name__)

CHUNK = 200  # ledger rows claimed (and subscribers read) at a time
Progress = Callable[[int, int | None], None]


@dataclass
class EditionResult:
    """One call's work on one edition: counts are edition totals, ``sent_now`` is this call's."""

    digest: str
    date: str
    status: str  # sent, incomplete, interrupted, aborted, no-items, already-sent, dry-run
    edition_id: int | None = None
    items: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    bounced: int = 0
    target: str = ""
    first_file: str | None = None
    archive: Path | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    message: str = ""
    sent_now: int = 0  # sent by this call (the others were sent by an earlier run)
    period: Period = Period.DAY

    @property
    def ok(self) -> bool:
        return self.status not in ("aborted", "incomplete", "interrupted") and not self.failed

    def summary(self) -> str:
        head = f"{self.digest} {self.date}"
        if self.status == "no-items":
            since = (
                self.window_start.isoformat(" ", "minutes") if self.window_start else "the start"
            )
            return f"{head}: no new posts since {since}; no edition, nothing sent"
        if self.status == "dry-run":
            return (
                f"{head} (dry run): {self.items} items; {self.sent} would be sent, "
                f"{self.skipped} skipped (no posts in their categories); nothing sent"
            )
        counts = f"{self.sent} sent, {self.failed} failed, {self.pending} pending"
        if self.skipped:
            counts += f", {self.skipped} skipped"
        if self.bounced:
            counts += f", {self.bounced} bounced"
        line = f"{head}: {counts}"
        if self.status == "already-sent":
            return line + f" (already sent {periods.when_label(self.period)})"
        if self.target:
            line += f" → {self.target}"
        if self.first_file:
            line += f" (open {_display(self.first_file)})"
        if self.message:
            line += f"; {self.message}"
        return line


@dataclass
class Preview:
    subject: str
    html: str
    eml: bytes
    message_id: str
    items: int
    trimmed: int
    size: int
    subscriber: Subscriber
    plan: EditionPlan = field(repr=False)


def _display(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _now(now: datetime | None) -> datetime:
    now = now or now_utc()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now  # not truncated: a post collected earlier in the same second belongs in it


def editions_due(digest: DigestConfig, period: Period | None) -> tuple[Period, ...]:
    """The periods to send: ``period`` alone, or every edition the digest has (None)."""
    have = periods.editions_of(digest)
    if period is None:
        return have
    if period not in have:
        raise DigestError(
            f"digest {digest.name} has no {ADJECTIVE[period]} edition (it has:"
            f" {', '.join(have)}; a daily digest offers a weekly one with offer_weekly: true)"
        )
    return (period,)


def digests_named(cfg: Config, names: Iterable[str] | None) -> list[DigestConfig]:
    if names is None:
        return list(cfg.digests)
    known = {d.name: d for d in cfg.digests}
    out = []
    for name in names:
        if name not in known:
            listed = ", ".join(known) or "none configured"
            raise DigestError(f"no digest named {name!r} (digests: {listed})")
        out.append(known[name])
    return out


# -- the entry points -----------------------------------------------------


def send_due(
    cfg: Config,
    store: Store,
    *,
    now: datetime | None = None,
    names: Iterable[str] | None = None,
    dry_run: bool = False,
    new_editions: bool = True,
    sync_subscribers: bool = True,
    record: bool = True,
    transport: Transport | None = None,
    progress: Progress | None = None,
    period: Period | None = None,
    due: datetime | None = None,
) -> list[EditionResult]:
    """Resume unfinished editions, then compose and send each edition not sent in its slot.

    ``names=None`` means every configured digest; ``period`` one of their
    editions (None: each they have, daily and weekly); ``due`` the scheduled
    time a weekly edition's slot is taken from (default ``now``); ``new_editions=False``
    only resumes unfinished editions (a slot the daemon already handled);
    ``record=False`` when the caller records the run itself (the daemon's jobs).
    Stops between two messages when the daemon is asked to stop (the rest
    stays pending for the next run). One digest's failure
    (e.g. the SMTP server refusing) is reported in its result and does not
    stop the others. Raises SecretMissing before anything is sent when
    ``SYNDICATE_SECRET`` is unset.
    """
    now = _now(now)
    selected = digests_named(cfg, names)
    if period is not None and names is None:
        selected = [d for d in selected if period in periods.editions_of(d)]
    wanted = {d.name: editions_due(d, period) for d in selected}
    key = None if dry_run else tokens.secret()
    if sync_subscribers and not dry_run:
        subscribers.sync_configured(cfg, store, now=now)
        signups.expire(cfg, store, now)  # sign-ups are never recipients; old ones go
    results: list[EditionResult] = []
    for digest in selected:
        if dry_run:
            results.extend(_dry_run(cfg, store, digest, now, p, due) for p in wanted[digest.name])
            continue
        assert key is not None
        results.extend(
            _send_digest(
                cfg,
                store,
                digest,
                now,
                key,
                transport,
                progress,
                new_editions,
                record,
                wanted[digest.name],
                due,
            )
        )
    return results


def _send_digest(
    cfg: Config,
    store: Store,
    digest: DigestConfig,
    now: datetime,
    key: bytes,
    transport: Transport | None,
    progress: Progress | None,
    new_editions: bool = True,
    record: bool = True,
    editions: tuple[Period, ...] = (Period.DAY,),
    due: datetime | None = None,
) -> list[EditionResult]:
    run_id = None
    if record:
        run_id = store.start_run(f"digest:{digest.name}", "digest", now_utc(), scheduled=now)
    results: list[EditionResult] = []
    error = None
    try:
        for row in ledger.unfinished(store, digest.name):
            log.info("%s %s: resuming an unfinished edition", digest.name, row.date)
            results.append(_deliver(cfg, store, digest, row, key, transport, progress))
        for period in editions:
            if not new_editions or stopping.requested():
                return results
            made = _new_edition(cfg, store, digest, now, key, period, due)
            if isinstance(made, EditionResult):
                if made.status != "already-sent" or not any(
                    r.edition_id == made.edition_id for r in results
                ):
                    results.append(made)
                continue
            results.append(_deliver(cfg, store, digest, made, key, transport, progress))
        return results
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        totals = {k: sum(getattr(r, k) for r in results) for k in ("sent_now", "failed", "pending")}
        outcome = (
            RunOutcome.ERROR
            if error
            else (RunOutcome.OK if all(r.ok for r in results) else RunOutcome.PARTIAL)
        )
        if run_id is not None:
            counts = {**totals, "editions": len(results)}
            store.finish_run(run_id, now_utc(), outcome, counts, error)


def _new_edition(
    cfg: Config,
    store: Store,
    digest: DigestConfig,
    now: datetime,
    key: bytes,
    period: Period = Period.DAY,
    due: datetime | None = None,
) -> ledger.EditionRow | EditionResult:
    """This slot's edition, created now (with its ledger rows); or why there is none to send."""
    date = compose.slot_of(cfg, period, now, due)
    existing = ledger.find(store, digest.name, date, period)
    if existing is not None:
        return _result(store, digest, existing, "already-sent")
    plan = compose.plan(cfg, store, digest, now, period, due)
    if not plan.sections:
        log.info("%s %s: no new posts in the window; no edition, nothing sent", digest.name, date)
        start = plan.window_start.astimezone(cfg.site.tz) if plan.window_start else None
        return EditionResult(
            digest.name, date, "no-items", window_start=start, window_end=now, period=period
        )
    return _create(cfg, store, digest, plan, key)


def prepare(
    cfg: Config,
    store: Store,
    name: str,
    *,
    now: datetime,
    new_edition: bool,
    period: Period | None = None,
    due: datetime | None = None,
) -> tuple[list[ledger.EditionRow], EditionResult | None]:
    """The queue's compose step: the editions to deliver, nothing sent.

    Unfinished editions first, then this slot's edition of ``period`` (the
    digest's own by default; created here, when ``new_edition`` and there is
    something to send); the result says why there is no new one (no posts,
    already sent), None when there is. Delivery is left to the chunk tasks
    (``deliver_chunk``).
    """
    (digest,) = digests_named(cfg, [name])
    (period,) = editions_due(digest, period or Period(digest.period))
    key = tokens.secret()
    subscribers.sync_configured(cfg, store, now=now)
    signups.expire(cfg, store, now)
    rows = list(ledger.unfinished(store, digest.name))
    if not new_edition or stopping.requested():
        return rows, None
    made = _new_edition(cfg, store, digest, now, key, period, due)
    if isinstance(made, EditionResult):
        return rows, made
    if all(r.id != made.id for r in rows):
        rows.append(made)
    return rows, None


def deliver_chunk(
    cfg: Config,
    store: Store,
    edition_id: int,
    *,
    claimer: str,
    limit: int,
    pacer_for: PacerFor | None = None,
) -> EditionResult:
    """One queue task's share of an edition: up to ``limit`` rows, claimed as ``claimer``.

    Rows this claimer held before (an earlier attempt of the same task, killed
    mid-chunk) are handed back first and taken again: only what the ledger
    does not mark sent goes out.
    """
    row = ledger.get(store, edition_id)
    (digest,) = digests_named(cfg, [row.digest])
    key = tokens.secret()
    return _deliver(
        cfg, store, digest, row, key, None, None, me=claimer, limit=limit, pacer_for=pacer_for
    )


def find_edition(store: Store, digest: DigestConfig, date: str | None) -> ledger.EditionRow:
    """The edition of ``digest`` on ``date`` (YYYY-MM-DD), or its newest one."""
    if date is not None:
        row = ledger.find(store, digest.name, date)
        if row is None:
            raise DigestError(f"{digest.name}: no edition on {date}")
        return row
    newest = ledger.history(store, digest.name, 1)
    if not newest:
        raise DigestError(f"{digest.name}: no edition yet")
    return newest[0]


def retry(
    cfg: Config,
    store: Store,
    name: str,
    *,
    date: str | None = None,
    progress: Progress | None = None,
) -> EditionResult:
    """Send one edition again to the rows still open: temporary failures and pending ones.

    The ledger decides: a row marked sent is never sent again, a permanent
    failure stays failed (that address is bounced, or on its way to it).
    """
    (digest,) = digests_named(cfg, [name])
    row = find_edition(store, digest, date)
    key = tokens.secret()
    return _deliver(cfg, store, digest, row, key, None, progress)


def _create(
    cfg: Config, store: Store, digest: DigestConfig, plan: EditionPlan, key: bytes
) -> ledger.EditionRow:
    """Record the edition with a pending row per subscriber, and publish its archive copy."""
    ph = Placeholders()
    posts = compose.load_posts(store, plan)
    full = Renderer(cfg, digest, ph).render(compose.edition_view(cfg, plan, plan.slugs, posts))
    titles = []
    for s in plan.sections:
        titles += [posts[p].display_title for p in s.post_ids if p in posts]
    language = cfg.site.language
    summary = i18n.ngettext(
        language, "{num} post: {titles}", "{num} posts: {titles}", plan.item_count
    ).format(
        num=i18n.format_number(language, plan.item_count),
        titles=i18n.gettext(language, "; ").join(dict.fromkeys(titles[:10])),
    )
    row = ledger.create(
        store,
        digest=digest.name,
        date=plan.date,
        window_start=plan.window_start,
        window_end=plan.window_end,
        items=plan.to_json(),
        item_count=plan.item_count,
        subject=full.subject,
        summary=summary,
        now=now_utc(),
        period=plan.period,
        weekly=periods.choosers(digest, plan.period),
    )
    if row is None:  # another sender created it a moment ago: resume that one
        row = ledger.find(store, digest.name, plan.date, plan.period)
        if row is None:
            raise DigestError(f"{digest.name} {plan.date}: edition vanished while being created")
        return row
    factory = MessageFactory(cfg, digest, plan, ph, key)
    archive.write_edition(cfg, digest.name, plan.date, full.html_for(ph, factory.neutral()))
    archive.write_feed(cfg, store, digest)
    log.info("%s %s: edition of %d posts created", digest.name, plan.date, plan.item_count)
    return row


def _deliver(
    cfg: Config,
    store: Store,
    digest: DigestConfig,
    row: ledger.EditionRow,
    key: bytes,
    transport: Transport | None,
    progress: Progress | None,
    *,
    me: str | None = None,
    limit: int | None = None,
    pacer_for: PacerFor | None = None,
) -> EditionResult:
    """Send the edition's open rows; with ``limit``, one claim of at most that many."""
    plan = EditionPlan.from_row(row)
    ph = Placeholders()
    posts = compose.load_posts(store, plan)
    renderer = Renderer(cfg, digest, ph)
    variants = Variants(cfg, plan, renderer, posts)
    factory = MessageFactory(cfg, digest, plan, ph, key)
    # again on a resume: the process that created the edition may have died before this
    archive_page = archive.write_edition(
        cfg, digest.name, plan.date, variants.get(plan.slugs).html_for(ph, factory.neutral())
    )
    archive.write_feed(cfg, store, digest)
    me = me or ledger.claimer_id()
    ledger.reclaim(store, row.id, me=me, now=now_utc())
    if progress is not None:
        progress(0, ledger.counts(store, row.id)[ledger.PENDING])
    transports = [transport] if transport is not None else transports_for(cfg, pacer_for)
    sender = Sender(store, digest, plan, variants, factory, transports)
    status, message = "sent", ""
    try:
        try:
            n = CHUNK if limit is None else limit
            while claims := ledger.claim(store, row.id, me=me, n=n, now=now_utc()):
                for c in claims:
                    if stopping.requested():
                        raise _Stop
                    if progress is not None:
                        progress(1, None)
                    sender.submit(c)
                if limit is not None:
                    break
        finally:
            sender.close()  # let queued messages finish (or drop them after an abort)
    except _Stop:
        status, message = "interrupted", "stopped on request; the rest stays pending"
    except DeliveryAborted as exc:
        status, message = "aborted", f"{exc}; `syndicate digest send` resumes"
        log.error("%s %s: delivery stopped: %s", digest.name, row.date, exc)
    finally:
        ledger.release_mine(store, row.id, me=me)
        if transport is None:
            for tx in transports:
                tx.close()
    ledger.finish_if_done(store, row.id, now_utc())
    result = _result(store, digest, ledger.get(store, row.id), status)
    if result.status == "sent" and result.pending:
        result.status = "incomplete"
        result.message = "some messages are still pending; `syndicate digest send` retries them"
    result.message = result.message or message
    result.target, result.first_file = sender.label, sender.first_file
    result.bounced, result.sent_now = sender.bounced, sender.sent
    result.archive = archive_page
    return result


class _Stop(Exception):
    """The daemon asked to stop: leave between two messages."""


def _result(
    store: Store, digest: DigestConfig, row: ledger.EditionRow, status: str
) -> EditionResult:
    n = ledger.counts(store, row.id)
    return EditionResult(
        digest=digest.name,
        date=row.date,
        status=status,
        edition_id=row.id,
        items=row.item_count,
        sent=n[ledger.SENT],
        failed=n[ledger.FAILED],
        pending=n[ledger.PENDING] + n[ledger.CLAIMED] + n[ledger.DEFERRED],
        skipped=n[ledger.SKIPPED],
        window_start=row.window_start,
        window_end=row.window_end,
        period=row.period,
    )


def _dry_run(
    cfg: Config,
    store: Store,
    digest: DigestConfig,
    now: datetime,
    period: Period = Period.DAY,
    due: datetime | None = None,
) -> EditionResult:
    """Compose and render every variant, count who would get what; write nothing."""
    plan = compose.plan(cfg, store, digest, now, period, due)
    result = EditionResult(
        digest.name,
        plan.date,
        "dry-run",
        items=plan.item_count,
        window_start=plan.window_start,
        window_end=now,
        period=period,
    )
    if not plan.sections:
        result.status = "no-items"
        return result
    variants = Variants(
        cfg, plan, Renderer(cfg, digest, Placeholders()), compose.load_posts(store, plan)
    )
    for sub in subscribers.iter_subscribers(store, status=ACTIVE):
        if not sub.wants_digest(digest.name) or not periods.gets(digest, period, sub.weekly):
            continue
        if variants.get(compose.variant_for(plan, sub.categories)).item_count:
            result.sent += 1
        else:
            result.skipped += 1
    return result


def preview(
    cfg: Config,
    store: Store,
    name: str,
    *,
    now: datetime | None = None,
    address: str | None = None,
    period: Period | None = None,
) -> Preview | None:
    """The next edition as one subscriber would get it (HTML and .eml); nothing is recorded.

    None when the window has no posts. Without an address, a stand-in
    subscriber who chose every category is used. ``period``: which edition
    (default: the subscriber's choice, else the digest's own period).
    """
    now = _now(now)
    key = tokens.secret()
    (digest,) = digests_named(cfg, [name])
    if address:
        sub = subscribers.get(store, address)
        if sub is None:
            raise DigestError(f"no subscriber {address} (add one with `syndicate subscribers add`)")
    else:
        sub = None
    if period is None:
        chose = sub is not None and digest.offer_weekly and digest.name in sub.weekly
        period = Period.WEEK if chose else Period(digest.period)
    (period,) = editions_due(digest, period)
    plan = compose.plan(cfg, store, digest, now, period)
    if not plan.sections:
        return None
    ph = Placeholders()
    factory = MessageFactory(cfg, digest, plan, ph, key)
    if sub is None:
        sub = Subscriber(id=0, email=factory.sender)
    view = compose.edition_view(
        cfg, plan, compose.variant_for(plan, sub.categories), compose.load_posts(store, plan)
    )
    rendered = Renderer(cfg, digest, ph).render(view)
    message_id, data = factory.build(rendered, sub)
    return Preview(
        subject=rendered.subject,
        html=rendered.html_for(ph, factory.personal(sub)),
        eml=data.replace(b"\r\n", b"\n"),
        message_id=message_id,
        items=rendered.item_count,
        trimmed=rendered.trimmed,
        size=rendered.size,
        subscriber=sub,
        plan=plan,
    )
