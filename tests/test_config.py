from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import ConfigError, load


def test_example_config_loads_and_resolves_paths():
    root = Path(__file__).resolve().parent.parent
    cfg = load(root / "schedule.yaml")
    assert cfg.site.url == "https://finews.withounder.com"
    assert cfg.sources[0].posts == root / "examples/site/_posts"
    assert cfg.store.url == f"sqlite:///{root / 'var/syndicate.db'}"
    assert cfg.feeds.dir == root / "feeds"
    assert cfg.categories["wangxinzhongguo"] == "网信中国"


def test_relative_paths_follow_the_config_file(site, monkeypatch, tmp_path):
    monkeypatch.chdir("/")
    cfg = site.cfg()
    assert cfg.sources[0].posts == site.root / "site/_posts"
    assert cfg.store.url == f"sqlite:///{site.root / 'var/test.db'}"


def test_env_var_picks_the_file(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_CONFIG", str(site.config_path))
    assert load().site.title == "金融资讯网"


def _error(site, text: str) -> str:
    site.write_config(text)
    with pytest.raises(ConfigError) as exc:
        site.cfg()
    return str(exc.value)


def test_unknown_key_names_key_and_line(site):
    msg = _error(
        site,
        """\
        site:
          title: x
          url: https://example.org
          colour: blue
        """,
    )
    assert "schedule.yaml:4: site.colour: unknown key" in msg


def test_missing_required_key(site):
    msg = _error(site, "site:\n  title: x\n")
    assert "schedule.yaml:1: site.url: required key is missing" in msg


def test_wrong_type_names_key_and_line(site):
    msg = _error(
        site,
        """\
        site: {title: x, url: "https://example.org"}
        sources:
          - posts: a
            max_bytes: lots
        """,
    )
    assert "schedule.yaml:4: sources.0.max_bytes" in msg


def test_bad_values(site):
    assert "unknown timezone" in _error(
        site, "site: {title: x, url: 'https://e.org', timezone: Mars/Base}\n"
    )
    assert "absolute http(s) URL" in _error(site, "site: {title: x, url: 'e.org'}\n")
    assert "categories" in _error(
        site, "site: {title: x, url: 'https://e.org'}\ncategories: {'网信': x}\n"
    )


def test_invalid_yaml_gives_line(site):
    msg = _error(site, "site:\n  title: [unclosed\n  url: x\n")
    assert "invalid YAML" in msg
    assert "schedule.yaml:" in msg


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "nope.yaml")


def test_source_names_are_unique(site):
    msg = _error(
        site,
        """\
        site: {title: x, url: "https://e.org"}
        sources:
          - {name: news, posts: a}
          - {name: news, feed: "https://e.org/rss"}
        """,
    )
    assert "schedule.yaml:4: sources.1.name: 'news' names two sources" in msg
