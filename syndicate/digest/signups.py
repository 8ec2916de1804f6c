"""Readers subscribe themselves: a sign-up, its confirmation mail, and the press that confirms.

The rules, in the order they are applied to a sign-up:

- one client (by a keyed hash of its IP) may sign up ``serve.limits.per_ip_hour``
  times an hour, and one address may be sent ``per_address_day`` confirmation
  mails a day; beyond either, ``RateLimited`` (429) and nothing is stored;
- the address and choices are validated as the importer does (``SignupInvalid``);
- a sign-up row is stored *pending* and the confirmation mail sent; whatever
  the address's state (new, pending, active, unsubscribed, bounced,
  forgotten) the same happens, so the answer tells nobody who is subscribed.

Nothing reaches ``subscribers`` before the reader presses the button of the
confirmation page (a POST: scanners only GET), so a pending address never
gets a digest. Confirming makes (or re-activates) the subscriber with the
choices of the sign-up and records the consent: method, page, keyed IP hash,
both times. A sign-up is deleted ``serve.pending_days`` after it was made,
confirmed or not; its link expires after ``serve.confirm.expires``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .. import i18n
from ..config import Config
from ..errors import (
    ConfirmationUndeliverable,
    DeliveryAborted,
    InvalidChoice,
    RateLimited,
    SignupInvalid,
)
from ..model import ConfirmResult, SubscriberStatus
from ..store import Store
from ..store.records import Consent, NewSubscriber, Signup
from ..text import display_name
from ..timeutil import parse_duration
from . import confirmation, options, tokens
from .deliver import Outcome, transport_for
from .dkim_signing import signer_for
from .subscribers import normalize_address

log = logging.getLogger(__name__)

METHODS = ("form", "api")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
MAX_PAGE = 500  # characters of the page a sign-up came from
# the preferences page's words (digest/options.py): marked, and translated by whoever answers
INVALID = i18n.N_("Invalid choice, please submit again.")


@dataclass(frozen=True)
class SignupRequest:
    """A sign-up as the web layer received it, not yet validated."""

    email: str
    name: str = ""
    categories: tuple[str, ...] | None = None  # None: not given, so every category
    digests: tuple[str, ...] | None = None
    method: str = "form"
    page: str = ""
    client_ip: str = ""
    weekly: tuple[str, ...] = ()  # digests (offer_weekly) whose weekly edition is chosen


class LinkState(StrEnum):
    """What a confirmation link is, before anything is pressed."""

    READY = "ready"  # genuine, in time, pending: the page shows the button
    INVALID = "invalid"  # not a token we made (tampered, truncated, another kind)
    EXPIRED = "expired"  # genuine, but past its time or cleaned up
    ALREADY = "already"  # genuine and confirmed before


def expire(cfg: Config, store: Store, now: datetime) -> int:
    """Delete sign-ups older than ``serve.pending_days``; how many went."""
    gone = store.delete_signups_before(now - timedelta(days=cfg.serve.pending_days))
    if gone:
        log.info("deleted %d sign-ups older than %d days", gone, cfg.serve.pending_days)
    return gone


def _retry_after(times: list[datetime], window: timedelta, now: datetime) -> int:
    """Seconds until the oldest counted event leaves the window (and one more is allowed)."""
    return int((times[0] + window - now).total_seconds()) + 1


def _choose(chosen: tuple[str, ...] | None, offered: list[str], what: str) -> tuple[str, ...]:
    if not offered:
        return ()
    if chosen is None:
        return ()  # nothing said: everything, also what is added later
    try:
        return options.normalize(list(chosen), offered, what)
    except InvalidChoice as exc:
        raise SignupInvalid(str(exc)) from None


def labels(cfg: Config, store: Store) -> dict[str, str]:
    cats, _ = options.available(cfg, store)
    return dict(cats)


def request(cfg: Config, store: Store, req: SignupRequest, *, key: bytes, now: datetime) -> int:
    """Store a pending sign-up and mail its confirmation; the sign-up's id.

    Raises ``RateLimited``, ``SignupInvalid`` or ``ConfirmationUndeliverable``
    (the mail server cannot be used at all, for anybody); otherwise the same
    thing happens for every address (see the module). Every attempt counts
    against the limits, whether its mail was accepted or refused, so the
    limits cannot tell a working address from a dead one; the limits are
    checked and the sign-up stored in one transaction behind the store's
    sign-up lock, so parallel requests cannot slip past them.
    """
    if req.method not in METHODS:
        raise ValueError(f"unknown sign-up method {req.method!r}")
    expire(cfg, store, now)
    try:
        email = normalize_address(req.email)
    except ValueError:
        raise SignupInvalid(i18n.N_("Please enter a valid e-mail address.")) from None
    cats, digests = options.available(cfg, store)
    chosen_cats = _choose(req.categories, [slug for slug, _ in cats], "category")
    chosen_digests = _choose(req.digests, digests, "digest")
    if set(req.weekly) - set(options.offered_weekly(cfg)):
        raise SignupInvalid(INVALID)
    limits = cfg.serve.limits
    ip = tokens.ip_hash(req.client_ip, key) if req.client_ip else ""
    with store.transaction() as tx:
        store.lock_signups(tx)
        if ip:
            recent = store.signup_times(tx, since=now - HOUR, ip_hash=ip)
            if len(recent) >= limits.per_ip_hour:
                raise RateLimited(
                    i18n.N_("Too many sign-ups from here, please try later."),
                    _retry_after(recent, HOUR, now),
                )
        asked = store.signup_times(tx, since=now - DAY, email=email)
        if len(asked) >= limits.per_address_day:
            raise RateLimited(
                i18n.N_(
                    "Several confirmation mails went to this address today: please check your"
                    " inbox or try tomorrow."
                ),
                _retry_after(asked, DAY, now),
            )
        signup_id = store.insert_signup(
            tx,
            email,
            display_name(req.name),
            chosen_cats,
            chosen_digests,
            method=req.method,
            page=req.page[:MAX_PAGE],
            ip_hash=ip,
            now=now,
            weekly=tuple(dict.fromkeys(req.weekly)),
        )
    signup = store.signup(signup_id)
    assert signup is not None
    outcome = _send(cfg, store, signup, key=key, now=now, names=dict(cats))
    if outcome.ok:
        store.mark_signup_mailed(signup_id, now)
    else:  # refused for this address, for good or for now: the answer stays the same
        log.info("confirmation for sign-up %d not accepted: %s", signup_id, outcome.detail)
    return signup_id


def expires_at(cfg: Config, signup: Signup) -> datetime:
    return signup.created_at + parse_duration(cfg.serve.confirm.expires)


def confirm_link(cfg: Config, signup: Signup, key: bytes) -> str:
    token = tokens.make_confirm(signup.id, int(expires_at(cfg, signup).timestamp()), key)
    return tokens.confirm_url(cfg.public_url, token)


def _send(
    cfg: Config, store: Store, signup: Signup, *, key: bytes, now: datetime, names: dict[str, str]
) -> Outcome:
    mail = confirmation.build(
        cfg,
        signup,
        link=confirm_link(cfg, signup, key),
        expires=expires_at(cfg, signup),
        labels=names,
        now=now,
    )
    relays = cfg.delivery.relays
    if relays:  # a reader is waiting for the answer: one retry at most, per relay
        quick = [r.model_copy(update={"retries": min(r.retries, 1)}) for r in relays]
        cfg = cfg.model_copy(update={"delivery": cfg.delivery.model_copy(update={"smtp": quick})})
    signer = signer_for(cfg.delivery.dkim)
    data = signer.sign(mail.data) if signer is not None else mail.data
    try:
        transport = transport_for(cfg)
        try:
            return transport.send(mail.sender, mail.recipient, data)
        finally:
            transport.close()
    except DeliveryAborted as exc:
        log.error("confirmation mail for sign-up %d not sent: %s", signup.id, exc)
        raise ConfirmationUndeliverable(str(exc)) from None


def link_state(
    store: Store, token: str, *, key: bytes, now: datetime
) -> tuple[LinkState, Signup | None]:
    """What the link is; changes nothing (this is what a GET shows)."""
    found = tokens.verify_confirm(token, key)
    if found is None:
        return LinkState.INVALID, None
    signup_id, expires = found
    signup = store.signup(signup_id)
    if signup is None:
        return LinkState.EXPIRED, None
    if signup.confirmed_at is not None:
        return LinkState.ALREADY, signup
    if now.timestamp() > expires:
        return LinkState.EXPIRED, signup
    return LinkState.READY, signup


def confirm(
    store: Store, token: str, *, key: bytes, now: datetime
) -> tuple[LinkState | ConfirmResult, int | None]:
    """Press the button: the subscriber's id when this press (or an earlier one) confirmed."""
    state, signup = link_state(store, token, key=key, now=now)
    if state is not LinkState.READY:
        sub_id = signup.subscriber_id if signup is not None else None
        return state, sub_id
    assert signup is not None
    result, sub_id = _confirm(store, signup.id, now)
    return result, sub_id


def _confirm(store: Store, signup_id: int, now: datetime) -> tuple[ConfirmResult, int | None]:
    """One transaction: the sign-up marked first (a second press finds it marked and
    changes nothing), then the subscriber made or brought back, and the record.

    Behind the sign-up lock, so two presses at once, or two sign-ups of one
    address confirmed at once, run one after the other.
    """
    with store.transaction() as tx:
        store.lock_signups(tx)
        signup = store.find_signup(tx, signup_id)
        if signup is None:
            return ConfirmResult.GONE, None
        if not store.mark_signup_confirmed(tx, signup.id, None, now):
            return ConfirmResult.ALREADY, signup.subscriber_id
        consent = Consent(
            method=signup.method,
            at=signup.created_at,
            page=signup.page or None,
            ip_hash=signup.ip_hash or None,
            confirmed_at=now,
        )
        existing = store.find_subscriber(tx, signup.email)
        if existing is None:
            new = NewSubscriber(
                signup.email,
                signup.name,
                signup.categories,
                signup.digests,
                signup.method,
                signup.weekly,
            )
            sub_id = store.insert_confirmed_subscriber(tx, new, consent, now)
            detail = f"signed up by {signup.method}"
        else:
            sub_id = existing.id
            was = existing.status
            store.update_subscriber(
                tx,
                sub_id,
                updated_at=now,
                name=signup.name or existing.name,
                categories=signup.categories,
                digests=signup.digests,
                weekly=signup.weekly,
                status=SubscriberStatus.ACTIVE,
                status_at=now if was != SubscriberStatus.ACTIVE else None,
                source=signup.method,
                hard_failures=0,
                chosen_at=now,
                consent=consent,
            )
            detail = f"signed up by {signup.method} (was {was})"
        store.set_signup_subscriber(tx, signup.id, sub_id)
        key = store.existing_forget_key(tx)
        if key is not None:  # a forgotten address that came back of its own accord
            store.unforget(tx, tokens.address_hash(signup.email, key))
        store.add_event(tx, sub_id, "confirmed", now, detail)
    return ConfirmResult.CONFIRMED, sub_id
