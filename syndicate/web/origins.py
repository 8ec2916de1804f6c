"""Who may post the sign-up form: the origin check and the CORS answers of ``/subscribe``.

A browser names the page a POST comes from in ``Origin`` (else, in older
ones, ``Referer``). A POST is accepted when that origin is

- one of ``serve.allowed_origins`` (default: the site's own) or the public
  URL's, so the site's pages and the pasted snippet can post;
- this server's own (``Origin`` equal to the ``Host`` the browser sent; an
  attacker's page cannot make a browser send another site's host), so
  the index page served here can post;

``Origin: null`` (a sandboxed frame, or a page that hides where it is) is
refused: this server's own pages carry ``Referrer-Policy: same-origin``, so
browsers send their real origin. A request that names no origin at all (an
old browser, a privacy tool that strips both headers, a script on a server)
must carry a valid signed form token, which forms served by this server
have, or be JSON (a browser sends cross-site JSON only after a CORS
preflight, which only allowed origins pass). Everything else is 403. There
is no session, so none of this guards a secret: it keeps other sites from
collecting sign-ups through our form.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from .. import i18n
from ..config import Config, url_origin
from ..digest import tokens

FORM_TOKEN_LIFETIME = 24 * 3600  # seconds a served form stays usable


def request_origin(request: Request) -> str | None:
    """The origin the request says it comes from, or None (absent, or ``null``)."""
    origin = request.headers.get("origin", "").strip()
    if origin and origin != "null":
        return origin.lower()
    referer = request.headers.get("referer", "").strip()
    if referer and urlsplit(referer).scheme in ("http", "https"):
        return url_origin(referer)
    return None


def _own(request: Request, origin: str) -> bool:
    host = request.headers.get("host", "").strip().lower()
    return bool(host) and urlsplit(origin).netloc == host


def allowed(cfg: Config, origin: str) -> bool:
    """An origin the configuration lets post cross-site."""
    return origin in cfg.allowed_origins


def refusal(
    cfg: Config, request: Request, *, form_token: str, json: bool, key: bytes, now: float
) -> str | None:
    """Why this POST may not sign anybody up, or None when it may.

    The reason is an English message id: the answer translates it.
    """
    if request.headers.get("origin", "").strip() == "null":
        # an opaque origin: a sandboxed frame, or a page that hides where it is
        return i18n.N_("cross-site request from an opaque origin (Origin: null)")
    origin = request_origin(request)
    if origin is not None:
        if allowed(cfg, origin) or _own(request, origin):
            return None
        return i18n.N_("cross-site request from an origin that is not allowed")
    if json:
        return None
    issued = tokens.form_issued(form_token, key)
    if issued is not None and 0 <= now - issued <= FORM_TOKEN_LIFETIME:
        return None
    return i18n.N_("form token missing or expired: reload the page and try again")


def cors_headers(cfg: Config, request: Request) -> dict[str, str]:
    """The CORS headers for an allowed cross-site caller (none for anybody else)."""
    origin = request.headers.get("origin", "").strip().lower()
    if not origin or not allowed(cfg, origin):
        return {"vary": "Origin"}
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "600",
        "vary": "Origin",
    }
