"""Turn a ``JekyllSite`` into a commented ``schedule.yaml`` and write it.

The file is text made here, not ``yaml.dump`` of a dict, because its point
is the comments: each setting says which ``_config.yml`` key it came from,
so the operator can check it and knows what to change. Every value is
written as a JSON scalar or list, which YAML reads back as written.

Invariants: the text is loaded with ``config.loads`` (the same validation as
every command) before anything is written, so init never leaves a file that
``syndicate run`` refuses; an existing file is kept unless ``force``; the
file goes outside the site folder, because the store, the outbox and the
feeds beside it must not be published by Jekyll with the site.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import ConfigError, SlugError
from ..slugs import is_slug, slugify
from ..writer import write_if_changed
from .jekyll_config import PLACEHOLDER_URL, JekyllSite


@dataclass(frozen=True)
class Written:
    path: Path
    cfg: config.Config
    feeds: list[str]  # the feed URLs a subscriber may know, all-posts first


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _listed_slug(name: str) -> str | None:
    lowered = name.lower()
    if is_slug(lowered):
        return lowered
    try:
        return slugify(name)
    except SlugError:
        return None


def categories(site: JekyllSite) -> dict[str, str]:
    """slug → display name: every category the posts use, and those ``feed.categories`` lists.

    A listed category no post uses yet is named here too, so the store knows
    it and its feed exists (empty) where jekyll-feed wrote one.
    """
    out = {slug: name for slug, (name, _) in site.categories.items()}
    for name in site.feed.categories:
        slug = _listed_slug(name)
        if slug is not None and slug not in out:
            out[slug] = name
    return out


def render(site: JekyllSite, out: Path) -> str:
    """The schedule.yaml text for ``site``, to be written at ``out``."""
    folder = out.resolve().parent
    posts = os.path.relpath(site.root, folder)
    feed = site.feed
    lines = [
        f"# schedule.yaml for the Jekyll site {site.root}, written by `syndicate init`",
        f"# from {site.config_file.name}; each setting names the key it came from.",
        "# Relative paths are relative to this file. Reference: README.md and docs/jekyll.md.",
        "site:",
        f"  title: {_q(site.title)}",
    ]
    if site.url_given:
        lines.append(f"  url: {_q(site.url)}  # url + baseurl")
    else:
        lines += [
            f"  # _config.yml has no url: feeds need an absolute one, {PLACEHOLDER_URL} is",
            "  # where `jekyll serve` runs. Put the public address here (url + baseurl).",
            f"  url: {_q(site.url)}",
        ]
    lines.append(f"  language: {_q(site.language)}  # lang")
    zone = "timezone" if site.timezone_given else "none in _config.yml: this machine's, as Jekyll"
    lines.append(f"  timezone: {_q(site.timezone)}  # {zone}")
    lines.append(f"  permalink: {_q(site.permalink)}  # permalink: decides each post's link and id")
    if site.description:
        lines.append(f"  description: {_q(site.description)}")
    if site.author:
        lines.append(f"  author: {_q(site.author)}  # author")
    if site.email:
        lines.append(f"  email: {_q(site.email)}")
    lines += [
        "",
        "sources:",
        f"  - name: {_q(site.root.name or 'site')}",
        f"    posts: {_q(posts)}  # every _posts folder below it; folders above one are categories",
    ]
    # a date with a time and no offset is UTC to Jekyll 4: its URL's day, and so its id
    lines.append('    naive_dates: "utc"  # a time without an offset is UTC, as Jekyll 4 reads it')
    lines.append('    permalink_categories: "name"  # :categories in a link: the names, as Jekyll')
    if site.future:
        lines.append("    future: true  # future: true publishes posts dated ahead")
    names = categories(site)
    if names:
        lines += ["", "categories:  # slug -> name, from the posts' category/categories"]
        lines += [f"  {slug}: {_q(name)}" for slug, name in names.items()]
    lines += ["", "store:", '  url: "sqlite:///var/syndicate.db"', "", "feeds:", '  dir: "feeds"']
    if site.uses_jekyll_feed:
        lines += [
            "  # the plugins list jekyll-feed: its file names, so every subscriber keeps",
            "  # the URL they follow (/feed.xml, /feed/<category>.xml); copy feeds/ into the",
            "  # site's web root. Atom is the .xml file; RSS and JSON Feed sit beside it.",
            "  layout: jekyll-feed",
            f"  limit: {feed.posts_limit}  # feed.posts_limit",
            "  formats: [atom, rss, json]",
            f"  excerpt_only: {_q(feed.excerpt_only)}  # feed.excerpt_only",
            f"  tags: {_q(feed.tags)}  # feed.tags",
            '  category_url: "/"  # jekyll-feed links every feed to the home page',
            '  tag_url: "/"',
            "  jekyll_feed:",
            f"    path: {_q(feed.path)}  # feed.path",
            f"    categories: {_q(list(feed.categories))}  # feed.categories",
        ]
        if feed.tags:
            only = "" if feed.tags_only is None else f"only: {_q(list(feed.tags_only))}, "
            lines.append(
                f"    tags: {{{only}except: {_q(list(feed.tags_except))}, "
                f"path: {_q(feed.tags_path)}}}  # feed.tags"
            )
    else:
        lines += [
            "  # the site does not use jekyll-feed: syndicate's own names under /feeds/",
            "  # (all.atom, <slug>.rss, …); `layout: jekyll-feed` gives /feed.xml instead",
        ]
    lines += [
        "",
        "jobs:  # what `syndicate run` does, and when (in site.timezone)",
        "  collect: {every: 15m, jitter: 30s}",
        "  build: {after: collect}  # runs when a collect changed something",
        "",
        "# digests, subscribers and delivery: see docs/digest.md, for example",
        "# digests:",
        "#   - name: daily",
        f"#     from: {_q(site.title + ' <' + (site.email or 'digest@example.org') + '>')}",
        "#     categories: all",
        '# and under jobs:  daily: {digest: daily, cron: "0 8 * * *"}',
        "",
    ]
    return "\n".join(lines)


def feed_urls(cfg: config.Config) -> list[str]:
    """The URLs the Atom feeds will have: the all-posts feed, then each listed category."""
    from ..publish import layout

    urls = [layout.file_url(cfg, layout.feed_file(cfg, layout.all_stem(cfg), "atom"))]
    if layout.jekyll(cfg):
        for name in cfg.feeds.jekyll_feed.categories:
            urls.append(layout.file_url(cfg, layout.feed_file(cfg, f"feed/{name}", "atom")))
    return urls


def write(site: JekyllSite, out: Path, *, force: bool = False) -> Written:
    """Write the schedule.yaml for ``site`` at ``out`` (validated first; kept unless ``force``)."""
    target = out.expanduser().resolve()
    if target == site.root or site.root in target.parents:
        raise ConfigError(
            f"{target}: inside the Jekyll site {site.root}, Jekyll would publish the store"
            " and the outbox beside it; write it elsewhere (--out ../site-feeds/schedule.yaml,"
            " or run init from another folder)"
        )
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists (--force replaces it)")
    text = render(site, target)
    try:
        cfg = config.loads(text, target)
    except ConfigError as exc:  # a value _config.yml allows that syndicate does not
        raise ConfigError(f"{site.config_file}: cannot be reproduced:\n{exc}") from None
    write_if_changed(target, text.encode("utf-8"))
    return Written(target, cfg, feed_urls(cfg))
