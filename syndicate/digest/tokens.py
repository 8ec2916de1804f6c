"""Unsubscribe tokens: the subscriber id plus an HMAC of it, so links need no stored secret.

A token is ``<id in base 36>.<22 chars of base64url HMAC-SHA256>``. The key is
``SYNDICATE_SECRET``; rotating it invalidates every link already mailed.
Subscriber ids are never reused (see ``store.subscribers``), so an old token
can never unsubscribe somebody else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from urllib.parse import quote

from ..errors import SecretMissing

ENV_SECRET = "SYNDICATE_SECRET"
_PURPOSE = b"syndicate-subscriber:v1:"
_TOKEN_RE = re.compile(r"^([0-9a-z]{1,13})\.([A-Za-z0-9_-]{22})$")


def secret(explicit: str | bytes | None = None) -> bytes:
    """The HMAC key; a clear error when it is missing, since links cannot be made without it."""
    value = explicit if explicit is not None else os.environ.get(ENV_SECRET, "")
    key = value.encode("utf-8") if isinstance(value, str) else value
    if not key.strip():
        raise SecretMissing(
            f"{ENV_SECRET} is not set: unsubscribe links are signed with it. "
            f"Set it to a long random string (e.g. `export {ENV_SECRET}=$(openssl rand -hex 32)`) "
            "and keep it: changing it breaks the links in mails already sent."
        )
    return key


def _mac(subscriber_id: int, key: bytes) -> str:
    digest = hmac.new(key, _PURPOSE + str(subscriber_id).encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def make(subscriber_id: int, key: bytes | None = None) -> str:
    """The token for a subscriber; the same id and key always give the same token."""
    if subscriber_id < 0:
        raise ValueError("subscriber ids are not negative")
    return f"{_base36(subscriber_id)}.{_mac(subscriber_id, key or secret())}"


def verify(token: str, key: bytes | None = None) -> int | None:
    """The subscriber id a token was made for, or None when it is forged or malformed."""
    m = _TOKEN_RE.match(token or "")
    if not m:
        return None
    subscriber_id = int(m.group(1), 36)
    expected = _mac(subscriber_id, key or secret())
    if not hmac.compare_digest(expected.encode("ascii"), m.group(2).encode("ascii")):
        return None
    return subscriber_id


def unsubscribe_url(site_url: str, token: str) -> str:
    return f"{site_url.rstrip('/')}/unsubscribe?t={quote(token, safe='')}"


def preferences_url(site_url: str, token: str) -> str:
    return f"{site_url.rstrip('/')}/preferences?t={quote(token, safe='')}"
