"""markdown-it.rs (the collector's Markdown) gives what markdown-it-py gave.

The collector moved from markdown-it-py (pure Python, 127 µs a post) to
markdown-it.rs (11 µs). markdown-it-py stays a test dependency so that this file
can render every example post, the seed post and 2,000 benchmark-corpus posts
both ways and require the same cleaned body, summary, credit and original
link. The places where the two are known to differ are pinned below, each
with the reason the new answer is kept (see ``syndicate/collect/markup.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from markdown_it import MarkdownIt

from syndicate.collect import markup
from syndicate.collect.clean import Cleaned, clean_html
from syndicate.collect.posts import FRONT_MATTER_RE
from syndicate.config import CleanRules

from .conftest import ROOT
from .test_bench_corpus import corpus

RULES = CleanRules()
BASE = "https://finews.withounder.com/caijing/2022/01/27/x.html"


def _old(body: str) -> str:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md.render(body)


def _body(text: str) -> str:
    m = FRONT_MATTER_RE.match(text)
    assert m is not None
    return text[m.end() :]


def _bodies() -> Iterator[tuple[str, str]]:
    examples = sorted((ROOT / "examples" / "site").rglob("_posts/**/*.md"))
    assert len(examples) >= 35
    for path in [*examples, ROOT / "tests" / "data" / "000_d77b2b9e883b6d94.txt"]:
        yield path.name, _body(path.read_text(encoding="utf-8"))
    for post in corpus.posts(2000, 20, seed=0):
        yield post.name, _body(post.text)


def _fields(c: Cleaned) -> tuple[str, str, str, str]:
    return c.html, c.summary, c.source_name, c.original_url


def test_every_example_and_corpus_post_cleans_to_the_same_output() -> None:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    different = []
    count = 0
    for name, body in _bodies():
        count += 1
        old = clean_html(md.render(body), BASE, RULES)
        new = clean_html(markup.render(body), BASE, RULES)
        if _fields(old) != _fields(new):
            different.append(name)
    assert count == 2000 + 36 and not different, different[:10]


def test_the_raw_html_of_the_corpus_is_byte_identical() -> None:
    # stronger than the cleaned comparison, on the shape every real post has
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for post in corpus.posts(300, 20, seed=3):
        body = _body(post.text)
        assert markup.render(body) == md.render(body), post.name


@pytest.mark.parametrize(
    "source",
    [
        # tables: other whitespace; the alignment is dropped by nh3 either way
        "| a | b |\n|:-:|---|\n| 中 \\| 文 | 2 |",
        "<div>\n*x*\n</div>\n\n*y*",
        "1~3月和5~6月，涨幅3%~5%",  # single tildes are text, as in kramdown
        "```py\nx<y\n```",
        "[a]: http://u\n\n[a] and <http://finews.zning.xyz/x?infoCode=1&b=2>",
        "www.example.com http://bare.example",  # no autolinking of bare URLs (kramdown has none)
        "<script>alert(1)</script>\n\n*y*",  # passed to nh3, which drops it, as before
        "&copy; &#x4e2d; &bogus; x < y",
        "链接[文字](http://例子.中国/路径)",  # the host comes back as punycode (clean.absolute_url)
    ],
)
def test_edge_cases_clean_the_same(source: str) -> None:
    assert _fields(clean_html(markup.render(source), BASE, RULES)) == _fields(
        clean_html(_old(source), BASE, RULES)
    )


def test_known_differences_follow_kramdown() -> None:
    # ~~x~~ strikes as before; a single ~ is text, as in kramdown
    assert clean_html(markup.render("a ~~b~~ c ~d~"), BASE, RULES).html == (
        "<p>a <s>b</s> c ~d~</p>"
    )
    # the full-width indent of a Chinese paragraph is kept, as kramdown keeps it
    indented = "第一段\n\n\u3000\u3000第二段"
    assert "<p>\u3000\u3000第二段</p>" in clean_html(markup.render(indented), BASE, RULES).html
    assert "<p>第二段</p>" in clean_html(_old(indented), BASE, RULES).html


def test_rendering_keeps_no_memory() -> None:
    # the binding must free what it allocates: a cold collect renders every post
    import resource

    body = _body(next(iter(corpus.posts(1, 20, seed=5))).text)
    for _ in range(2000):
        markup.render(body)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20000):
        markup.render(body)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 20_000, f"{grown_kb} KB more after 20,000 renders"


def test_raw_html_passes_through_for_the_sanitizer() -> None:
    html = markup.render('<p onclick="x()">正文</p>\n\n<img src="a.png" onerror="y()">')
    assert "onclick" in html  # raw HTML is kept as kramdown keeps it ...
    cleaned = clean_html(html, BASE, RULES).html
    assert "onclick" not in cleaned and "onerror" not in cleaned  # ... and nh3 removes it
    assert 'src="https://finews.withounder.com/caijing/2022/01/27/a.png"' in cleaned
