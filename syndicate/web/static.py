"""Serve the built files (feeds, their pages, OPML, index page, archive) with validators and gzip.

Feed readers poll every few minutes; a 304 costs almost nothing, so every
file gets a strong ETag (a hash of its bytes, computed once per file version
and cached by path, inode, mtime and size) and a Last-Modified. Starlette's
StaticFiles is not used: its ETag is derived from mtime and size, which a
rebuild writing the same bytes would keep but a copied tree would not, and
it cannot negotiate. A feed's URL has two representations: the feed, and
for a browser (``negotiation.wants_page``) the feed's HTML page that the
build wrote beside it (``<key>.html``); each has its own ETag (the hash of
its own bytes) and both say ``Vary: Accept``, so a cache or a conditional
GET never mixes them up.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from threading import Lock

from starlette.requests import Request
from starlette.responses import Response

from .negotiation import FEED_TYPES, wants_page
from .paths import resolve_inside

CACHE_CONTROL = "public, max-age=300"
# a feed's page under the feed's URL: never kept by a shared cache, so that a CDN
# that ignores Vary: Accept can never hand the page to a feed reader
PAGE_CACHE_CONTROL = "private, max-age=300"
TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".opml": "text/x-opml",
    ".html": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".css": "text/css",
}
BINARY = "application/octet-stream"
KINDS = {"application/rss+xml": ".rss", "application/atom+xml": ".atom"}
GZIP_MIN = 256  # below this, gzip's header costs more than it saves
CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class _Version:
    etag: str  # the hex digest, without quotes
    gz: bytes | None = None


class _Cache:
    """Hashes (and gzip bodies) per file version; bounded, thread-safe."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, int, int, int], _Version] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, int, int, int]) -> _Version | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, int, int, int], version: _Version) -> None:
        with self.lock:
            self.items[key] = version
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def accepts_gzip(header: str) -> bool:
    """RFC 9110 content negotiation, enough of it: ``gzip;q=0`` means no."""
    star = None
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def media_type(path: Path, feed_types: dict[str, str] | None = None) -> str:
    """``feed_types``: suffixes that are feeds in this layout (jekyll-feed's Atom is .xml)."""
    suffix = path.suffix.lower()
    base = (feed_types or {}).get(suffix) or TYPES.get(suffix, BINARY)
    return base if base == BINARY else f"{base}; charset=utf-8"


def _compressible(content_type: str) -> bool:
    return content_type != BINARY


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), any encoding suffix of ours accepted."""
    if header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.removesuffix("-gzip") == etag:
            return True
    return False


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return int(mtime) <= since.timestamp()


class FileServer:
    """Answers GET and HEAD for the files under one folder."""

    def __init__(
        self, root: Path, cache: _Cache | None = None, feed_types: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.cache = cache or _Cache()
        self.feed_types = feed_types or {}
        # a layout's own feed suffix (.xml) negotiates as the format it holds
        self.kinds = {s: KINDS[t] for s, t in self.feed_types.items() if t in KINDS}

    def response(self, request: Request, relative: str) -> Response | None:
        """The file's response (200 or 304), or None when there is no such file here.

        A feed asked for by a browser is answered with its page, when the
        build wrote one; a feed that does not exist has no page either.
        """
        target = resolve_inside(self.root, relative)
        if target is None:
            return None
        suffix = target.suffix.lower()
        kind = self.kinds.get(suffix, suffix)
        negotiated = kind in FEED_TYPES
        if negotiated and wants_page(request.headers.get("accept"), kind) and target.is_file():
            page = resolve_inside(self.root, relative[: -len(suffix)] + ".html")
            if page is not None:
                answer = self._file(request, page, negotiated=True)
                if answer is not None:
                    return answer
        return self._file(request, target, negotiated=negotiated)

    def _file(self, request: Request, target: Path, *, negotiated: bool) -> Response | None:
        try:
            with open(target, "rb") as fh:
                st = os.fstat(fh.fileno())
                key = (str(target), st.st_ino, st.st_mtime_ns, st.st_size)
                version = self.cache.get(key)
                data = None
                if version is None:
                    data = fh.read()
                    version = _Version(hashlib.sha256(data).hexdigest()[:32])
                    self.cache.put(key, version)
                if self._fresh(request, version.etag, st.st_mtime):
                    return self._not_modified(request, target, version.etag, st, negotiated)
                if data is None:
                    data = fh.read()
        except OSError:  # vanished or unreadable between the check and the read
            return None
        return self._full(request, target, key, version, data, st.st_mtime, negotiated)

    @staticmethod
    def _fresh(request: Request, etag: str, mtime: float) -> bool:
        inm = request.headers.get("if-none-match")
        if inm is not None:  # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since
            return _etag_matches(inm, etag)
        ims = request.headers.get("if-modified-since")
        return ims is not None and _not_modified_since(ims, mtime)

    def _headers(self, target: Path, etag: str, mtime: float, negotiated: bool) -> dict[str, str]:
        content_type = media_type(target, self.feed_types)
        headers = {
            "content-type": content_type,
            "etag": f'"{etag}"',
            "last-modified": formatdate(mtime, usegmt=True),
            "cache-control": CACHE_CONTROL,
        }
        vary = []
        if _compressible(content_type):
            vary.append("Accept-Encoding")
        if negotiated:
            vary.append("Accept")
            if target.suffix.lower() == ".html":
                headers["cache-control"] = PAGE_CACHE_CONTROL
        if target.suffix.lower() == ".html":
            # built pages hold no token; their sign-up form needs the browser to send
            # its real Origin, which it replaces by "null" under no-referrer
            headers["referrer-policy"] = "same-origin"
        if vary:
            headers["vary"] = ", ".join(vary)
        return headers

    def _not_modified(
        self, request: Request, target: Path, etag: str, st: os.stat_result, negotiated: bool
    ) -> Response:
        headers = self._headers(target, etag, st.st_mtime, negotiated)
        if self._gzip_ok(request, headers, st.st_size):
            headers["etag"] = f'"{etag}-gzip"'
        del headers["content-type"]
        return Response(status_code=304, headers=headers)

    @staticmethod
    def _gzip_ok(request: Request, headers: dict[str, str], size: int) -> bool:
        return (
            _compressible(headers["content-type"])
            and size >= GZIP_MIN
            and accepts_gzip(request.headers.get("accept-encoding", ""))
        )

    def _full(
        self,
        request: Request,
        target: Path,
        key: tuple[str, int, int, int],
        version: _Version,
        data: bytes,
        mtime: float,
        negotiated: bool,
    ) -> Response:
        headers = self._headers(target, version.etag, mtime, negotiated)
        body = data
        if self._gzip_ok(request, headers, len(data)):
            if version.gz is None:
                # mtime=0: the same bytes always give the same gzip body
                version = _Version(version.etag, gzip.compress(data, compresslevel=6, mtime=0))
                self.cache.put(key, version)
            assert version.gz is not None
            body = version.gz
            headers["content-encoding"] = "gzip"
            headers["etag"] = f'"{version.etag}-gzip"'
        headers["content-length"] = str(len(body))
        if request.method == "HEAD":
            body = b""
        return Response(content=body, status_code=200, headers=headers)
