"""Trailing-slash redirects with a relative ``Location``.

Starlette's ``redirect_slashes`` builds an absolute URL from the request,
that is from the ``Host`` header (and X-Forwarded-Proto): whatever the
client sent, so a forged Host turned ``/digests/daily`` into a redirect to
any site, one a shared cache might keep. This router default redirects
to the path alone (the browser keeps the origin it asked), and never to a
scheme-relative ``//host`` one.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

# RFC 3986 pchar delimiters and "/": left as they are, everything else percent-encoded
PATH_SAFE = "/:@!$&'()*+,;="


def other_slash(path: str) -> str:
    """The path with its trailing slash(es) removed, or with one added."""
    return path.rstrip("/") if path.endswith("/") else path + "/"


class SlashRedirect:
    """The router's default: 308 to the other spelling when a route takes it, else ``fallback``."""

    def __init__(self, routes: Sequence[BaseRoute], fallback: ASGIApp) -> None:
        self.routes = routes
        self.fallback = fallback

    def location(self, scope: Scope) -> str | None:
        other = other_slash(scope["path"])
        # "" (from "/" or "//") or "//host…" would leave this site
        if not other.startswith("/") or other.startswith("//"):
            return None
        trial = {**scope, "path": other}
        if not any(route.matches(trial)[0] is not Match.NONE for route in self.routes):
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        return quote(other, safe=PATH_SAFE) + (f"?{query}" if query else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        location = self.location(scope) if scope["type"] == "http" else None
        if location is None:
            await self.fallback(scope, receive, send)
            return
        await RedirectResponse(location, status_code=308)(scope, receive, send)
