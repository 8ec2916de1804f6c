"""The Starlette application: routes, the security middleware, plain error answers.

``create_app`` takes a loaded config so tests and ``syndicate serve`` build
the same app; the store is opened lazily (see ``state.StoreHandle``) so the
feeds are served even while the database is unreachable. Redirects are
relative (``redirects.py``): nothing here builds a URL from ``Host``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import i18n
from ..config import Config
from ..digest import tokens
from ..errors import SecretMissing, StoreUnavailable
from ..publish import layout
from ..store import Store, StoreError
from . import archive_pages, healthz, hooks, metrics_page, signup_pages, subscription
from .redirects import SlashRedirect
from .rendering import TRY_LATER
from .security import Guard
from .state import RETRY_AFTER, StoreHandle, WebState

log = logging.getLogger(__name__)
PRIVATE_PATHS = ("/unsubscribe", "/preferences", "/confirm", "/forget")
ROBOTS = "User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in PRIVATE_PATHS)


async def feed_file(request: Request) -> Response:
    state: WebState = request.app.state.web
    response = await run_in_threadpool(state.files.response, request, request.path_params["path"])
    if response is None:
        raise HTTPException(404)
    return response


async def site_file(request: Request) -> Response:
    """A file the jekyll-feed layout puts at the site root (``/feed.xml``, ``/feed/news.xml``)."""
    state: WebState = request.app.state.web
    relative = request.scope["path"].lstrip("/")
    response = await run_in_threadpool(state.files.response, request, relative)
    if response is None:
        raise HTTPException(404)
    return response


async def home(request: Request) -> Response:
    """The feeds index page that ``syndicate build`` wrote."""
    state: WebState = request.app.state.web
    index = layout.index_file(state.cfg)
    response = await run_in_threadpool(state.files.response, request, index)
    if response is None:
        text = i18n.gettext(state.cfg.site.language, "No feeds built yet: run `syndicate build`.")
        return PlainTextResponse(f"404 {text}\n", status_code=404)
    return response


async def to_feeds(request: Request) -> Response:
    return RedirectResponse("/feeds/", status_code=308)


async def robots(request: Request) -> Response:
    return PlainTextResponse(ROBOTS, headers={"cache-control": "public, max-age=86400"})


async def plain_error(request: Request, exc: Exception) -> Response:
    """Errors say their status and nothing else (no paths, no stack, no echo of the input)."""
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    phrase = _phrase(request.app.state.web.cfg.site.language, code)
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return PlainTextResponse(f"{code} {phrase}\n", status_code=code, headers=headers)


async def store_error(request: Request, exc: Exception) -> Response:
    """A store failure no handler caught is still a 503 to retry, never a success or a 500."""
    log.error("store error on %s: %s", request.scope["path"], exc)
    text = i18n.gettext(request.app.state.web.cfg.site.language, TRY_LATER)
    return PlainTextResponse(f"503 {text}\n", status_code=503, headers={"retry-after": RETRY_AFTER})


def _phrase(language: str, code: int) -> str:
    """The status in the site's language: the ones a reader can meet, else HTTP's own phrase."""
    phrases = {
        400: i18n.gettext(language, "Bad request"),
        404: i18n.gettext(language, "Not found"),
        405: i18n.gettext(language, "Method not allowed"),
        500: i18n.gettext(language, "Internal server error"),
    }
    return phrases.get(code) or HTTPStatus(code).phrase


def signing_key() -> bytes | None:
    try:
        return tokens.secret()
    except SecretMissing:
        return None


def create_app(cfg: Config, *, store: Store | None = None, key: bytes | None = None) -> Starlette:
    """The app for ``cfg``; without ``key``, SYNDICATE_SECRET (unset: token pages say 503)."""
    key = key or signing_key()
    if key is None:
        log.warning("SYNDICATE_SECRET is not set: unsubscribe and preference links answer 503")
    get_post = ["GET", "POST"]
    routes = [
        Route("/", home, methods=["GET"]),
        Route("/feeds", to_feeds, methods=["GET"]),
        Route("/feeds/{path:path}", feed_file, methods=["GET"]),
        Route("/unsubscribe", subscription.unsubscribe, methods=get_post),
        Route("/preferences", subscription.preferences, methods=get_post),
        Route("/forget", subscription.forget, methods=get_post),
        Route("/subscribe", signup_pages.subscribe, methods=[*get_post, "OPTIONS"]),
        Route("/confirm", signup_pages.confirm, methods=get_post),
        Route("/digests/", archive_pages.index, methods=["GET"]),
        Route("/digests/{name}/", archive_pages.listing, methods=["GET"]),
        Route("/digests/{name}/{file}", archive_pages.edition, methods=["GET"]),
        Route("/healthz", healthz.healthz, methods=["GET"]),
        Route("/metrics", metrics_page.metrics, methods=["GET"]),
        Route("/hooks/bounce", hooks.bounce, methods=["POST"]),
        Route("/robots.txt", robots, methods=["GET"]),
        *(Route(path, site_file, methods=["GET"]) for path in layout.served_routes(cfg)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, max_body=cfg.serve.max_body, form_targets=[cfg.public_url])],
        exception_handlers={
            HTTPException: plain_error,
            StoreUnavailable: store_error,
            StoreError: store_error,
            Exception: plain_error,
        },
    )
    # Starlette's slash redirect would build its Location from the Host header
    app.router.redirect_slashes = False
    app.router.default = SlashRedirect(app.router.routes, app.router.not_found)
    app.state.web = WebState(cfg, StoreHandle(cfg.store.url, store), key)
    return app
