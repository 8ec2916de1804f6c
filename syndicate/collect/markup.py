"""Markdown to HTML for post bodies: markdown-it.rs (Rust), raw HTML kept.

The seed site's bodies are HTML in Markdown, so raw HTML passes through as
kramdown (Jekyll's renderer) passes it; nh3 sanitizes afterwards
(``clean.py``). CommonMark with the ``table`` and ``strikethrough`` rules,
as markdown-it-py was configured before: ``~~x~~`` only, since Chinese text
writes ranges as ``3~5`` and kramdown's GFM parser strikes only ``~~x~~`` too;
no autolinking of bare URLs (kramdown has none).

Chosen by measurement on the example posts and 2,000 corpus posts, against
markdown-it-py (127 µs a post, pure Python): markdown-it.rs 11 µs, the same
HTML byte for byte (``tests/test_markup.py``); pulldown-cmark (pyromark,
6 µs) also strikes ``a ~b~ c``; cmark-gfm (19 µs) leaks its document tree
and rendered string on every call through the Python binding (20 MB per
2,000 posts: a 50,000-post cold collect grew to 700 MB).

Where it differs from markdown-it-py, it shows what the Jekyll page shows:
a paragraph's leading ideographic spaces (U+3000, the Chinese indent) are
kept, as kramdown keeps them (markdown-it-py stripped them as whitespace);
a link to an internationalized host is percent-encoded rather than
punycoded, and ``clean.absolute_url`` turns it into the punycode host it was.
``~~x~~`` is ``<s>``, as before (kramdown writes ``<del>``; both strike).
"""

from __future__ import annotations

from markdown_it_pyrs import MarkdownIt

EXTENSIONS = {".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".mdown"}
# the commonmark preset keeps raw HTML; one parser for the process: it holds no
# per-document state
_md = MarkdownIt("commonmark").enable_many(["table", "strikethrough"])


def render(text: str) -> str:
    return _md.render(text)
