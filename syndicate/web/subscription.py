"""``/unsubscribe``, ``/preferences`` and ``/forget``: what the links in every digest lead to.

The token in the link is the only credential (an HMAC of the subscriber id,
compared in constant time by ``tokens.verify``): no login, no cookie, so no
session to forge across sites. A GET never changes anything, because mail
scanners and link previewers fetch every link they see; changes need a POST,
which only the confirmation form or an RFC 8058 one-click client sends.

Every change goes through ``StoreHandle.write``, so it is answered with
success only once it is in the store file the daemon reads; otherwise 503
with Retry-After, which mailbox providers retry.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from .. import i18n
from ..digest import options as prefs
from ..digest import privacy, tokens
from ..digest import subscribers as subs
from ..digest.subscribers import UNSUBSCRIBED, Subscriber
from ..errors import InvalidChoice, StoreUnavailable
from ..timeutil import now_utc
from .rendering import NO_KEY, TRY_LATER, invalid_link, mask_address, page, plain, unavailable
from .state import WebState

MAX_FIELDS = 200  # a preferences form has a box per category and digest, no more


async def _form(request: Request) -> FormData:
    """The POST body (form-urlencoded or multipart, as RFC 8058 allows), size-capped upstream."""
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=4096)


def _token(request: Request, form: FormData | None = None) -> str:
    value = request.query_params.get("t")
    if value is None and form is not None:
        field = form.get("t")
        value = field if isinstance(field, str) else None
    return value or ""


async def _subscriber(state: WebState, token: str) -> Subscriber | None:
    """The token's subscriber, or None for a token that is bad in any way (all alike)."""
    assert state.key is not None
    subscriber_id = tokens.verify(token, state.key)
    if subscriber_id is None:
        return None
    store = await run_in_threadpool(state.store.get)
    sub = await run_in_threadpool(subs.get_by_id, store, subscriber_id)
    if sub is not None and sub.status == subs.FORGOTTEN:
        return None  # erased on request: its links lead nowhere
    return sub


def _unconfigured(state: WebState) -> Response:
    return unavailable(state.cfg.site.language, NO_KEY, retry=False)


def _store_down(state: WebState) -> Response:
    return unavailable(state.cfg.site.language, TRY_LATER)


async def _open(
    request: Request,
) -> Response | tuple[WebState, FormData | None, str, Subscriber]:
    """What both pages start with: the key, the form, the token and its subscriber.

    Returns the response to send instead when any of them is missing or bad.
    """
    state: WebState = request.app.state.web
    if state.key is None:
        return _unconfigured(state)
    form = await _form(request) if request.method == "POST" else None
    token = _token(request, form)
    try:
        sub = await _subscriber(state, token)
    except StoreUnavailable:
        return _store_down(state)
    if sub is None:
        return invalid_link(state.cfg.site.language)
    return state, form, token, sub


async def unsubscribe(request: Request) -> Response:
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    state, form, token, sub = opened
    try:
        if request.method != "POST":  # GET and HEAD only look
            return page(
                state.cfg,
                "unsubscribe.html.j2",
                stage="done" if sub.status == UNSUBSCRIBED else "confirm",
                token=token,
                address=mask_address(sub.email),
            )
        subscriber_id, when = sub.id, now_utc()
        assert form is not None
        via = "one-click" if form.get("List-Unsubscribe") == "One-Click" else "web"
        await run_in_threadpool(
            state.store.write,
            lambda store: subs.set_status(store, subscriber_id, UNSUBSCRIBED, now=when, via=via),
        )
    except StoreUnavailable:
        return _store_down(state)
    assert form is not None
    if form.get("List-Unsubscribe") == "One-Click":  # RFC 8058: a machine, not a person
        return plain("unsubscribed\n", 200)
    return page(
        state.cfg, "unsubscribe.html.j2", stage="done", token=token, address=mask_address(sub.email)
    )


async def preferences(request: Request) -> Response:
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    state, form, token, sub = opened
    try:
        store = await run_in_threadpool(state.store.get)
        if sub.status != subs.ACTIVE:
            return page(state.cfg, "preferences.html.j2", stage="inactive", token=token)
        error, saved = "", False
        if form is not None:
            cats, digests = await run_in_threadpool(prefs.available, state.cfg, store)
            try:
                chosen_cats = (
                    prefs.normalize(
                        [v for v in form.getlist("category") if isinstance(v, str)],
                        [slug for slug, _ in cats],
                        "category",
                    )
                    if cats
                    else ()
                )
                chosen_digests = (
                    prefs.normalize(
                        [v for v in form.getlist("digest") if isinstance(v, str)],
                        digests,
                        "digest",
                    )
                    if digests
                    else ()
                )
                weekly = prefs.weekly_choice(state.cfg, sub.weekly, _fields(form))
            except InvalidChoice as exc:
                error = i18n.gettext(state.cfg.site.language, str(exc))
            else:
                subscriber_id, when = sub.id, now_utc()
                await run_in_threadpool(
                    state.store.write,
                    lambda store: prefs.set_preferences(
                        store, subscriber_id, chosen_cats, chosen_digests, when, weekly
                    ),
                )
                fresh: Subscriber | None = await run_in_threadpool(subs.get_by_id, store, sub.id)
                sub = fresh or sub
                saved = True
        options = await run_in_threadpool(prefs.choices, state.cfg, store, sub)
    except StoreUnavailable:
        return _store_down(state)
    return page(
        state.cfg,
        "preferences.html.j2",
        status=400 if error else 200,
        stage="form",
        token=token,
        address=mask_address(sub.email),
        options=options,
        saved=saved,
        error=error,
    )


def _fields(form: FormData) -> dict[str, str | None]:
    """The form's text fields, one value each (the daily-or-weekly radios)."""
    return {k: v if isinstance(v, str) else None for k, v in form.items()}


async def forget(request: Request) -> Response:
    """Delete my data: GET asks, POST erases (``digest/privacy.py``); the link then dies."""
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    state, _form, token, sub = opened
    if request.method != "POST":
        return page(
            state.cfg,
            "forget.html.j2",
            stage="confirm",
            token=token,
            address=mask_address(sub.email),
        )
    subscriber_id, when = sub.id, now_utc()
    try:
        await run_in_threadpool(
            state.store.write,
            lambda store: privacy.forget_id(store, subscriber_id, now=when),
        )
    except StoreUnavailable:
        return _store_down(state)
    return page(state.cfg, "forget.html.j2", stage="done", address=mask_address(sub.email))
