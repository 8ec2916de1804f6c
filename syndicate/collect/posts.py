"""Jekyll-style post files: ``_posts/YYYY-MM-DD-slug.ext`` with YAML front matter.

Reading follows Jekyll's own rules (file-name dates, ``category`` vs the
space-separated ``categories``, folders above ``_posts`` as categories,
``published: false``, future posts held back, the ``date`` permalink style and
jekyll-feed's ids) so that readers who followed the site's jekyll-feed see no
duplicate items. ``parse_file`` is a pure function of its arguments so that
it can run in worker processes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import safeyaml
from ..config import CleanRules, PostsSource, SiteConfig
from ..errors import DateError, SlugError, SourceError, YamlError
from ..model import ParsedPost, Rejection
from ..slugs import check_name
from ..terms import guess_slug
from ..text import strip_control
from ..timeutil import parse_date
from .titles import plain_title

# markdown-it.rs, nh3 and lxml (via .markup and .clean) are imported where a post is parsed: a
# collect that finds nothing changed only stats files, and starts sooner without them.

NAME_RE = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.+?)(\.[^.]+)$")
# matches exactly the names NAME_RE matches (greedy or lazy, the same strings), but
# without stepping through the name: scan() only needs a yes or no
_NAME_OK_RE = re.compile(r"^\d{2,4}-\d{1,2}-\d{1,2}-.+\.[^.]+$")
FRONT_MATTER_RE = re.compile(
    r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE
)
SKIP_DIRS = {".git", "_site", "node_modules", "vendor", ".jekyll-cache", ".sass-cache"}
# a longer guid (a permalink of hundreds of categories) is hashed, as an upstream
# entry's id is (entries.MAX_ID): the store's guid column holds 1000 characters
MAX_GUID = 900


@dataclass(slots=True)
class FileEntry:
    """One candidate file, from its stat alone (treat as read-only: use ``replace``).

    Not frozen: a frozen dataclass sets each field through ``object.__setattr__``,
    twice the cost, and a no-op collect of 50,000 posts makes 50,000 of these.
    """

    path: str  # absolute
    key: str  # relative to the site root, posix; the post's key in its source
    folder_categories: tuple[str, ...]
    size: int
    mtime_ns: int
    known_hash: str = ""


@dataclass(frozen=True)
class Skip:
    """Not a post now (``published: false``, future date): hidden, not an error."""

    reason: str


@dataclass(frozen=True)
class Unchanged:
    """Same bytes as stored although the file's stat changed (touch, checkout)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ParseContext:
    site_url: str
    timezone: str
    permalink: str
    rules: CleanRules
    future: bool
    now: datetime
    max_bytes: int
    max_categories: int = 50
    max_tags: int = 50
    known_categories: dict[str, str] = field(default_factory=dict)
    # tag names the store has already slugged: no need to check (pinyin) them again
    known_tags: frozenset[str] = frozenset()
    naive_utc: bool = False  # sources[].naive_dates: utc
    name_categories: bool = False  # sources[].permalink_categories: name


ParseResult = ParsedPost | Rejection | Skip | Unchanged


def site_root(source: PostsSource) -> tuple[Path, list[Path]]:
    path = Path(source.posts)
    if not path.is_dir():
        raise SourceError(f"{path}: posts folder not found")
    if path.name == "_posts":
        return path.parent, [path]
    found = []
    for dirpath, dirnames, _ in os.walk(path):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not (d.startswith(".") or d == "_site")
        )
        if "_posts" in dirnames:
            found.append(Path(dirpath) / "_posts")
            dirnames.remove("_posts")
        dirnames[:] = [d for d in dirnames if not d.startswith("_")]
    return path, found


def scan(source: PostsSource) -> Iterator[FileEntry | Rejection]:
    """Every candidate post file, without reading it: stat only."""
    root, post_dirs = site_root(source)
    # a symlink is followed only when its target stays inside the configured folder,
    # else a link to ~/.ssh/id_rsa with front matter would be published in the feeds
    inside = _Boundary(os.path.realpath(source.posts), source.follow_symlinks)
    for posts_dir in post_dirs:
        rel_parent = posts_dir.parent.relative_to(root).as_posix()
        folders = tuple(p for p in rel_parent.split("/") if p and p != ".")
        refused = inside.refuse(str(posts_dir), posts_dir.is_symlink())
        if refused:
            yield Rejection(posts_dir.relative_to(root).as_posix(), refused)
            continue
        yield from _walk(posts_dir, root, folders, set(), inside)


@dataclass(frozen=True, slots=True)
class _Boundary:
    root: str  # real path of the source folder
    follow: bool

    def refuse(self, path: str, is_link: bool) -> str:
        """Why the symlink at ``path`` is not followed ("" when it may be)."""
        if not is_link:
            return ""
        if not self.follow:
            return "symlink not followed (follow_symlinks: false)"
        target = os.path.realpath(path)
        if target != self.root and not target.startswith(self.root.rstrip("/") + "/"):
            return "symlink points outside the source folder; not followed"
        return ""


def _walk(
    directory: Path,
    root: Path,
    folders: tuple[str, ...],
    visited: set[tuple[int, int]],
    inside: _Boundary,
) -> Iterator[FileEntry | Rejection]:
    try:
        st = os.stat(directory)
    except OSError as exc:
        yield Rejection(str(directory), f"cannot read folder: {exc.strerror}")
        return
    ident = (st.st_dev, st.st_ino)
    if ident in visited:
        yield Rejection(str(directory), "symlink loop: folder already visited")
        return
    visited.add(ident)
    try:
        items = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield Rejection(str(directory), f"cannot list folder: {exc.strerror}")
        return
    # the key of every file is this folder's key plus its name: one pathlib
    # computation per folder, not per file (a no-op collect is mostly this loop)
    rel_dir = directory.relative_to(root).as_posix()
    prefix = "" if rel_dir == "." else rel_dir + "/"
    name_ok, stat_of, is_dir, is_reg = _NAME_OK_RE.match, os.stat, stat.S_ISDIR, stat.S_ISREG
    for item in items:
        name = item.name
        if name.startswith((".", "_", "#")) or name.endswith("~"):  # Jekyll ignores these
            continue
        rel = prefix + name
        try:
            st = stat_of(item.path)  # follows symlinks
        except OSError as exc:
            reason = "symlink loop" if exc.errno == 40 else f"cannot read: {exc.strerror}"
            if item.is_symlink() and not os.path.exists(item.path) and exc.errno != 40:
                reason = "broken symlink"
            yield Rejection(rel, reason)
            continue
        mode = st.st_mode
        if item.is_symlink():
            refused = inside.refuse(item.path, True)
            if refused:
                yield Rejection(rel, refused)
                continue
        if is_dir(mode):
            yield from _walk(Path(item.path), root, folders, visited, inside)
        elif is_reg(mode):
            if not name_ok(name):
                yield Rejection(rel, "not a post file name (expected YYYY-MM-DD-slug.ext)")
                continue
            yield FileEntry(item.path, rel, folders, st.st_size, st.st_mtime_ns)


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


_SCALARS = (str, int, float, bool, datetime, date)


def _text(fm: dict[str, Any], key: str) -> str:
    """A front-matter value that must be a single value, as text ("" when absent)."""
    value = fm.get(key)
    if value is None:
        return ""
    if not isinstance(value, _SCALARS):
        raise _Reject(f"{key}: expected text, got a {_kind(value)}")
    return str(value)


def _kind(value: object) -> str:
    kinds: dict[type, str] = {list: "list", dict: "mapping"}
    return kinds.get(type(value), type(value).__name__)


def _pluralized(fm: dict[str, Any], singular: str, plural: str) -> list[str]:
    """Jekyll's rule: ``category: A B`` is one name, ``categories: A B`` is two."""
    out: list[str] = []
    for key, split in ((singular, False), (plural, True)):
        value = fm.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            for v in value:
                if v is None:
                    continue
                if not isinstance(v, _SCALARS):
                    raise _Reject(f"{key}: each entry must be a name, got a {_kind(v)}")
                out.append(str(v))
        elif isinstance(value, _SCALARS):
            out.extend(str(value).split() if split else [str(value)])
        else:
            raise _Reject(f"{key}: expected a name or a list of names, got a {_kind(value)}")
    return out


def _author(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    if isinstance(value, list):
        return ", ".join(_author(v) for v in value if v)
    return str(value or "")


_PLACEHOLDERS: dict[str, Any] = {
    ":categories": lambda c, d, s, e: "/".join(c),
    ":year": lambda c, d, s, e: f"{d.year:04d}",
    ":short_year": lambda c, d, s, e: f"{d.year % 100:02d}",
    ":month": lambda c, d, s, e: f"{d.month:02d}",
    ":i_month": lambda c, d, s, e: str(d.month),
    ":day": lambda c, d, s, e: f"{d.day:02d}",
    ":i_day": lambda c, d, s, e: str(d.day),
    ":y_day": lambda c, d, s, e: f"{d.timetuple().tm_yday:03d}",
    ":hour": lambda c, d, s, e: f"{d.hour:02d}",
    ":minute": lambda c, d, s, e: f"{d.minute:02d}",
    ":second": lambda c, d, s, e: f"{d.second:02d}",
    ":week": lambda c, d, s, e: f"{d.isocalendar().week:02d}",
    ":short_day": lambda c, d, s, e: d.strftime("%a"),
    ":title": lambda c, d, s, e: s,
    ":slug": lambda c, d, s, e: s,
    ":output_ext": lambda c, d, s, e: e,
}


@functools.lru_cache(maxsize=64)
def _pattern_parts(pattern: str) -> tuple[str, ...]:
    """The pattern split into literal text (even places) and placeholders (odd places).

    Split once per pattern rather than substituted per post; a placeholder
    Jekyll does not know (or in another case) stays as written.
    """
    return tuple(re.split(r"(:[a-z_]+)", pattern, flags=re.IGNORECASE))


def permalink(
    pattern: str, *, categories: list[str], date: datetime, slug: str, ext: str = ".html"
) -> str:
    """Jekyll's URL placeholders; returns a site-relative path."""
    parts = list(_pattern_parts(pattern))
    for i in range(1, len(parts), 2):
        value = _PLACEHOLDERS.get(parts[i])
        if value is not None:
            parts[i] = value(categories, date, slug, ext)
    url = re.sub(r"/{2,}", "/", "/" + "".join(parts))
    return quote(url, safe="/:@!$&'()*+,;=-._~")


def jekyll_id(url: str, slug: str) -> str:
    """Jekyll's ``Document#id``: the URL's folder plus the slug, no extension."""
    folder = posixpath.dirname(url.rstrip("/")) or "/"
    return posixpath.join(folder, quote(slug, safe="-._~"))


def _front_date(value: object, tz: ZoneInfo, ctx: ParseContext) -> datetime:
    """A front-matter date; with ``naive_utc``, a time without an offset is UTC.

    That is Jekyll 4's reading (Psych's YAML timestamps; the post's URL then
    takes the local day of that instant), and the URL's day is in the id.
    A bare date stays local midnight, as in Jekyll.
    """
    if ctx.naive_utc and isinstance(value, datetime) and value.tzinfo is None:
        return parse_date(value, UTC).astimezone(tz)  # YAML made it a datetime
    if ctx.naive_utc and isinstance(value, str) and ":" in value:
        in_utc = parse_date(value, UTC)
        if in_utc != parse_date(value, tz):  # no offset was written
            return in_utc.astimezone(tz)
    return parse_date(value, tz)


def parse_file(entry: FileEntry, ctx: ParseContext) -> ParseResult:
    """Read one post file into a ParsedPost, or say why not."""
    if entry.size > ctx.max_bytes:
        return Rejection(entry.key, f"file too large ({entry.size:,} bytes > {ctx.max_bytes:,})")
    try:
        with open(entry.path, "rb") as fh:
            data = fh.read(ctx.max_bytes + 1)
            st = os.fstat(fh.fileno())
    except OSError as exc:
        return Rejection(entry.key, f"cannot read: {exc.strerror}")
    if len(data) > ctx.max_bytes:
        return Rejection(entry.key, f"file too large (> {ctx.max_bytes:,} bytes)")
    digest = hashlib.sha256(data).hexdigest()
    if entry.known_hash and digest == entry.known_hash:
        return Unchanged(st.st_size, st.st_mtime_ns)
    if b"\x00" in data[:8192]:
        return Rejection(entry.key, "binary file (contains NUL bytes)")
    text = _decode(data)
    if text is None:
        return Rejection(entry.key, "undecodable bytes (neither UTF-8 nor GB18030)")
    try:
        return _parse_text(entry, ctx, text, digest, st.st_size, st.st_mtime_ns)
    except _Reject as exc:
        return Rejection(entry.key, str(exc))
    except Exception as exc:  # one file's surprise must not stop the run
        return Rejection(entry.key, f"cannot parse: {type(exc).__name__}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


class _Reject(Exception):
    pass


def _parse_text(
    entry: FileEntry, ctx: ParseContext, text: str, digest: str, size: int, mtime_ns: int
) -> ParsedPost | Skip:
    name_match = NAME_RE.match(posixpath.basename(entry.key))
    assert name_match is not None  # scan() only yields matching names
    file_date, file_slug, ext = name_match.groups()
    m = FRONT_MATTER_RE.match(text)
    if not m:
        if text.startswith("---"):
            raise _Reject("front matter is not closed by a --- line")
        raise _Reject("no front matter (a post file starts with a --- line)")
    try:
        fm = safeyaml.load(m.group(1)) or {}
    except YamlError as exc:
        # +1: the front matter starts on the file's second line
        where = f" at line {exc.line + 1}" if exc.line is not None else ""
        raise _Reject(f"invalid YAML in front matter{where}: {exc.reason}") from None
    if not isinstance(fm, dict):
        raise _Reject("front matter is not a mapping of keys")
    if fm.get("published") is False:
        return Skip("published: false")

    tz = ZoneInfo(ctx.timezone)
    try:
        date = _front_date(fm["date"], tz, ctx) if fm.get("date") else parse_date(file_date, tz)
    except DateError as exc:
        raise _Reject(str(exc)) from None
    if not ctx.future and date > ctx.now:
        return Skip(f"dated in the future ({date.isoformat()}); held back until then")
    updated = None
    for key in ("last_modified_at", "updated", "modified"):
        if fm.get(key):
            try:
                updated = max(_front_date(fm[key], tz, ctx), date)
            except DateError as exc:
                raise _Reject(f"{key}: {exc}") from None
            break

    raw_cats = list(entry.folder_categories) + _pluralized(fm, "category", "categories")
    raw_tags = _pluralized(fm, "tag", "tags")
    # checked before any slug is made: a million names would stall the collect,
    # and each category is a feed the post is written into
    if len(raw_cats) > ctx.max_categories:
        raise _Reject(
            f"{len(raw_cats):,} categories (more than max_categories: {ctx.max_categories})"
        )
    if len(raw_tags) > ctx.max_tags:
        raise _Reject(f"{len(raw_tags):,} tags (more than max_tags: {ctx.max_tags})")
    try:
        cat_slugs = [_guess(c, ctx.known_categories) for c in raw_cats]
        for t in raw_tags:
            if check_name(t) not in ctx.known_tags:
                _guess(t, {})  # only to reject a name no slug can be made of
    except SlugError as exc:
        raise _Reject(f"bad category or tag: {exc}") from None
    raw_cats = _dedupe_by(raw_cats, cat_slugs)
    cat_slugs = list(dict.fromkeys(cat_slugs))

    from .clean import clean_html, summarize

    slug = strip_control(_text(fm, "slug") or file_slug).strip()
    if not slug or "/" in slug or ".." in slug:
        raise _Reject(f"unsafe slug {slug!r}")
    if fm.get("permalink"):
        url = "/" + _text(fm, "permalink").lstrip("/")
        url = quote(url, safe="/:@!$&'()*+,;=-._~%")
    else:
        # Jekyll's :categories is the names lowercased (UrlDrop#categories), once each
        in_url = list(dict.fromkeys(c.lower() for c in raw_cats)) if ctx.name_categories else None
        url = permalink(ctx.permalink, categories=in_url or cat_slugs, date=date, slug=slug)
    link = ctx.site_url + url
    guid = ctx.site_url + jekyll_id(url, slug)
    if len(guid) > MAX_GUID:
        guid = "sha256:" + hashlib.sha256(guid.encode("utf-8", "surrogatepass")).hexdigest()

    from . import markup

    body = text[m.end() :]
    html = markup.render(body) if ext.lower() in markup.EXTENSIONS else body
    cleaned = clean_html(html, link, ctx.rules)
    if not cleaned.html.strip():
        raise _Reject("empty body")
    summary = cleaned.summary
    for key in ("excerpt", "description", "summary"):
        if isinstance(fm.get(key), str) and fm[key].strip():
            plain = _plain(fm[key])
            summary = summarize([plain], ctx.rules.summary_chars) if plain else summary
            break
    title = plain_title(strip_control(_text(fm, "title")))
    return ParsedPost(
        key=entry.key,
        guid=guid,
        link=link,
        title=title,
        date=date,
        updated=updated,
        content_html=cleaned.html,
        summary=summary,
        categories=raw_cats,
        tags=list(dict.fromkeys(strip_control(t).strip() for t in raw_tags)),
        author=strip_control(_author(fm.get("author"))).strip(),
        source_name=strip_control(cleaned.source_name),
        original_url=cleaned.original_url,
        slug=slug,
        path=entry.path,
        size=size,
        mtime_ns=mtime_ns,
        content_hash=digest,
        guessed_slugs=cat_slugs,
    )


@functools.lru_cache(maxsize=4096)
def _new_slug(raw: str) -> str:
    """A slug for a name the store does not know yet; pinyin is the slow part of a parse.

    Pure in ``raw`` (``guess_slug`` with no known names), so it is cached:
    a site has a few dozen categories and tags over thousands of posts.
    """
    return guess_slug(raw, {})


def _guess(raw: str, known: dict[str, str]) -> str:
    """``guess_slug(raw, known)``, with the pinyin of unknown names cached."""
    name = check_name(raw)
    if name in known:
        return known[name]
    return _new_slug(raw)


def _dedupe_by(names: list[str], keys: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name, key in zip(names, keys, strict=True):
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def _plain(html: str) -> str:
    import lxml.html

    from .clean import sanitize

    safe = sanitize(html)
    if not safe.strip():
        return ""
    return re.sub(
        r"\s+", " ", lxml.html.fragment_fromstring(safe, create_parent="div").text_content()
    ).strip()


def context(
    site: SiteConfig,
    source: PostsSource,
    now: datetime,
    known: dict[str, str],
    known_tags: frozenset[str] = frozenset(),
) -> ParseContext:
    return ParseContext(
        site_url=site.url,
        timezone=site.timezone,
        permalink=site.permalink_pattern,
        rules=source.clean,
        future=source.future,
        now=now,
        max_bytes=source.max_bytes,
        max_categories=source.max_categories,
        max_tags=source.max_tags,
        known_categories=known,
        known_tags=known_tags,
        naive_utc=source.naive_dates == "utc",
        name_categories=source.permalink_categories == "name",
    )
