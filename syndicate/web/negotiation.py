"""Who asks for a feed's URL: a browser (its HTML page) or a feed reader (the feed's bytes).

RFC 9110 12.5.1 proactive negotiation on ``Accept``, by q-values: a
request gets the page only when it prefers ``text/html`` strictly over
every type the feed could be sent as (its registered type, generic XML or
JSON). A missing ``Accept``, ``*/*`` alone or a tie is a feed reader: the
feed is what the URL names, and readers that send nothing must keep
getting it. Specific ranges win over ``type/*``, which wins over ``*/*``,
whatever their order in the header.

Hand-written because no dependency of syndicate parses ``Accept`` (Starlette
does not; werkzeug's ``MIMEAccept`` would be a whole framework for 40 lines).
"""

from __future__ import annotations

HTML = "text/html"
# what a reader may name when it asks for a feed, by the feed's suffix
FEED_TYPES: dict[str, tuple[str, ...]] = {
    ".rss": ("application/rss+xml", "application/xml", "text/xml"),
    ".atom": ("application/atom+xml", "application/xml", "text/xml"),
    ".json": ("application/feed+json", "application/json"),
}
MAX_RANGES = 64  # a longer header is read up to here: no browser sends half as many


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each media range; a malformed q counts as 0."""
    out = []
    for part in accept.split(",")[:MAX_RANGES]:
        media, *params = part.split(";")
        kind, _, sub = media.strip().lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        out.append((kind, sub, q))
    return out


def quality(ranges: list[tuple[str, str, float]], media_type: str) -> float:
    """The q the client gives ``media_type``: that of the most specific range matching it."""
    kind, _, sub = media_type.partition("/")
    best, rank = 0.0, -1
    for k, s, q in ranges:
        if (k, s) == (kind, sub):
            specificity = 2
        elif (k, s) == (kind, "*"):
            specificity = 1
        elif (k, s) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > rank:
            best, rank = q, specificity
    return best


def wants_page(accept: str | None, suffix: str) -> bool:
    """True when this ``Accept`` prefers the HTML page to the feed (``suffix``: ``.atom``…)."""
    types = FEED_TYPES.get(suffix.lower())
    if not accept or types is None:
        return False
    ranges = _ranges(accept)
    page = quality(ranges, HTML)
    return page > 0 and page > max(quality(ranges, t) for t in types)
