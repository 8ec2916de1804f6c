from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.config import Config, load
from syndicate.store import Store, open_store

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_d77b2b9e883b6d94.txt"
SEED_NAME = "2022-02-10-NW202202102272322133.md"
ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)

SITE_YAML = """\
site:
  title: 金融资讯网
  url: https://finews.withounder.com
  language: zh-CN
  timezone: Asia/Shanghai
sources:
  - name: local
    posts: site/_posts
store:
  url: sqlite:///var/test.db
"""


def config_text(categories: dict[str, str], rest: str = "") -> str:
    """The test site's config with these categories, then ``rest`` (more sections)."""
    cats = "".join(f"  {slug}: {name}\n" for slug, name in categories.items())
    return SITE_YAML + "categories:\n" + cats + rest


BASE_CONFIG = config_text({"caijing": "财经"})


class Site:
    """A temporary site: a posts folder, a config file and helpers to write posts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.posts = root / "site" / "_posts"
        self.posts.mkdir(parents=True)
        self.config_path = root / "schedule.yaml"
        self.config_path.write_text(BASE_CONFIG, encoding="utf-8")

    def write_config(self, text: str) -> None:
        self.config_path.write_text(textwrap.dedent(text), encoding="utf-8")

    def extend_config(self, text: str) -> None:
        with self.config_path.open("a", encoding="utf-8") as fh:
            fh.write(textwrap.dedent(text))

    def cfg(self) -> Config:
        return load(self.config_path)

    def store(self) -> Store:
        return open_store(self.cfg().store.url)

    def add_seed(self) -> Path:
        dest = self.posts / SEED_NAME
        shutil.copy(SEED, dest)
        return dest

    def post(
        self,
        name: str,
        *,
        title: str = "测试标题",
        date: str | None = "2022-02-11 09:00:00 +0800",
        categories: str | None = "caijing",
        tags: str | None = None,
        body: str = "<p>第一段内容。第二句话。</p>",
        extra: str = "",
        folder: Path | None = None,
    ) -> Path:
        lines = ["---", f'title: "{title}"']
        if date is not None:
            lines.append(f"date: {date}")
        if categories is not None:
            lines.append(f"categories: {categories}")
        if tags is not None:
            lines.append(f"tags: {tags}")
        if extra:
            lines.append(extra.strip("\n"))
        lines.append("---")
        path = (folder or self.posts) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n" + body + "\n", encoding="utf-8")
        return path


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


@pytest.fixture
def bump_mtime() -> Callable[[Path], None]:
    def bump(path: Path) -> None:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    return bump
