"""The schedule.yaml ``syndicate init`` writes (``syndicate/setup/schedule_writer.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syndicate.config import load
from syndicate.errors import ConfigError
from syndicate.setup.jekyll_config import read_site
from syndicate.setup.schedule_writer import render, write

from .conftest import DATA

FIXTURE = DATA / "jekyll-site"


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(FIXTURE, dest)
    return dest


def test_the_fixture_becomes_a_config_that_reproduces_its_feeds(tmp_path, site_copy):
    out = tmp_path / "work" / "schedule.yaml"
    written = write(read_site(site_copy), out)
    cfg = load(out)  # what every command will load
    assert written.path == out.resolve() and written.cfg == cfg
    assert cfg.site.title == "Field Notes"
    assert cfg.site.url == "https://notes.example.org/field"
    assert cfg.site.timezone == "America/New_York"
    assert cfg.site.permalink == "/:categories/:year/:month/:day/:title/"
    assert (cfg.site.author, cfg.site.email) == ("Grace Example", "grace@example.org")
    assert cfg.site.language == "en-US"
    assert cfg.site.description == "Notes from the field, weekly."
    [source] = cfg.sources
    assert source.posts.resolve() == site_copy.resolve()  # written relative: ../site
    assert source.future is True and source.naive_dates == "utc"
    assert source.permalink_categories == "name"
    # every category the posts use, and the listed one no post uses yet (its feed exists)
    assert cfg.categories == {"field-trips": "Field Trips", "notes": "notes", "unused": "Unused"}
    feeds = cfg.feeds
    assert feeds.layout == "jekyll-feed" and feeds.dir == out.parent / "feeds"
    assert (feeds.limit, feeds.excerpt_only, feeds.tags) == (25, True, True)
    assert feeds.jekyll_feed.path == "/atom.xml"
    assert feeds.jekyll_feed.categories == ["notes", "Field Trips", "Unused"]
    tags = feeds.jekyll_feed.tags
    assert (tags.only, tags.except_, tags.path) == (
        ["birds", "Rocks_2", "trees"],
        ["trees"],
        "/feed/tagged/",
    )
    assert cfg.feeds_base_url == "https://notes.example.org/field/"
    assert written.feeds == [
        "https://notes.example.org/field/atom.xml",
        "https://notes.example.org/field/feed/notes.xml",
        "https://notes.example.org/field/feed/Field%20Trips.xml",
        "https://notes.example.org/field/feed/Unused.xml",
    ]
    assert set(cfg.jobs) == {"collect", "build"} and cfg.jobs["build"].after == "collect"


def test_each_setting_names_the_key_it_came_from(tmp_path, site_copy):
    text = render(read_site(site_copy), tmp_path / "schedule.yaml")
    for comment in (
        "# feed.posts_limit",
        "# feed.path",
        "# feed.categories",
        "# feed.tags",
        "# feed.excerpt_only",
        "# url + baseurl",
        "# timezone",
        "# lang",
    ):
        assert comment in text, comment


def test_refuses_to_overwrite_without_force(tmp_path, site_copy):
    out = tmp_path / "schedule.yaml"
    out.write_text("mine\n")
    with pytest.raises(ConfigError, match=r"schedule.yaml: already exists \(--force replaces it\)"):
        write(read_site(site_copy), out)
    assert out.read_text() == "mine\n"  # kept
    write(read_site(site_copy), out, force=True)
    assert load(out).site.title == "Field Notes"


def test_refuses_a_file_inside_the_site(site_copy):
    with pytest.raises(
        ConfigError, match=r"inside the Jekyll site .* Jekyll would publish the store"
    ):
        write(read_site(site_copy), site_copy / "schedule.yaml")
    assert not (site_copy / "schedule.yaml").exists()


def test_a_site_without_jekyll_feed_keeps_syndicates_layout(tmp_path):
    site = tmp_path / "plain"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Plain\nurl: https://plain.example\n")
    written = write(read_site(site), tmp_path / "schedule.yaml")
    assert written.cfg.feeds.layout == "syndicate"
    assert written.cfg.feeds_base_url == "https://plain.example/feeds/"
    assert written.feeds == ["https://plain.example/feeds/all.atom"]
    assert "layout: jekyll-feed` gives /feed.xml instead" in written.path.read_text()


def test_a_value_syndicate_cannot_take_is_named(tmp_path):
    site = tmp_path / "odd"
    (site / "_posts").mkdir(parents=True)
    # a feed.categories name that cannot be a file name: Jekyll would write feed/a/b.xml
    (site / "_config.yml").write_text("plugins: [jekyll-feed]\nfeed:\n  categories: [a/b]\n")
    with pytest.raises(ConfigError) as err:
        write(read_site(site), tmp_path / "schedule.yaml")
    assert f"{site / '_config.yml'}: cannot be reproduced" in str(err.value)
    assert "feeds.jekyll_feed.categories: category 'a/b' cannot be a file name" in str(err.value)
    assert not (tmp_path / "schedule.yaml").exists()
