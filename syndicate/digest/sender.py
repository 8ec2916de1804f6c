"""Send claimed ledger rows and record each outcome the moment the server answers.

Messages are built in the calling thread. With one connection they are sent
there too; with ``smtp.connections`` > 1, worker threads (one SMTP
connection each) send them from a small bounded queue, so the next message
is being built while the server digests the last one. Either way a row is
marked sent in its own commit right after the server accepted it: at a crash
only the messages in flight (one per connection) can go out twice.

Over one SMTP connection, each message is built before the one ahead of it
is sent, so that the one ahead carries its envelope (``SmtpTransport.send``'s
``then``: one round trip a message); it is sent when the next is built, or
at ``close``. A worker thread does the same with a job already waiting in
the queue. Only the message being sent can be with the server unrecorded.

Messages are built in the line ends of the transport they go to (CRLF for
SMTP, LF for a Maildir) and in final form (``wire``), so no transport scans
them again. A Maildir transport stages its files and makes them durable once
per batch (``MaildirTransport.sync``); their rows are marked sent after that
sync, never before, and a re-run rewrites the same files (see deliver.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from ..config import Config, DigestConfig
from ..errors import DeliveryAborted
from ..model import Post
from ..observe import metrics
from ..store import Store
from ..timeutil import now_utc
from . import compose, ledger, wire
from .compose import EditionPlan
from .deliver import MaildirTransport, Outcome, SmtpTransport, Transport
from .dkim_signing import signer_for
from .message import MessageFactory
from .render import Rendered, Renderer
from .subscribers import ACTIVE, BOUNCE_AFTER

log = logging.getLogger(__name__)

MAX_TEMPORARY = 10  # consecutive messages left pending before the run gives up


class Variants:
    """Rendered variants of one edition, a bounded number kept (memory flat in subscribers)."""

    def __init__(
        self, cfg: Config, plan: EditionPlan, renderer: Renderer, posts: dict[int, Post]
    ) -> None:
        self.cfg, self.plan, self.renderer, self.posts = cfg, plan, renderer, posts
        self.cache: dict[compose.Variant, Rendered] = {}

    def get(self, variant: compose.Variant) -> Rendered:
        hit = self.cache.get(variant)
        if hit is None:
            view = compose.edition_view(self.cfg, self.plan, variant, self.posts)
            hit = self.renderer.render(view)
            if len(self.cache) >= 64:
                self.cache.pop(next(iter(self.cache)))
            self.cache[variant] = hit
        return hit


@dataclass(frozen=True)
class _Job:
    claim: ledger.Claim
    message_id: str
    data: bytes
    envelope: str  # the VERP return path


class Sender:
    def __init__(
        self,
        store: Store,
        digest: DigestConfig,
        plan: EditionPlan,
        variants: Variants,
        factory: MessageFactory,
        transports: list[Transport],
    ) -> None:
        self.store, self.digest, self.plan = store, digest, plan
        self.variants, self.factory, self.transports = variants, factory, transports
        self.signer = signer_for(factory.cfg.delivery.dkim)
        self.sent = self.bounced = self.temporary = 0
        self.first_file: str | None = None
        self.lock = threading.Lock()
        self.abort: DeliveryAborted | None = None
        self.queue: queue.Queue[_Job | None] | None = None
        self.linesep: bytes = getattr(transports[0], "linesep", wire.CRLF)
        self.unsynced: list[tuple[_Job, Outcome]] = []  # staged in a Maildir, not yet durable
        self.held: _Job | None = None  # built, sent with the next one's envelope (SMTP)
        self.threads: list[threading.Thread] = []
        if len(transports) > 1:
            self.queue = queue.Queue(maxsize=2 * len(transports))
            for i, tx in enumerate(transports):
                t = threading.Thread(
                    target=self._work, args=(tx,), name=f"digest-send-{i}", daemon=True
                )
                t.start()
                self.threads.append(t)

    @property
    def label(self) -> str:
        return self.transports[0].label

    def submit(self, c: ledger.Claim) -> None:
        """Skip, or build and send (or queue) one claimed row."""
        if self.abort is not None:
            raise self.abort
        sub = c.subscriber
        if sub.status != ACTIVE:
            ledger.mark_skipped(self.store, c, reason=f"subscriber {sub.status}", now=now_utc())
            return
        rendered = self.variants.get(compose.variant_for(self.plan, sub.categories))
        if rendered.item_count == 0:
            reason = "no posts in the chosen categories"
            ledger.mark_skipped(self.store, c, reason=reason, now=now_utc())
            return
        if self.signer is not None:  # signed in CRLF form (dkimpy canonicalizes that)
            message_id, data = self.factory.build(rendered, sub)
            data = self.signer.sign(data)
            if self.linesep != wire.CRLF:
                data = wire.mark(
                    data.replace(wire.CRLF, self.linesep),
                    linesep=self.linesep,
                    message_id=message_id,
                )
        else:
            message_id, data = self.factory.build(rendered, sub, self.linesep)
        job = _Job(c, message_id, data, self.factory.return_path(sub.id))
        if self.queue is not None:
            self.queue.put(job)
            return
        tx = self.transports[0]
        if isinstance(tx, MaildirTransport):
            outcome = tx.stage(job.envelope, sub.email, data, message_id)
            self.unsynced.append((job, outcome))
            if len(self.unsynced) >= tx.sync_every:
                self._sync(tx)
            return
        if isinstance(tx, SmtpTransport):
            # one message held back, so that the one sent now can carry its envelope
            held, self.held = self.held, job
            if held is not None:
                self._send_held(tx, held, then=(job.envelope, sub.email))
            return
        self._record(job, tx.send(job.envelope, sub.email, data))

    def _send_held(self, tx: SmtpTransport, job: _Job, then: tuple[str, str] | None) -> None:
        try:
            self._record(
                job, tx.send(job.envelope, job.claim.subscriber.email, job.data, then=then)
            )
        except DeliveryAborted as exc:
            self.abort = exc  # the next one, held, stays claimed: pending for the next run
            raise

    def _sync(self, tx: MaildirTransport) -> None:
        """The staged files made durable, then their rows marked sent (never the other way)."""
        staged, self.unsynced = self.unsynced, []
        tx.sync()
        for job, outcome in staged:
            self._record(job, outcome)

    def close(self) -> None:
        """Wait for the workers to finish what is queued; raise if delivery had to stop."""
        tx = self.transports[0]
        if self.unsynced and isinstance(tx, MaildirTransport):
            self._sync(tx)
        held, self.held = self.held, None
        if held is not None and self.abort is None and isinstance(tx, SmtpTransport):
            self._send_held(tx, held, then=None)
        if self.queue is not None:
            for _ in self.threads:
                self.queue.put(None)
            for t in self.threads:
                t.join()
            self.queue = None
        if self.abort is not None:
            raise self.abort

    def _work(self, tx: Transport) -> None:
        assert self.queue is not None
        job = self.queue.get()
        while job is not None:
            # a job already waiting is this worker's next: its envelope rides with this one
            waiting = True
            try:
                nxt = self.queue.get_nowait()
            except queue.Empty:
                waiting, nxt = False, None
            if self.abort is None:  # else left claimed: handed back as pending at the end
                try:
                    self._send_one(tx, job, nxt)
                except DeliveryAborted as exc:
                    self.abort = exc
                except Exception as exc:  # a bug must not hang the queue
                    log.exception("sender thread failed")
                    self.abort = DeliveryAborted(f"sender thread failed: {exc}")
            job = nxt if waiting else self.queue.get()

    def _send_one(self, tx: Transport, job: _Job, nxt: _Job | None) -> None:
        email = job.claim.subscriber.email
        if isinstance(tx, SmtpTransport):
            then = (nxt.envelope, nxt.claim.subscriber.email) if nxt is not None else None
            outcome = tx.send(job.envelope, email, job.data, then=then)
        else:
            outcome = tx.send(job.envelope, email, job.data)
        self._record(job, outcome)

    def _record(self, job: _Job, outcome: Outcome) -> None:
        c, store, now = job.claim, self.store, now_utc()
        if outcome.ok:
            ledger.mark_sent(store, c, message_id=job.message_id, location=outcome.detail, now=now)
            metrics.message(self.digest.name, "sent")
            with self.lock:
                self.sent += 1
                self.temporary = 0
                if self.first_file is None and outcome.code is None:  # a Maildir file
                    self.first_file = outcome.detail
            return
        email = c.subscriber.email
        if outcome.permanent:
            log.warning("%s: %s refused: %s", self.digest.name, email, outcome.detail)
            metrics.message(self.digest.name, "failed")
            if ledger.mark_failed(
                store, c, message_id=job.message_id, error=outcome.detail, now=now
            ):
                metrics.subscriber_bounced("delivery")
                with self.lock:
                    self.bounced += 1
                log.warning("%s: bounced (%d hard failures in a row)", email, BOUNCE_AFTER)
            return
        # set aside until the end of this run, then pending again for the next one
        ledger.defer(store, c, error=outcome.detail, now=now)
        metrics.message(self.digest.name, "deferred")
        with self.lock:
            self.temporary += 1
            give_up = outcome.connection or self.temporary >= MAX_TEMPORARY
        if give_up:
            raise DeliveryAborted(f"{self.label}: {outcome.detail}")
