"""Reading a Jekyll site's ``_config.yml`` and posts (``syndicate/setup/jekyll_config.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syndicate.errors import ConfigError
from syndicate.setup.jekyll_config import PLACEHOLDER_URL, FeedSettings, local_zone, read_site

from .conftest import DATA

FIXTURE = DATA / "jekyll-site"


def test_every_key_of_the_fixture():
    site = read_site(FIXTURE)
    assert site.root == FIXTURE.resolve()
    assert site.title == "Field Notes"
    assert site.description == "Notes from the field, weekly."
    assert site.url == "https://notes.example.org/field"  # url (its / dropped) + baseurl
    assert site.url_given and site.timezone_given and site.url_slash  # url: ".../"
    assert site.timezone == "America/New_York"
    assert site.permalink == "/:categories/:year/:month/:day/:title/"
    assert (site.author, site.email) == ("Grace Example", "grace@example.org")
    assert site.language == "en-US"
    assert site.future is True
    assert site.plugins == ("jekyll-feed", "jekyll-seo-tag", "jekyll-sitemap")  # + gems
    assert site.uses_jekyll_feed
    assert site.feed == FeedSettings(
        path="/atom.xml",
        categories=("notes", "Field Trips", "Unused"),
        posts_limit=25,
        excerpt_only=True,
        tags=True,
        tags_only=("birds", "Rocks_2", "trees"),
        tags_except=("trees",),
        tags_path="/feed/tagged/",
    )
    # the posts, read by the collector's parser: front matter and folder categories
    assert site.posts == 3 and site.rejected == ()
    assert site.categories == {"field-trips": ("Field Trips", 2), "notes": ("notes", 1)}
    assert site.tags == {"Rocks_2": 1, "birds": 2, "trees": 1}


def _site(tmp_path: Path, config: str) -> Path:
    (tmp_path / "_posts").mkdir(exist_ok=True)
    (tmp_path / "_config.yml").write_text(config, encoding="utf-8")
    return tmp_path


def test_jekyll_defaults_where_keys_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    site = read_site(_site(tmp_path, ""))
    assert site.title == tmp_path.name  # Jekyll has no default: the folder's name
    assert site.url == PLACEHOLDER_URL and not site.url_given
    assert site.timezone == "Europe/Berlin" and not site.timezone_given  # the machine's
    assert site.permalink == "date" and site.language == "en" and not site.future
    assert site.feed == FeedSettings()  # jekyll-feed's defaults: /feed.xml, 10 posts
    assert site.feed.posts_limit == 10 and site.feed.path == "/feed.xml"
    assert not site.uses_jekyll_feed and site.posts == 0


def test_author_as_text_tags_true_and_a_bare_feed_path(tmp_path):
    site = read_site(
        _site(
            tmp_path,
            "author: Ada\nurl: http://x.org\ngems: [jekyll-feed]\n"
            "feed:\n  path: feed/all.xml\n  tags: true\n  categories: news updates\n",
        )
    )
    assert (site.author, site.email) == ("Ada", "")
    assert site.uses_jekyll_feed  # Jekyll 2's gems: list counts
    assert site.feed.path == "/feed/all.xml"
    assert site.feed.tags and site.feed.tags_only is None and site.feed.tags_path == "/feed/by_tag/"
    assert site.feed.categories == ("news", "updates")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "title: x\nfeed: [1]\n",
            ":2: feed: must be a mapping of jekyll-feed settings, not a list",
        ),
        ("feed:\n  posts_limit: 0\n", ":2: feed.posts_limit: must be a whole number of at least 1"),
        ("feed:\n  posts_limit: ten\n", ":2: feed.posts_limit: must be a whole number"),
        ("feed:\n  tags: lots\n", ":2: feed.tags: must be true, false or a mapping"),
        ("feed:\n  tags:\n    onyl: [a]\n", ":3: feed.tags.onyl: unknown key (only, except, path)"),
        ("feed:\n  tags:\n    only: {a: 1}\n", ":3: feed.tags.only: must be a list of names"),
        ("feed:\n  excerpt_only: sometimes\n", ":2: feed.excerpt_only: must be true or false"),
        ("feed:\n  path: /feed.atom\n", ":2: feed.path: '/feed.atom': syndicate writes"),
        ("\n\ntimezone: Mars/Olympus\n", ":3: timezone: unknown time zone 'Mars/Olympus'"),
        ("url: example.org\n", ":1: url: 'example.org' must be an absolute http(s) URL"),
        ("author: [a, b]\n", ":1: author: must be text, not a list"),
        ("author:\n  name: [a]\n", ":2: author.name: must be text"),
        ("title: [a]\n", ":1: title: must be text, not a list"),
        ("plugins: {a: 1}\n", ":1: plugins: must be a list of names, not a mapping"),
        ("future: maybe\n", ":1: future: must be true or false"),
        ("title: x\nurl: [unclosed\n", ":3: invalid YAML"),
        ("- a list\n", ":1: _config.yml must be a mapping of settings"),
    ],
)
def test_bad_settings_name_the_file_line_and_key(tmp_path, text, message):
    _site(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        read_site(tmp_path)
    assert str(err.value).startswith(str(tmp_path / "_config.yml"))
    assert message in str(err.value)


def test_not_a_site(tmp_path):
    with pytest.raises(ConfigError, match=r"_config.yml: not found: is .* a Jekyll site\?"):
        read_site(tmp_path)
    with pytest.raises(ConfigError, match="not a folder"):
        read_site(tmp_path / "missing")


def test_a_post_the_collector_would_reject_is_listed(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "s")
    (tmp_path / "s/_posts/2024-06-01-broken.md").write_text("no front matter\n")
    site = read_site(tmp_path / "s")
    assert site.posts == 3
    assert [(r.path, r.reason) for r in site.rejected] == [
        ("_posts/2024-06-01-broken.md", "no front matter (a post file starts with a --- line)")
    ]


def test_local_zone_follows_tz_and_ignores_nonsense(monkeypatch):
    monkeypatch.setenv("TZ", ":Asia/Tokyo")
    assert local_zone() == "Asia/Tokyo"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_zone() != "Not/AZone"  # /etc/localtime's, /etc/timezone's, else UTC
