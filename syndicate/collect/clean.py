"""Shared cleaning for every body that reaches a feed or an e-mail.

Content is untrusted: nh3 (ammonia) sanitizes it first, then lxml takes off
the site chrome the seed site puts in every body (the source credit, the bare
original-article link, the trailing "返回…" navigation), and every URL is made
absolute. The summary is cut by characters at a sentence end, because Chinese
has no spaces to cut at.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import lxml.html
import nh3

from ..config import CleanRules
from ..text import strip_control

# Everything XML 1.0 cannot carry, plus lone surrogates.
_SENTENCE_END_RE = re.compile(r"(?:[。！？!?…]+[”’」』）)\"']*)|(?:\.[”’\"')]*(?=\s|$))")
_SEPARATORS_RE = re.compile(r"^[\s｜|/·•,，、\-–—]*$")
_BLOCKS = {"p", "div", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
    "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "abbr": {"title"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Cleaned:
    html: str
    summary: str
    source_name: str = ""
    original_url: str = ""


_cleaner: nh3.Cleaner | None = None


def sanitize(html: str) -> str:
    global _cleaner
    if _cleaner is None:
        # built once: nh3.clean() converts these sets to Rust on every call,
        # a third of its time on a typical post
        _cleaner = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel=None,
            strip_comments=True,
        )
    return _cleaner.clean(strip_control(html))


def absolute_url(url: str, base: str) -> str:
    """``//host/x`` → ``https://host/x``; relative → against ``base``."""
    url = url.strip()
    url = "https:" + url if url.startswith("//") else urljoin(base, url)
    return _punycode_host(url) if "%" in url else url


def _punycode_host(url: str) -> str:
    """A percent-encoded host (markdown-it.rs's form of ``http://例子.中国/``) as its IDNA name.

    Feed readers and mail clients all take ``xn--`` hosts; not all decode a
    percent-encoded one. Anything that does not decode to a valid name is left.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "%" not in host:
        return url
    try:
        name = unquote(host, errors="strict").encode("idna").decode("ascii")
        port = f":{parts.port}" if parts.port is not None else ""
    except (UnicodeError, ValueError):  # not a name, or a port out of range
        return url
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    return urlunsplit(parts._replace(netloc=netloc[:at] + name + port))


def _text(el: lxml.html.HtmlElement) -> str:
    # an element without children holds just its text: skip lxml's XPath string()
    # (most paragraphs are plain text, and every one is looked at several times)
    text = (el.text or "") if len(el) == 0 else el.text_content()
    # split() and re's \s agree on what whitespace is, and split is faster than a sub
    return " ".join(text.split())


def _is_autolink_para(el: lxml.html.HtmlElement) -> str | None:
    """A paragraph that is nothing but ``<http://…>``: the original article's URL."""
    if el.tag != "p" or len(el) == 0:  # no link inside: the common case, without a search
        return None
    links = el.findall(".//a")
    if el.tag != "p" or len(links) != 1:
        return None
    href = (links[0].get("href") or "").strip()
    text = _text(links[0])
    if href and text == href and _text(el) == text:
        return href
    return None


def _is_navigation(el: lxml.html.HtmlElement, nav_re: re.Pattern[str]) -> bool:
    if len(el) == 0:
        return False  # no links
    links = el.findall(".//a")
    if el.tag not in ("p", "div") or not links:
        return False
    if not all(nav_re.search(_text(a)) for a in links):
        return False
    rest = _text(el)
    for a in links:
        rest = rest.replace(_text(a), "", 1)
    return bool(_SEPARATORS_RE.match(rest))


@functools.lru_cache(maxsize=64)
def _pattern(pattern: str) -> re.Pattern[str]:
    # once per run, not per post: re.compile's own cache costs more than this lookup
    return re.compile(pattern)


def clean_html(html: str, base_url: str, rules: CleanRules) -> Cleaned:
    safe = sanitize(html)
    root = lxml.html.fragment_fromstring(safe or "", create_parent="div")
    credit_re = _pattern(rules.credit)
    nav_re = _pattern(rules.navigation)
    source_name = ""
    original_url = ""

    # Trailing navigation and empty paragraphs, from the end backwards.
    for el in reversed(list(root)):
        if _is_navigation(el, nav_re) or (el.tag in _BLOCKS and not _text(el) and not len(el)):
            _drop(el)
            continue
        break

    for el in list(root.iter("p", "div")):
        if source_name and (original_url or not rules.original_link):
            break  # both found: nothing below can change any more
        if el.getparent() is None:
            continue
        if not source_name:
            nested = len(el) != 0 and el.find(".//p") is not None
            m = credit_re.match(_text(el)) if not nested else None
            if m:
                source_name = (m.groupdict().get("name") or m.group(0)).strip()
                _drop(el)
                continue
        if rules.original_link and not original_url:
            href = _is_autolink_para(el)
            if href:
                original_url = absolute_url(href, base_url)
                _drop(el)

    for el in root.iter("a", "img"):
        attr = "href" if el.tag == "a" else "src"
        value = el.get(attr)
        if value is not None:
            el.set(attr, absolute_url(value, base_url))
        if el.tag == "img" and el.get("alt") is None:
            el.set("alt", "")

    body = _inner_html(root)
    # lazily: the summary needs the first paragraph or two, not all of them
    summary = summarize(_paragraph_texts(root), rules.summary_chars)
    return Cleaned(body.strip(), summary, source_name, original_url)


def _inner_html(root: lxml.html.HtmlElement) -> str:
    """The wrapper's text (as is) and its children serialized, without the wrapper.

    One ``tostring`` of the bare ``<div>`` wrapper gives the same bytes as one
    per child, for a fraction of the calls; with text before the first child
    that text is kept unescaped as it always was, so that path stays as it was.
    """
    if not root.text and not root.attrib:
        whole: str = lxml.html.tostring(root, encoding="unicode")
        if whole.startswith("<div>") and whole.endswith("</div>"):
            return whole[5:-6]
    return (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )


def _drop(el: lxml.html.HtmlElement) -> None:
    """Remove an element but keep its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    tail = (el.tail or "").strip()
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _paragraph_texts(root: lxml.html.HtmlElement) -> Iterator[str]:
    if root.text and root.text.strip():
        yield " ".join(root.text.split())
    for el in root:
        t = _text(el)
        if t:
            yield t
        if el.tail and el.tail.strip():
            yield " ".join(el.tail.split())


def summarize(paragraphs: Iterable[str], limit: int = 140) -> str:
    """First paragraph(s), at most ``limit`` characters, cut where a sentence ends."""
    text = ""
    for para in paragraphs:
        if len(text) > limit:
            break
        sep = "" if not text or text[-1] in "。！？…”」』）" else " "
        text = text + sep + para
    text = strip_control(text).strip()
    if len(text) <= limit:
        return text
    window = text[:limit]
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(window)]
    good = [e for e in ends if e >= limit * 0.3]
    if good:
        return window[: good[-1]].strip()
    cut = window[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6 and not re.search(r"[\u3400-\u9fff]", cut[space:]):
        cut = cut[:space]
    return cut.rstrip(" ，,、；;：:") + "…"
