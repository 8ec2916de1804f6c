"""Signed tokens: unsubscribe links (the subscriber id plus an HMAC of it), confirmation
links, form tokens, and the keyed hashes of client IPs and forgotten addresses.

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
from urllib.parse import quote, unquote

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


# -- sign-ups ---------------------------------------------------------------
# Each kind of token has its own purpose string, so a token of one kind is
# never accepted as another (an unsubscribe token is not a confirmation).

_CONFIRM = b"syndicate-confirm:v1:"
_FORM = b"syndicate-form:v1:"
_IP = b"syndicate-ip:v1:"
_CONFIRM_RE = re.compile(r"^([0-9a-z]{1,13})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$")
_FORM_RE = re.compile(r"^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$")


def _mac_of(purpose: bytes, text: str, key: bytes) -> str:
    digest = hmac.new(key, purpose + text.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def make_confirm(signup_id: int, expires: int, key: bytes) -> str:
    """``<sign-up id>.<expiry, unix seconds>.<mac>``, all but the mac in base 36."""
    body = f"{_base36(signup_id)}.{_base36(expires)}"
    return f"{body}.{_mac_of(_CONFIRM, body, key)}"


def verify_confirm(token: str, key: bytes) -> tuple[int, int] | None:
    """(sign-up id, expiry) of a genuine confirmation token, else None (expired or not)."""
    m = _CONFIRM_RE.match(token or "")
    if not m:
        return None
    body = f"{m.group(1)}.{m.group(2)}"
    if not _same(_mac_of(_CONFIRM, body, key), m.group(3)):
        return None
    return int(m.group(1), 36), int(m.group(2), 36)


def make_form(issued: int, key: bytes) -> str:
    """The token a form served by ``syndicate serve`` carries: when it was issued, signed."""
    body = _base36(issued)
    return f"{body}.{_mac_of(_FORM, body, key)}"


def form_issued(token: str, key: bytes) -> int | None:
    """When a genuine form token was issued (unix seconds), else None."""
    m = _FORM_RE.match(token or "")
    if not m or not _same(_mac_of(_FORM, m.group(1), key), m.group(2)):
        return None
    return int(m.group(1), 36)


def ip_hash(address: str, key: bytes) -> str:
    """A keyed hash of a client's IP: counts sign-ups per client, never stores the IP."""
    return hmac.new(key, _IP + address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def address_hash(email: str, key: str) -> str:
    """The keyed hash a forgotten address is remembered by (key: the store's forget key)."""
    return hmac.new(key.encode("ascii"), email.encode("utf-8"), hashlib.sha256).hexdigest()


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/confirm?t={quote(token, safe='')}"


# -- VERP -------------------------------------------------------------------
# The envelope sender of each digest carries the subscriber's id and a MAC in
# lower-case letters and digits only: mail systems may change the case of a
# local part, and a bounce must still name its subscriber.

_VERP = b"syndicate-verp:v1:"
_VERP_RE = re.compile(r"([0-9a-z]{1,13})-([0-9a-f]{16})", re.IGNORECASE)


def make_verp(subscriber_id: int, key: bytes) -> str:
    body = _base36(subscriber_id)
    mac = hmac.new(key, _VERP + body.encode("ascii"), hashlib.sha256).hexdigest()[:16]
    return f"{body}-{mac}"


def verify_verp(text: str, key: bytes) -> int | None:
    """The subscriber id of a VERP token found anywhere in ``text``, else None."""
    for m in _VERP_RE.finditer(text or ""):
        body, mac = m.group(1).lower(), m.group(2).lower()
        expected = hmac.new(key, _VERP + body.encode("ascii"), hashlib.sha256).hexdigest()[:16]
        if hmac.compare_digest(expected, mac):
            return int(body, 36)
    return None


_ANY_TOKEN_RE = re.compile(r"(?<![0-9A-Za-z])([0-9a-z]{1,13}\.[A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])")


def find_subscribers(text: str, key: bytes) -> list[int]:
    """Subscriber ids of every genuine unsubscribe token found anywhere in ``text``."""
    found = []
    # a mailto subject may stay percent-encoded (unsubscribe%20<token>)
    for m in _ANY_TOKEN_RE.finditer(unquote(text or "")):
        sid = verify(m.group(1), key)
        if sid is not None and sid not in found:
            found.append(sid)
    return found
