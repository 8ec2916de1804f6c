"""Slugs that are safe as file names and URL segments, pinyin for Chinese.

Invariant: every slug this module returns matches ``SLUG_RE``, is at most
``MAX_SLUG`` characters (a longer one is cut and given a stable hash of the
whole, so two long names stay two feeds) and is never a name that a file
system or this project's own output reserves (``con``, ``nul``, ``all``).
A category's or tag's name is at most ``MAX_NAME`` characters, cut the same way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from .errors import SlugError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80  # a feed file is <slug>.atom; file systems allow 255 bytes
MAX_NAME = 200  # a category's or tag's name: the store's name columns hold 200 characters
# Windows device names (a file `con.rss` cannot be opened there, whatever follows the
# dot) and the names of the files every build writes beside the category feeds
RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "all", "index", "feeds"]
    + [f"{dev}{n}" for dev in ("com", "lpt") for n in range(10)]
)
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_UNSAFE_RE = re.compile(r"[/\\\x00-\x1f\x7f]|^\.\.?$|\.\.")


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def is_slug(text: str) -> bool:
    """Already a slug this module could have returned, so it may be used as written."""
    return len(text) <= MAX_SLUG and text not in RESERVED and bool(SLUG_RE.match(text))


def fit(slug: str) -> str:
    """A ``SLUG_RE`` slug made safe in length and name (see the module docstring)."""
    if len(slug) > MAX_SLUG:
        digest = hashlib.sha1(slug.encode()).hexdigest()[:8]
        slug = f"{slug[: MAX_SLUG - 9].rstrip('-')}-{digest}"
    if slug in RESERVED:
        slug += "-1"
    return slug


def check_name(name: str) -> str:
    """Reject names that try to climb directories; everything else can be slugged.

    The name comes back as the store keeps it: at most ``MAX_NAME`` characters,
    a longer one cut and given a stable hash of the whole (as slugs are), so
    that every lookup by name uses the same form.
    """
    name = name.strip()
    if not name:
        raise SlugError("empty name")
    if _UNSAFE_RE.search(name):
        raise SlugError(f"unsafe name {name!r}")
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9].rstrip()}-{digest}"
    return name


def slugify(name: str) -> str:
    """``网信中国`` → ``wangxinzhongguo``; ``Tech News`` → ``tech-news``.

    Chinese syllables are joined without separators, as the site's own slugs
    are (``wangxinzhongguo``); Latin words keep hyphens between them.
    """
    name = check_name(name)
    # imported here: loading pypinyin's dictionaries costs ~150 ms, and a no-op
    # collect or build (every process start) never needs them
    from pypinyin import Style, lazy_pinyin

    parts: list[str] = []
    for chunk in re.split(r"(\s+)", name):
        if has_cjk(chunk):
            chunk = "".join(lazy_pinyin(chunk, style=Style.NORMAL, errors="default"))
        parts.append(chunk)
    text = unicodedata.normalize("NFKD", "".join(parts))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if not slug:
        raise SlugError(f"no usable characters in {name!r}")
    return fit(slug)
