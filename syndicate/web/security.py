"""Headers every response carries, and the limits every request must respect.

One ASGI middleware, so that no route can forget them: a 404, a 413 and a
feed get the same Content-Security-Policy, ``nosniff`` and Referrer-Policy.
Pages use no JavaScript at all, hence ``default-src 'none'`` and no
``script-src`` (a feed's page included); inline styles are allowed because
the pages carry their CSS inline, and ``'self'`` lets a feed opened as XML
load its ``feed.css``.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import url_origin
from .paths import raw_path_safe

CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    b"content-security-policy": CSP.encode("ascii"),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}


def _plain(code: int) -> PlainTextResponse:
    return PlainTextResponse(f"{code} {HTTPStatus(code).phrase}\n", status_code=code)


def _too_large() -> HTTPException:
    return HTTPException(413, "request body too large")


class Guard:
    """Security headers on every response; bodies capped; smuggled path separators refused.

    A body announced larger than ``max_body`` is refused before it is read;
    one that streams past it (chunked) fails the read with 413.
    """

    def __init__(
        self, app: ASGIApp, *, max_body: int, form_targets: list[str] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.headers = dict(HEADERS)
        # the sign-up forms post to the public URL, which may be another origin than this one
        origins = sorted({url_origin(u) for u in form_targets or [] if u})
        if origins:
            csp = CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(origins))
            self.headers[b"content-security-policy"] = csp.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers.items() if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_secured)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _too_large()
            return message

        await self.app(scope, capped_receive, send_secured)

    def _refusal(self, scope: Scope) -> PlainTextResponse | None:
        raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if not raw_path_safe(raw.split(b"?", 1)[0]):
            return _plain(404)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return _plain(400)
                if length > self.max_body:
                    return _plain(413)
        return None
