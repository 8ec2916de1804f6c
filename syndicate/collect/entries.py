"""A fetched feed's bytes → entries with a stable identity, dates and raw content.

feedparser only ever gets bytes here (wrapped in BytesIO: given ``bytes``
it would first try them as a *file name*, and given a URL string it would
fetch it itself). No ``Content-Location`` is passed, so feedparser leaves
relative guids as written: an id must not change when the feed moves.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import io
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from ..errors import DateError, FeedError
from ..text import strip_control
from ..timeutil import parse_date
from .charset import to_utf8

log = logging.getLogger(__name__)

MAX_ID = 900  # longer ids are hashed: the store's key column holds 1000 characters
MAX_ENTRY_TERMS = 50  # an upstream entry's categories past this are dropped, not stored
_WS_RE = re.compile(r"\s+")


@dataclass
class FeedEntry:
    """One upstream entry as written, before cleaning and before the store is asked."""

    base_id: str  # guid, else normalized link, else content hash (unique per fetch: see keys())
    link: str  # absolute http(s), or "" when the entry has none usable
    title: str  # plain text, may be empty
    html: str  # the body as sent (content, else summary): still untrusted
    author: str
    published: datetime | None
    updated: datetime | None
    categories: list[str]
    content_hash: str  # over everything written, to tell an edit from a re-fetch
    position: int = 0  # in the document, for messages


@dataclass
class ParsedFeed:
    title: str
    link: str
    entries: list[FeedEntry] = field(default_factory=list)
    bozo: str = ""  # why feedparser was unhappy, when it still found entries
    encoding: str = "utf-8"


def parse_feed(body: bytes, headers: dict[str, str], url: str, tz: tzinfo) -> ParsedFeed:
    """Parse one fetched feed; ``url`` (where it came from) resolves relative links."""
    decoded = to_utf8(body, headers)
    if decoded.label_ignored:
        ignored, used = decoded.label_ignored, decoded.encoding
        log.info("%s: encoding label %s ignored, read as %s", url, ignored, used)
    sent = {k: v for k, v in decoded.headers.items() if k != "content-location"}
    d = feedparser.parse(io.BytesIO(decoded.body), response_headers=sent)
    bozo = f"{type(d.get('bozo_exception')).__name__}: {d.get('bozo_exception')}" if d.bozo else ""
    if not d.entries and (d.bozo or not d.get("version")):
        raise FeedError(f"not a usable feed ({bozo or 'no RSS/Atom found'})")
    feed = d.feed
    link = _http_url(feed.get("link", ""), url) or url
    title = _plain(feed.get("title", ""), feed.get("title_detail"))
    parsed = ParsedFeed(title, link, bozo=bozo, encoding=decoded.encoding)
    for i, e in enumerate(d.entries, 1):
        parsed.entries.append(_entry(e, url, tz, i))
    return parsed


def _entry(e: Any, url: str, tz: tzinfo, position: int) -> FeedEntry:
    link = _http_url(e.get("link", ""), url)
    title = _plain(e.get("title", ""), e.get("title_detail"))
    body = _body(e)
    names = (t.get("label") or t.get("term") or "" for t in e.get("tags") or [])
    categories = [strip_control(_WS_RE.sub(" ", n)).strip() for n in names]
    # the first MAX_ENTRY_TERMS: each is a feed the entry is written into
    categories = [c for c in dict.fromkeys(categories) if c][:MAX_ENTRY_TERMS]
    author = _plain(e.get("author", ""), e.get("author_detail"))[:300]
    # dict.get: FeedParserDict answers a missing `updated` with `published` (and a warning)
    published_raw = dict.get(e, "published") or ""
    updated_raw = dict.get(e, "updated") or ""
    published = feed_date(published_raw, dict.get(e, "published_parsed"), tz)
    updated = feed_date(updated_raw, dict.get(e, "updated_parsed"), tz)
    if published is None:  # Atom's only date may be <updated>
        published = updated
    fingerprint = "\x1f".join(
        [title, link, body, published_raw, updated_raw, author, "\x1e".join(categories)]
    )
    content_hash = hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()
    guid = strip_control(str(e.get("id") or "")).strip()
    if guid:
        base_id = guid
    elif link:
        base_id = normalize_link(link)
    else:
        seed = "\x1f".join([title, published_raw or updated_raw, body])
        base_id = "sha256:" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()
    if len(base_id) > MAX_ID:
        base_id = "sha256:" + hashlib.sha256(base_id.encode("utf-8", "surrogatepass")).hexdigest()
    return FeedEntry(
        base_id, link, title, body, author, published, updated, categories, content_hash, position
    )


def _body(e: Any) -> str:
    """``content[0]`` when there is one, else the summary; plain text becomes a paragraph."""
    for detail in [*(e.get("content") or [])[:1], e.get("summary_detail")]:
        if detail and (detail.get("value") or "").strip():
            value: str = detail["value"]
            if "html" in (detail.get("type") or "text/html"):
                return value
            return "".join(
                f"<p>{html.escape(p.strip())}</p>" for p in value.split("\n\n") if p.strip()
            )
    return ""


def _plain(value: str, detail: Any) -> str:
    """Titles and names as text: HTML ones lose their tags and entities."""
    value = value or ""
    if detail and "html" in (detail.get("type") or ""):
        value = html.unescape(re.sub(r"<[^>]*>", "", value))
    return strip_control(_WS_RE.sub(" ", value)).strip()


def _http_url(value: str, base: str) -> str:
    """An absolute http(s) URL, or "" (``javascript:`` and friends never become a link)."""
    value = (value or "").strip()
    if not value:
        return ""
    if value.startswith("//"):
        value = "https:" + value
    absolute = urljoin(base, value)
    parts = urlsplit(absolute)
    return absolute if parts.scheme in ("http", "https") and parts.netloc else ""


def normalize_link(url: str) -> str:
    """The same article's link written differently → one id (case, fragment, utm_*, order)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{host}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def feed_date(raw: str, parsed: time.struct_time | None, tz: tzinfo) -> datetime | None:
    """The date as written, offset kept (+0800 stays +0800); feedparser's UTC struct last.

    A date written without an offset is read in the site's zone, as Jekyll
    does for local posts.
    """
    raw = (raw or "").strip()
    dt: datetime | None = None
    if raw:
        try:
            dt = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is None:
            try:
                dt = datetime.fromisoformat(raw)
            except ValueError:
                dt = None
        if dt is None:
            try:
                dt = parse_date(raw, tz)
            except DateError:
                dt = None
        if dt is not None and dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
    if dt is None and parsed is not None:
        try:
            dt = datetime(*parsed[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            dt = None
    return dt


def assign_keys(
    entries: list[FeedEntry], stored: Mapping[str, tuple[str, str]]
) -> list[tuple[str, FeedEntry]]:
    """Give every entry of one fetch its own key, even when the feed repeats a guid.

    ``stored`` maps the keys already in the store to their (link, content
    hash). Within a group of entries sharing an id:

    - the plain id stays with the entry the store already has under it (same
      content, else same link), else with the first in document order;
    - every other entry gets ``id#`` + 12 hex digits of a SHA-256 of its
      normalized link when no other entry of the group has that link, else of
      its content hash (so only a feed that repeats both guid and link gets
      keys that change with an edit);
    - an exact repeat (same content hash) is the same entry, dropped.

    The result does not depend on the order of the entries in the feed, so a
    reordered feed never swaps two posts.
    """
    groups: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.base_id, []).append(entry)
    keyed: dict[int, str] = {}
    used: set[str] = set(groups)
    for base, group in groups.items():
        link, content = stored.get(base, ("", ""))
        owner = (
            next((e for e in group if e.content_hash == content), None)
            or next((e for e in group if link and e.link == link), None)
            or group[0]
        )
        keyed[id(owner)] = base
        hashes = {owner.content_hash}
        links = Counter(normalize_link(e.link) for e in group if e.link)
        for e in group:
            if e is owner:
                continue
            if e.content_hash in hashes:
                log.info("entry %d repeats entry id %s exactly: dropped", e.position, base)
                continue
            hashes.add(e.content_hash)
            norm = normalize_link(e.link) if e.link else ""
            seeds = [norm] if norm and links[norm] == 1 else []
            for seed in [*seeds, e.content_hash]:
                key = f"{base}#{hashlib.sha256(seed.encode()).hexdigest()[:12]}"
                if key not in used:
                    keyed[id(e)] = key
                    used.add(key)
                    break
    return [(keyed[id(e)], e) for e in entries if id(e) in keyed]
