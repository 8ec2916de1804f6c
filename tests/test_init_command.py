"""``syndicate init`` on a site made by ``jekyll new``, against the feeds Jekyll itself builds.

The strongest check there is: Debian's jekyll with its jekyll-feed plugin
builds the site, syndicate runs ``init`` and ``run --once`` on the same site,
and every feed file jekyll-feed wrote must exist at the same path in
``feeds/`` with the same self link, feed id and, entry by entry, the same
``<id>``, link and publication instant. Skipped (with the reason) where the
``jekyll`` command is missing; ``jekyll new --skip-bundle`` and ``jekyll
build`` need no network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from lxml import etree

from .conftest import ROOT
from .serving import LiveServer, raw

JEKYLL = shutil.which("jekyll")
needs_jekyll = pytest.mark.skipif(
    JEKYLL is None, reason="the jekyll command is not installed (Debian: apt-get install jekyll)"
)
A = "{http://www.w3.org/2005/Atom}"
URL = "https://blog.example.org"

# what the test adds to the generated _config.yml: every setting init reads, with values
# that change paths, ids and dates (a baseurl, a zone far from UTC, listed categories, tags)
CONFIG_TAIL = """
timezone: Asia/Shanghai
author:
  name: Ada Example
  email: ada@example.org
feed:
  posts_limit: 20
  categories: [news, Releases, Field Trips, 网信中国]
  tags:
    except: [hidden]
"""

POSTS = {
    # a category from the folder above _posts (Jekyll's folder categories)
    "news/_posts/2024-03-01-from-the-folder.md": "title: From the folder\n",
    # listed with capitals: jekyll-feed writes feed/Releases.xml
    "_posts/2024-02-10-release-one.md": (
        "title: Release one\ncategories: Releases\ntags: [python, Ruby_On, hidden, c++]\n"
    ),
    # no offset: read in Asia/Shanghai, so 23:30 on the 5th is still the 5th in the URL
    "_posts/2024-01-05-late-evening.md": "title: Late evening\ndate: 2024-01-05 23:30:00\n"
    "categories: news\ntags: python\n",
    # its own permalink and slug: Jekyll's id is the permalink's folder plus the slug
    "_posts/2024-01-20-own-link.md": "title: Own link\npermalink: /custom/place.html\n"
    "slug: own-slug\ncategory: Releases\n",
    # names that are not slugs: Jekyll puts them in the URL as written, lowercased
    "_posts/2024-02-20-trip.md": "title: A trip\ncategories: [Field Trips]\n",
    "_posts/2024-02-21-wangxin.md": "title: 网信\ncategory: 网信中国\n",
}


def _sh(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
        check=False,
    )


def _syndicate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _sh([sys.executable, "-m", "syndicate", *args], cwd, PYTHONPATH=str(ROOT))


def _jekyll_site(tmp: Path) -> Path:
    assert JEKYLL is not None
    made = _sh([JEKYLL, "new", "--skip-bundle", "blog"], tmp)
    assert made.returncode == 0, made.stdout + made.stderr
    site = tmp / "blog"
    # Jekyll replaces a post's date by its file name's when it equals the build's second
    # (Document#modify_date), which a build right after `jekyll new` may hit: a fixed date
    welcome = next((site / "_posts").iterdir())
    text = re.sub(r"(?m)^date: .*$", "date: 2024-04-01 10:00:00 +0000", welcome.read_text())
    welcome.write_text(text, encoding="utf-8")
    text = (site / "_config.yml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url: ""', f'url: "{URL}"', text)
    text = re.sub(r'(?m)^baseurl: ""', 'baseurl: "/blog"', text)
    (site / "_config.yml").write_text(text + CONFIG_TAIL, encoding="utf-8")
    for name, front in POSTS.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}---\nThe body of {name}.\n", encoding="utf-8")
    return site


def _atom(path: Path) -> dict[str, object]:
    root = etree.parse(str(path)).getroot()
    self_link = root.find(f"{A}link[@rel='self']")
    assert self_link is not None
    return {
        "self": self_link.get("href"),
        "id": root.findtext(f"{A}id"),
        "entries": [
            (
                e.findtext(f"{A}id"),
                e.find(f"{A}link[@rel='alternate']").get("href"),  # type: ignore[union-attr]
                datetime.fromisoformat(e.findtext(f"{A}published") or ""),
            )
            for e in root.iter(f"{A}entry")
        ],
    }


def _jekyll_feeds(built: Path) -> list[str]:
    """Every file under _site that is an Atom feed, relative to it."""
    found = []
    for path in built.rglob("*.xml"):
        if etree.parse(str(path)).getroot().tag == f"{A}feed":
            found.append(path.relative_to(built).as_posix())
    return sorted(found)


@needs_jekyll
def test_init_and_run_once_give_jekyll_feeds_paths_ids_and_links(tmp_path: Path) -> None:
    site = _jekyll_site(tmp_path)
    built = _sh([JEKYLL or "jekyll", "build"], site, JEKYLL_ENV="production")
    assert built.returncode == 0, built.stdout + built.stderr
    theirs = _jekyll_feeds(site / "_site")
    # what jekyll-feed writes for these settings; "c++" it skips, "hidden" is excepted
    assert theirs == [
        "feed.xml",
        "feed/Field Trips.xml",
        "feed/Releases.xml",
        "feed/by_tag/Ruby_On.xml",
        "feed/by_tag/python.xml",
        "feed/news.xml",
        "feed/网信中国.xml",
    ]

    work = tmp_path / "work"
    work.mkdir()
    init = _syndicate(work, "init", str(site))
    assert init.returncode == 0, init.stdout + init.stderr
    assert f"feed: {URL}/blog/feed.xml" in init.stdout
    assert f"feed: {URL}/blog/feed/Releases.xml" in init.stdout
    assert "next: syndicate run --once" in init.stdout
    once = _syndicate(work, "run", "--once")
    assert once.returncode == 0, once.stdout + once.stderr

    feeds = work / "feeds"
    for name in theirs:
        ours = feeds / name
        assert ours.is_file(), f"{name}: jekyll-feed wrote it, syndicate did not"
        expected, got = _atom(site / "_site" / name), _atom(ours)
        assert got == expected, name
    everything = _atom(feeds / "feed.xml")["entries"]
    assert len(everything) == 7  # type: ignore[arg-type]
    # the other formats beside the Atom file, and the tag jekyll-feed skips at its slug
    assert (feeds / "feed.rss").is_file() and (feeds / "feed/Releases.json").is_file()
    assert not (feeds / "feed/by_tag/hidden.xml").exists()
    assert (feeds / "feed/index.html").is_file() and not (feeds / "index.html").exists()

    # `syndicate serve` answers the same URLs (the path below the site's url + baseurl)
    cfg_path = work / "schedule.yaml"
    from syndicate.config import load

    with LiveServer(load(cfg_path)) as server:
        for name in theirs:
            status, headers, body = raw(server.url, quote("/" + name))
            assert status == 200, name
            assert headers["content-type"] == "application/atom+xml; charset=utf-8"
            assert body == (feeds / name).read_bytes()
        status, headers, body = raw(server.url, "/", headers={"Accept": "text/html"})
        assert status == 200 and body == (feeds / "feed/index.html").read_bytes()
        assert raw(server.url, "/feed/")[0] == 200
        assert raw(server.url, "/feed.rss")[0] == 200
        assert raw(server.url, "/feed/nothing.xml")[0] == 404


@needs_jekyll
def test_a_fresh_jekyll_new_site_runs_in_one_command(tmp_path: Path) -> None:
    """As generated: no url (a stand-in, said so), no timezone (the machine's), one post."""
    assert JEKYLL is not None
    made = _sh([JEKYLL, "new", "--skip-bundle", "fresh"], tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    work = tmp_path / "work"
    work.mkdir()
    init = _syndicate(work, "init", str(tmp_path / "fresh"))
    assert init.returncode == 0, init.stderr
    assert "note: _config.yml has no url; http://localhost:4000 stands in" in init.stdout
    assert "found 1 posts; categories: jekyll (1), update (1)" in init.stdout
    once = _syndicate(work, "run", "--once")
    assert once.returncode == 0, once.stdout + once.stderr
    entry = etree.parse(str(work / "feeds/feed.xml")).getroot().find(f"{A}entry")
    assert entry is not None
    assert entry.findtext(f"{A}id", "").startswith("http://localhost:4000/jekyll/update/")
    # a second init keeps the file; --force replaces it
    again = _syndicate(work, "init", str(tmp_path / "fresh"))
    assert again.returncode == 1
    assert "schedule.yaml: already exists (--force replaces it)" in again.stderr
    assert _syndicate(work, "init", "--force", str(tmp_path / "fresh")).returncode == 0


def test_the_command_without_jekyll(tmp_path: Path) -> None:
    """In process, on the checked-in site: what it prints, --out, and a broken _config.yml."""
    from click.testing import CliRunner

    from syndicate.cli import main

    from .conftest import DATA

    site = tmp_path / "site"
    shutil.copytree(DATA / "jekyll-site", site)
    out = tmp_path / "elsewhere" / "feeds.yaml"
    result = CliRunner().invoke(main, ["init", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"read {site / '_config.yml'}: 'Field Notes' at https://notes.example.org/field" in (
        result.output
    )
    assert "found 3 posts; categories: Field Trips (2), notes (1); 3 tags" in result.output
    assert f"wrote {out} (layout jekyll-feed" in result.output
    assert f"next: syndicate --config {out} run --once" in result.output
    assert "note: _config.yml's url ends in '/', so jekyll-feed's links and ids have '//'" in (
        result.output
    )
    assert out.is_file()

    (site / "_config.yml").write_text("title: x\nfeed:\n  posts_limit: -1\n")
    result = CliRunner().invoke(main, ["init", str(site), "--out", str(tmp_path / "b.yaml")])
    assert result.exit_code == 1
    assert f"{site / '_config.yml'}:3: feed.posts_limit: must be a whole number" in result.output
    assert not (tmp_path / "b.yaml").exists()
    assert CliRunner().invoke(main, ["init", "--help"]).exit_code == 0
