"""One polite HTTP GET of a feed: conditional, capped, timed, redirects followed by hand.

Redirects are followed here rather than by httpx so that a permanent move
(301/308) can be told from a temporary one (302/303/307): only a permanent
move may, after a while, replace the URL we store (see feedstate.py).
Nothing here raises for a bad fetch; every outcome is a :class:`FetchResult`.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import RefusedAddress, TooLarge
from .content_encoding import accept_encoding, decoder_for
from .guard import GuardedTransport, deadline

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10.0
PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"

Outcome = Literal["ok", "not_modified", "gone", "retry_later", "error"]


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    timeout: float = 20.0
    max_bytes: int = 15 * 1024 * 1024
    allow_private: bool = False


@dataclass
class FetchResult:
    outcome: Outcome
    url: str  # where the answer finally came from
    status: int | None = None
    # the target of the leading run of permanent redirects, if the chain began with one
    permanent: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    retry_after: timedelta | None = None
    error: str = ""

    @property
    def success(self) -> bool:
        return self.outcome in ("ok", "not_modified")


class Fetcher:
    """Shared clients (one that may reach private networks, one that may not).

    Two clients, not one, so a connection opened for an ``allow_private``
    source is never reused for a source that is not allowed there.
    """

    def __init__(self, user_agent: str, max_connections: int = 8) -> None:
        self.user_agent = user_agent
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._clients: dict[bool, httpx.Client] = {}
        self._lock = threading.Lock()  # fetch threads ask for clients concurrently

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _client(self, allow_private: bool) -> httpx.Client:
        with self._lock:
            if allow_private not in self._clients:
                self._clients[allow_private] = httpx.Client(
                    transport=GuardedTransport(allow_private, self._limits),
                    follow_redirects=False,
                    trust_env=False,
                    headers={"User-Agent": self.user_agent, "Accept-Encoding": accept_encoding()},
                )
            return self._clients[allow_private]

    def fetch(self, req: FetchRequest) -> FetchResult:
        with deadline(req.timeout):
            try:
                return self._follow(req)
            except RefusedAddress as exc:
                return FetchResult("error", req.url, error=f"refused: {exc}")
            except httpx.TimeoutException:
                return FetchResult("error", req.url, error=f"timed out after {req.timeout:g}s")
            except TooLarge:
                return FetchResult(
                    "error", req.url, error=f"body larger than {req.max_bytes:,} bytes"
                )
            except (httpx.HTTPError, ValueError, OSError) as exc:
                return FetchResult("error", req.url, error=f"{type(exc).__name__}: {exc}")

    def _follow(self, req: FetchRequest) -> FetchResult:
        client = self._client(req.allow_private)
        url, permanent, still_permanent = req.url, None, True
        started = time.monotonic()
        headers = {"Accept": ACCEPT}
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        for _hop in range(MAX_REDIRECTS + 1):
            left = max(0.001, req.timeout - (time.monotonic() - started))
            request = client.build_request(
                "GET",
                url,
                headers=headers,
                timeout=httpx.Timeout(left, connect=min(left, CONNECT_TIMEOUT)),
            )
            response = client.send(request, stream=True)
            try:
                status = response.status_code
                if status not in REDIRECTS:
                    result = self._answer(response, url, req)
                    result.permanent = permanent
                    return result
                location = response.headers.get("location", "").strip()
                if not location:
                    return FetchResult(
                        "error", url, status, error=f"HTTP {status} without Location"
                    )
                target = urljoin(url, location)
                if urlsplit(target).scheme not in ("http", "https"):
                    return FetchResult("error", url, status, error=f"redirect to {target!r}")
                still_permanent = still_permanent and status in PERMANENT
                if still_permanent:
                    permanent = target
                log.debug("%s: HTTP %d → %s", url, status, target)
                url = target
            finally:
                response.close()
        return FetchResult("error", url, error=f"more than {MAX_REDIRECTS} redirects")

    def _answer(self, response: httpx.Response, url: str, req: FetchRequest) -> FetchResult:
        status = response.status_code
        if status == 304:
            return FetchResult("not_modified", url, status)
        if status == 410:
            return FetchResult("gone", url, status, error="HTTP 410 Gone")
        if status in (429, 503):
            dates = response.headers.get_list("date")
            wait = retry_after(response.headers.get("retry-after"), dates[0] if dates else None)
            return FetchResult("retry_later", url, status, retry_after=wait, error=f"HTTP {status}")
        if not 200 <= status < 300:
            return FetchResult("error", url, status, error=f"HTTP {status}")
        body = read_body(response, req.max_bytes)
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers.pop("content-encoding", None)  # the body is decoded now
        return FetchResult(
            "ok",
            url,
            status,
            body=body,
            headers=headers,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )


def read_body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, refused as soon as raw or decoded bytes pass ``limit``."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(length)
    decoder = decoder_for(response.headers.get("content-encoding", ""))
    out = bytearray()
    raw = 0
    for chunk in response.iter_raw():
        raw += len(chunk)
        if raw > limit:
            raise TooLarge(raw)
        out += decoder.feed(chunk, limit - len(out))
    out += decoder.flush(limit - len(out))
    return bytes(out)


def retry_after(value: str | None, server_date: str | None) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date (measured against the server's own clock)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    base = datetime.now(UTC)
    if server_date:
        with contextlib.suppress(TypeError, ValueError):
            base = email.utils.parsedate_to_datetime(server_date)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    return max(timedelta(0), when - base)
