"""Helpers for the digest tests: a site with digest config, posts, subscribers."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

from syndicate.collect.collector import collect
from syndicate.digest.subscribers import Entry, import_entries
from syndicate.store import Store

from .conftest import NOW, Site, config_text

SECRET = "test-secret-0123456789"
CATS = {"caijing": "财经", "keji": "科技", "guoji": "国际", "gupiao": "股票"}

CONFIG = config_text(
    CATS,
    """\
digests:
  - name: daily
    from: 金融资讯网 <digest@finews.withounder.com>
    max_per_category: {max_per_category}
{digest_extra}
""",
)


def configure(
    site: Site,
    *,
    smtp_port: int | None = None,
    smtp_extra: str = "",
    max_per_category: int = 10,
    digest_extra: str = "",
    extra: str = "",
) -> None:
    text = CONFIG.format(
        max_per_category=max_per_category,
        digest_extra=textwrap.indent(textwrap.dedent(digest_extra), "    ").rstrip(),
    )
    if smtp_port is not None:
        text += (
            "delivery:\n  smtp:\n    host: 127.0.0.1\n"
            f"    port: {smtp_port}\n    timeout: 5\n    backoff: 0.01\n    retries: 3\n"
        )
        text += textwrap.indent(textwrap.dedent(smtp_extra), "    ")
    site.config_path.write_text(text + textwrap.dedent(extra), encoding="utf-8")


def write_posts(site: Site, per_category: dict[str, int], *, tag: str = "", day: int = 1) -> None:
    """Posts named after their category and number (``财经 3``), so a test can find them."""
    for slug, n in per_category.items():
        for i in range(n):
            site.post(
                f"2022-03-{day:02d}-{slug}{tag}{i:03d}.md",
                title=f"{CATS.get(slug, slug)}{tag}新闻{i:03d}",
                date=f"2022-03-{day:02d} {8 + i % 12:02d}:{i % 60:02d}:00 +0800",
                categories=slug,
                body=f"<p>{CATS.get(slug, slug)}第{i}条新闻的正文。这是第二句话。</p>",
            )


def collect_at(site: Site, store: Store, when: datetime = NOW - timedelta(hours=1)) -> None:
    counts = collect(site.cfg(), store, now=when)
    assert counts.rejected == 0, counts.rejections


def subscribe(store: Store, entries: list[Entry], now: datetime = NOW) -> None:
    import_entries(store, entries, source="test", now=now)
