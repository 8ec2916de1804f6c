"""Render the server's own pages from ``templates/web/*.j2`` (Jinja2, autoescaped).

Each page is the site folder's ``web/<name>`` if there is one, else the
packaged default (see ``templating``).

Pages are Chinese first with English subtitles, in ``site.language``; they
carry no script and no external resources, so the strict CSP holds.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, PlainTextResponse

from ..config import Config
from ..templating import template as load_template

# token pages: never cached or indexed, and their URL (with its token) never sent on
PRIVATE = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
}
PUBLIC = {"cache-control": "public, max-age=300"}


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
        site=cfg.site, referrer=referrer, **context
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


def invalid_link() -> PlainTextResponse:
    """The one answer for a missing, malformed, forged or unknown token: it tells nothing."""
    return plain("400 链接无效 / This link is not valid.\n", 400)


def mask_address(address: str) -> str:
    """``z***@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
