"""``/subscribe`` and ``/confirm``: readers join on their own, with double opt-in.

``/subscribe``: GET shows the form; POST takes it (form-urlencoded or
multipart) or JSON (answered in JSON). The answer is the same for every
address, new or known (``digest/signups.py`` does the same work for all):
only a bad address, a limit (429 with Retry-After) or a refused origin
(403, ``origins.py``) answer differently, and none of those depends on
whether the address is subscribed. A filled honeypot field gets the normal
answer and nothing is stored or sent.

``/confirm``: GET never confirms (mail scanners and link previewers fetch
every link); it shows the one button, whose POST confirms. Both go through
``StoreHandle``, so a write is acknowledged only once it is in the store.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import i18n
from ..digest import options, signups, tokens
from ..digest.signups import LinkState, SignupRequest
from ..errors import ConfirmationUndeliverable, RateLimited, SignupInvalid, StoreUnavailable
from ..model import ConfirmResult
from ..store import Store
from ..timeutil import now_utc
from . import archive_pages, origins
from .rendering import NO_KEY, PRIVATE, TRY_LATER, mask_address, page, plain, unavailable
from .state import RETRY_AFTER, WebState

MAX_FIELDS = 400  # a box per category and digest, and the text fields
HONEYPOT = "website"
ACCEPTED = i18n.N_(
    "If the address is valid, a confirmation mail is on its way: press its button to start"
    " the subscription."
)


def served_form(
    state: WebState, store: Store | None, page_url: str, **extra: Any
) -> dict[str, Any]:
    """The form as this server's own pages carry it: posting here, with a form token."""
    token = tokens.make_form(int(time.time()), state.key) if state.key else ""
    return options.form_context(
        state.cfg, store, action="/subscribe", page_url=page_url, form_token=token, **extra
    )


def _unavailable(state: WebState, as_json: bool, reason: str) -> Response:
    """503: ``reason`` is ``NO_KEY`` or ``TRY_LATER``, said in the site's language."""
    if as_json:
        text = i18n.gettext(state.cfg.site.language, reason)
        return JSONResponse(
            {"error": text}, status_code=503, headers={**PRIVATE, "retry-after": RETRY_AFTER}
        )
    return unavailable(state.cfg.site.language, reason)


def _store_or_none(state: WebState) -> Store | None:
    try:
        return state.store.get()
    except StoreUnavailable:
        return None


async def _body(request: Request) -> tuple[dict[str, Any], bool] | Response:
    """The fields and whether they came as JSON; a Response for a body we do not take."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        return data, True
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form: FormData = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=4096)
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        if form.get("choices"):  # the form's boxes were there: what is ticked is the choice
            fields["categories"] = [v for v in form.getlist("category") if isinstance(v, str)]
            fields["digests"] = [v for v in form.getlist("digest") if isinstance(v, str)]
        # the daily-or-weekly radios of offer_weekly digests (read as the API's "weekly")
        fields[EDITIONS] = {
            k[len("edition-") :]: v for k, v in fields.items() if k.startswith("edition-")
        }
        return fields, False
    return plain("415 Unsupported Media Type\n", 415)


EDITIONS = " editions"  # the form's edition-<digest> radios (a key no JSON field can clash with)


def _weekly(data: dict[str, Any]) -> tuple[str, ...]:
    """The digests whose weekly edition was chosen: the form's radios, or the API's list."""
    radios = data.get(EDITIONS)
    if isinstance(radios, dict):
        if set(radios.values()) - {"day", "week"}:
            raise SignupInvalid(signups.INVALID)
        return tuple(d for d, v in radios.items() if v == "week")
    return _names(data, "weekly") or ()


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _names(data: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SignupInvalid(f"{key}: give a list of names")


def _consent_page(request: Request, data: dict[str, Any]) -> str:
    referer = request.headers.get("referer", "").split("?")[0].split("#")[0]
    return referer or _text(data, "page") or origins.request_origin(request) or ""


async def subscribe(request: Request) -> Response:
    state: WebState = request.app.state.web
    cors = origins.cors_headers(state.cfg, request)
    if request.method == "OPTIONS":  # a CORS preflight for the JSON API
        return Response(status_code=204, headers=cors)
    if request.method != "POST":
        store = await run_in_threadpool(_store_or_none, state)
        if state.key is None:
            return _unavailable(state, False, NO_KEY)
        form = served_form(state, store, "/subscribe")
        return page(
            state.cfg, "subscribe.html.j2", stage="form", signup=form, referrer="same-origin"
        )
    parsed = await _body(request)
    if isinstance(parsed, Response):
        return parsed
    data, as_json = parsed
    if state.key is None:
        return _unavailable(state, as_json, NO_KEY)
    key = state.key
    why = origins.refusal(
        state.cfg, request, form_token=_text(data, "ft"), json=as_json, key=key, now=time.time()
    )
    if why is not None:
        why = i18n.gettext(state.cfg.site.language, why)
        if as_json:
            return JSONResponse({"error": why}, status_code=403, headers={**PRIVATE, **cors})
        forbidden = i18n.gettext(state.cfg.site.language, "Forbidden")
        return plain(f"403 {forbidden}: {why}\n", 403)
    if not _text(data, HONEYPOT):
        try:
            req = SignupRequest(
                email=_text(data, "email"),
                name=_text(data, "name"),
                categories=_names(data, "categories"),
                digests=_names(data, "digests"),
                weekly=_weekly(data),
                method="api" if as_json else "form",
                page=_consent_page(request, data),
                client_ip=request.client.host if request.client else "",
            )
            now = now_utc()
            await run_in_threadpool(
                state.store.write,
                lambda store: signups.request(state.cfg, store, req, key=key, now=now),
            )
        except SignupInvalid as exc:
            message = i18n.gettext(state.cfg.site.language, str(exc))
            return await _invalid(state, request, data, as_json, message, cors)
        except RateLimited as exc:
            headers = {**PRIVATE, **cors, "retry-after": str(exc.retry_after)}
            message = i18n.gettext(state.cfg.site.language, str(exc))
            if as_json:
                body = {"error": message, "retry_after": exc.retry_after}
                return JSONResponse(body, status_code=429, headers=headers)
            response = page(
                state.cfg, "subscribe.html.j2", status=429, stage="limited", message=message
            )
            response.headers.update(headers)
            return response
        except (ConfirmationUndeliverable, StoreUnavailable):
            return _unavailable(state, as_json, TRY_LATER)
    if as_json:
        accepted = {"status": "pending", "message": i18n.gettext(state.cfg.site.language, ACCEPTED)}
        return JSONResponse(accepted, status_code=202, headers={**PRIVATE, **cors})
    return page(state.cfg, "subscribe.html.j2", stage="sent")


async def _invalid(
    state: WebState,
    request: Request,
    data: dict[str, Any],
    as_json: bool,
    message: str,
    cors: dict[str, str],
) -> Response:
    if as_json:
        return JSONResponse({"error": message}, status_code=400, headers={**PRIVATE, **cors})
    store = await run_in_threadpool(_store_or_none, state)
    form = served_form(
        state,
        store,
        _text(data, "page") or "/subscribe",
        email=_text(data, "email")[:320],
        name=_text(data, "name")[:200],
        error=message,
    )
    return page(
        state.cfg,
        "subscribe.html.j2",
        status=400,
        stage="form",
        signup=form,
        referrer="same-origin",
    )


# -- /confirm -----------------------------------------------------------------


def _newest(state: WebState, digests: tuple[str, ...]) -> dict[str, str] | None:
    """The newest archived edition of the digests the reader chose (any, if all).

    Editions of different digests are compared by the day they were sent
    (``archive_pages.Edition.sent_on``), never by their slot's text: ``2026-W01``
    sorts after ``2026-12-03`` as a string, though it was sent weeks earlier.
    """
    best: tuple[archive_pages.Edition, str] | None = None
    for d in state.cfg.digests:
        if digests and d.name not in digests:
            continue
        try:
            found = archive_pages.editions(state, d.name)
        except Exception:
            continue
        if found and (best is None or found[0].sent_on > best[0].sent_on):
            best = (found[0], d.name)
    if best is None:
        return None
    edition, name = best
    shown = i18n.format_slot(state.cfg.site.language, edition.date)
    return {"href": f"/digests/{name}/{edition.href}", "label": f"{name} · {shown}"}


async def confirm(request: Request) -> Response:
    state: WebState = request.app.state.web
    if state.key is None:
        return _unavailable(state, False, NO_KEY)
    key = state.key
    token = request.query_params.get("t", "")
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=10, max_part_size=1024)
        field = form.get("t")
        token = field if isinstance(field, str) else token
    now = now_utc()
    try:
        link, signup = await run_in_threadpool(
            lambda: signups.link_state(state.store.get(), token, key=key, now=now)
        )
        if request.method != "POST" or link is not LinkState.READY:
            return _confirm_page(state, link, signup, token, key, status_for=link)
        result, sub_id = await run_in_threadpool(
            state.store.write, lambda store: signups.confirm(store, token, key=key, now=now)
        )
    except StoreUnavailable:
        return _unavailable(state, False, TRY_LATER)
    stage = "expired" if result == ConfirmResult.GONE else str(result)
    assert signup is not None
    newest = await run_in_threadpool(_newest, state, signup.digests)
    prefs = f"/preferences?t={tokens.make(sub_id, key)}" if sub_id is not None else ""
    return page(
        state.cfg,
        "confirm.html.j2",
        stage=stage,
        address=mask_address(signup.email),
        newest=newest,
        preferences_url=prefs,
    )


def _confirm_page(
    state: WebState,
    link: LinkState,
    signup: Any,
    token: str,
    key: bytes,
    *,
    status_for: LinkState,
) -> Response:
    status = {LinkState.INVALID: 400, LinkState.EXPIRED: 410}.get(status_for, 200)
    address = mask_address(signup.email) if signup is not None else ""
    prefs = ""
    if link is LinkState.ALREADY and signup is not None and signup.subscriber_id is not None:
        prefs = f"/preferences?t={tokens.make(signup.subscriber_id, key)}"
    return page(
        state.cfg,
        "confirm.html.j2",
        status=status,
        stage=str(link),
        token=token,
        address=address,
        newest=None,
        preferences_url=prefs,
    )
