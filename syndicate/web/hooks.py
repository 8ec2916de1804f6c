"""``POST /hooks/bounce``: relays that report bounces and complaints over HTTP.

The body is JSON: ``{"id": "…", "timestamp": 1764750000, "address": "…",
"kind": "bounce" | "complaint", "permanent": true, "reason": "…"}``. Its
HMAC-SHA256 under the key in ``$SYNDICATE_WEBHOOK_SECRET``
(``bounces.webhook_secret_env``) comes in ``X-Syndicate-Signature:
sha256=<hex>``. Refused: no or a wrong signature (401), a timestamp more
than five minutes away (400), an ``id`` already recorded (409: a replay,
which then changes nothing). What it says goes through the same rules as a
bounce read from the mailbox (``digest/feedback.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..digest import feedback
from ..digest.bounce_parse import Feedback
from ..digest.subscribers import normalize_address
from ..errors import StoreUnavailable
from ..timeutil import now_utc
from .rendering import PRIVATE
from .state import RETRY_AFTER, WebState

SIGNATURE = "x-syndicate-signature"
MAX_SKEW = 300  # seconds between the sender's clock and ours


def _answer(body: dict[str, Any], status: int, **extra: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**PRIVATE, **extra})


def sign(body: bytes, key: bytes) -> str:
    """The header value a sender puts on ``body`` (documented for relays and tests)."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _parse(data: Any) -> tuple[str, Feedback] | str:
    """(event id, what it says), or why the body is refused."""
    if not isinstance(data, dict):
        return "send a JSON object"
    event_id, address, kind = data.get("id"), data.get("address"), data.get("kind")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
        return "id: a string of 1 to 200 characters"
    if kind not in ("bounce", "complaint"):
        return "kind: bounce or complaint"
    permanent = data.get("permanent", True)
    if not isinstance(permanent, bool):
        return "permanent: true or false"
    if not isinstance(address, str):
        return "address: an e-mail address"
    try:
        email = normalize_address(address)
    except ValueError:
        return "address: not a valid e-mail address"
    reason = data.get("reason", "")
    reason = reason if isinstance(reason, str) else ""
    fb = Feedback(
        kind,
        permanent if kind == "bounce" else None,
        addresses=[email],
        reason=f"webhook: {reason}"[:500] if reason else f"webhook {kind}",
    )
    return event_id, fb


async def bounce(request: Request) -> Response:
    state: WebState = request.app.state.web
    secret = os.environ.get(state.cfg.bounces.webhook_secret_env, "").encode("utf-8")
    if not secret.strip():
        return _answer(
            {"error": "the webhook is not configured"}, 503, **{"retry-after": RETRY_AFTER}
        )
    body = await request.body()
    given = request.headers.get(SIGNATURE, "")
    if not given or not hmac.compare_digest(
        given.encode("ascii", "replace"), sign(body, secret).encode()
    ):
        return _answer({"error": "missing or wrong signature"}, 401)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _answer({"error": "the body is not JSON"}, 400)
    stamp = data.get("timestamp") if isinstance(data, dict) else None
    if not isinstance(stamp, int | float) or not abs(time.time() - stamp) <= MAX_SKEW:  # NaN too
        return _answer({"error": "timestamp: unix seconds, within 5 minutes of now"}, 400)
    parsed = _parse(data)
    if isinstance(parsed, str):
        return _answer({"error": parsed}, 400)
    event_id, fb = parsed
    key = "hook:" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()
    counts = feedback.FeedbackCounts()
    now = now_utc()
    try:
        fresh = await run_in_threadpool(
            state.store.write,
            lambda store: feedback.apply(
                state.cfg, store, fb, key=key, now=now, counts=counts, trusted=True
            ),
        )
    except StoreUnavailable:
        return _answer({"error": "try again later"}, 503, **{"retry-after": RETRY_AFTER})
    if not fresh:
        return _answer({"error": "this id was recorded before (a replay): nothing changed"}, 409)
    result = "unknown address" if counts.unknown else "recorded"
    return _answer(
        {"status": result, "bounced": counts.bounced, "unsubscribed": counts.unsubscribed}, 200
    )
