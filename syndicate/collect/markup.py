"""Markdown to HTML for post bodies: cmark-gfm (GitHub's C CommonMark), raw HTML kept.

The seed site's bodies are HTML in Markdown, so raw HTML passes through as
kramdown (Jekyll's renderer) passes it; nh3 sanitizes afterwards
(``clean.py``), which is why cmark's "unsafe" option is safe here. Only the
``table`` and ``strikethrough`` extensions are on, the strikethrough with two
tildes only: Chinese text writes ranges as ``3~5``, and kramdown's GFM parser
strikes only ``~~x~~`` too. No autolinking of bare URLs and no tag filter
(neither is kramdown's).

Chosen by measurement over markdown-it-py (127 µs a post, pure Python),
pulldown-cmark (pyromark, 6 µs, but it strikes single tildes) and
markdown-it.rs (11 µs, no release since 2024): 19 µs, and on the example
posts and 2,000 corpus posts the cleaned output is identical to
markdown-it-py's (``tests/test_markup.py``). Where the two differ, cmark is
the one that shows what the Jekyll page shows:

- ``~~x~~`` gives ``<del>`` (kramdown GFM: ``<del>``; markdown-it: ``<s>``);
- a paragraph's leading ideographic spaces (U+3000, the Chinese indent) are
  kept, as kramdown keeps them; markdown-it removed them;
- a link to an internationalized host is percent-encoded, not punycoded;
  ``clean.absolute_url`` turns it into the punycode host it was before.
"""

from __future__ import annotations

from cmarkgfm import cmark

_OPTIONS = cmark.Options.CMARK_OPT_UNSAFE | cmark.Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
_EXTENSIONS = ("table", "strikethrough")
EXTENSIONS = {".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".mdown"}


def render(text: str) -> str:
    html: str = cmark.markdown_to_html_with_extensions(
        text, options=_OPTIONS, extensions=list(_EXTENSIONS)
    )
    return html
