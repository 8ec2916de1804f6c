"""Render the server's own pages from ``templates/web/*.j2`` (Jinja2, autoescaped).

Each page is the site folder's ``web/<name>`` if there is one, else the
packaged default (see ``templating``).

Pages and plain answers speak ``site.language`` only (``i18n.py``: the
templates through Jinja's i18n extension, the plain texts here through
``i18n.gettext``); they carry no script and no external resources, so the
strict CSP holds.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, PlainTextResponse

from .. import i18n
from ..config import Config
from ..publish import layout
from ..templating import template as load_template
from .state import RETRY_AFTER

# token pages: never cached or indexed, and their URL (with its token) never sent on
PRIVATE = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
}
PUBLIC = {"cache-control": "public, max-age=300"}
# the texts of the 503 answers (translated when shown, in ``unavailable``)
NO_KEY = i18n.N_("Not available: the server has no signing key.")
TRY_LATER = i18n.N_("Temporarily unavailable, please try again later.")


def page(
    cfg: Config,
    template: str,
    *,
    status: int = 200,
    private: bool = True,
    referrer: str = "no-referrer",
    **context: Any,
) -> HTMLResponse:
    """A page; ``private`` ones (token pages) are neither cached nor indexed.

    ``referrer="same-origin"`` is for pages without a token whose form posts
    here: under ``no-referrer`` a browser would send ``Origin: null``.
    """
    html = load_template(f"web/{template}", cfg.templates, language=cfg.site.language).render(
        site=cfg.site, referrer=referrer, feeds_href=layout.index_path(cfg), **context
    )
    headers = dict(PRIVATE if private else PUBLIC)
    headers["referrer-policy"] = referrer
    return HTMLResponse(html, status_code=status, headers=headers)


def plain(
    text: str,
    status: int,
    *,
    private: bool = True,
    extra: dict[str, str] | None = None,
) -> PlainTextResponse:
    """A bare text answer: for errors and machine clients (RFC 8058 one-click)."""
    headers = dict(PRIVATE if private else {"cache-control": "no-cache"})
    return PlainTextResponse(text, status_code=status, headers={**headers, **(extra or {})})


def invalid_link(language: str) -> PlainTextResponse:
    """The one answer for a missing, malformed, forged or unknown token: it tells nothing."""
    text = i18n.gettext(language, "This link is not valid.")
    return plain(f"400 {text}\n", 400)


def unavailable(language: str, message: str, *, retry: bool = True) -> PlainTextResponse:
    """503 with ``message`` (``NO_KEY``, ``TRY_LATER``) in the site's language.

    ``retry``: the store is down for now, so say when to come back (Retry-After).
    """
    text = i18n.gettext(language, message)
    extra = {"retry-after": RETRY_AFTER} if retry else None
    return plain(f"503 {text}\n", 503, extra=extra)


def mask_address(address: str) -> str:
    """``z***@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
