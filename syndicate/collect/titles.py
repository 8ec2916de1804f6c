"""A post's title as text: HTML written in front matter is published as what it reads.

``title: "<b>要闻</b> 标题"`` is the text ``要闻 标题`` in every feed, page and
digest (the W3C Feed Validator warns "title should not contain HTML"
otherwise): tags are dropped (script and style with their content),
entities are decoded exactly once (``AT&amp;T`` → ``AT&T``; ``&amp;lt;`` →
``&lt;``) and whitespace runs become one space, as jekyll-feed's
``strip_html | normalize_whitespace`` does. ``plain_title`` is not idempotent
(a title whose text spells an entity would be decoded again), so the pass
over a store's old titles (``retitle_stored``) runs once per store, recorded
in ``meta`` in the same commit as the titles it rewrote.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)
# recorded in meta once a store's old titles are text
TITLES_VERSION = "1"
TITLES_KEY = "collect:titles"


def plain_title(raw: str) -> str:
    """The text a title reads as (see the module docstring)."""
    if "<" in raw or "&" in raw:
        import nh3  # only for a title with markup: a no-op collect never loads it

        # nh3 (html5ever) tokenizes as a browser does; with no tag allowed it keeps
        # only text, escaped, and html.unescape then decodes each entity once
        raw = html.unescape(nh3.clean(raw, tags=set()))
    return " ".join(raw.split())


def retitle_stored(store: Store, now: datetime) -> int:
    """Rewrite the stored titles of post files read before ``plain_title``; once per store.

    Posts read since are already text, and a file whose stat did not change
    is not read again, so without this pass an old store would keep
    publishing its HTML titles. Only titles with ``<`` or ``&`` can differ;
    their rows get ``changed_at = now``, so the next build renders the feeds
    that show them (and only those). Returns how many titles changed.
    """
    if store.get_meta(TITLES_KEY) == TITLES_VERSION:
        return 0
    changed = {
        post_id: plain
        for post_id, title in store.post_file_titles(marked_up=True)
        if (plain := plain_title(title)) != title
    }
    # the titles and the mark in one commit: plain_title must not decode a title twice
    store.set_post_titles(changed, changed_at=now, done=(TITLES_KEY, TITLES_VERSION))
    if changed:
        log.info("%d stored post titles rewritten as text", len(changed))
    return len(changed)
