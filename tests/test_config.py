from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import ConfigError, load

from .conftest import STORE_ENV


def test_example_config_loads_and_resolves_paths(monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)  # make test-pg names its own store there
    root = Path(__file__).resolve().parent.parent
    cfg = load(root / "schedule.yaml")
    assert cfg.site.url == "https://finews.withounder.com"
    assert cfg.sources[0].posts == root / "examples/site/_posts"
    assert cfg.store.url == f"sqlite:///{root / 'var/syndicate.db'}"
    assert cfg.feeds.dir == root / "feeds"
    assert cfg.categories["wangxinzhongguo"] == "网信中国"


def test_relative_paths_follow_the_config_file(site, monkeypatch, tmp_path):
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.chdir("/")
    cfg = site.cfg()
    assert cfg.sources[0].posts == site.root / "site/_posts"
    assert cfg.store.url == f"sqlite:///{site.root / 'var/test.db'}"


def test_store_url_env_replaces_the_url(site, monkeypatch):
    """``store.url_env`` names a variable whose value, when set, outranks ``store.url``."""
    monkeypatch.setenv(STORE_ENV, "postgresql+psycopg://u:secret@db.example/x")
    assert site.cfg().store.url == "postgresql+psycopg://u:secret@db.example/x"
    monkeypatch.setenv(STORE_ENV, "sqlite:///var/other.db")  # relative: to the config's folder
    assert site.cfg().store.url == f"sqlite:///{site.root / 'var/other.db'}"
    text = site.config_path.read_text(encoding="utf-8")
    site.write_config(text.replace("store:\n", "store:\n  url_env: MY_STORE\n"))
    monkeypatch.setenv("MY_STORE", "sqlite:///var/mine.db")
    assert site.cfg().store.url == f"sqlite:///{site.root / 'var/mine.db'}"
    monkeypatch.delenv("MY_STORE")
    assert site.cfg().store.url == f"sqlite:///{site.root / 'var/test.db'}"


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


def test_subscribers_short_form_is_a_path_beside_the_config(site, monkeypatch):
    monkeypatch.chdir("/")
    site.extend_config("subscribers: lists/subscribers.csv\n")
    assert site.cfg().subscribers.file == site.root / "lists/subscribers.csv"
    site.write_config(
        site.config_path.read_text().replace(
            "subscribers: lists/subscribers.csv", "subscribers: {file: lists/subscribers.csv}"
        )
    )
    assert site.cfg().subscribers.file == site.root / "lists/subscribers.csv"
    site.write_config(
        site.config_path.read_text().replace(
            "subscribers: {file: lists/subscribers.csv}", "subscribers: /srv/subscribers.csv"
        )
    )
    assert site.cfg().subscribers.file == Path("/srv/subscribers.csv")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[a.csv]", "got list ['a.csv']: give the subscribers file's path"),
        ("42", "got int 42: give the subscribers file's path"),
        ('""', "empty path: give the subscribers file"),
        ("{file: a.csv, typo: 1}", "unknown key"),
    ],
)
def test_bad_subscribers_value_names_line_and_key(site, value, message):
    site.extend_config(f"delivery: {{maildir: out}}\nsubscribers: {value}\n")
    msg = _error(site, site.config_path.read_text())
    line = site.config_path.read_text().splitlines().index(f"subscribers: {value}") + 1
    assert f"schedule.yaml:{line}: subscribers" in msg and message in msg, msg


def test_templates_folder_key(site, monkeypatch):
    monkeypatch.chdir("/")
    assert site.cfg().templates == site.root / "templates"  # the default, missing is fine
    site.extend_config("templates: look/mine\n")
    assert site.cfg().templates == site.root / "look/mine"
    text = site.config_path.read_text()
    site.write_config(text.replace("templates: look/mine", "templates: /srv/look"))
    assert site.cfg().templates == Path("/srv/look")
    site.write_config(text.replace("templates: look/mine", 'templates: ""'))
    with pytest.raises(ConfigError, match=r"schedule.yaml:\d+: templates: empty path"):
        site.cfg()


def test_names_longer_than_their_column_are_refused_at_load(site) -> None:
    from syndicate.errors import ConfigError

    site.write_config(
        site.config_path.read_text(encoding="utf-8").replace(
            "  - name: local\n", f"  - name: {'s' * 201}\n"
        )
    )
    with pytest.raises(ConfigError, match="longer than 200 characters"):
        site.cfg()
    site.write_config(
        site.config_path.read_text(encoding="utf-8").replace(f"name: {'s' * 201}", "name: local")
        + f"jobs:\n  {'j' * 101}: {{run: collect, every: 15m}}\n"
    )
    with pytest.raises(ConfigError, match="job name"):
        site.cfg()


def test_daemon_watch_defaults_on_and_its_waits_are_checked(site):
    cfg = site.cfg()
    assert cfg.daemon.watch is True
    assert cfg.daemon.watch_settle < cfg.daemon.watch_max_wait
    site.extend_config("daemon: {watch_settle: 3, watch_max_wait: 1}\n")
    with pytest.raises(ConfigError, match=r"daemon: watch_max_wait \(1s\) is shorter"):
        site.cfg()
    site.write_config(site.config_path.read_text().replace("watch_settle: 3", "watch_settle: 0"))
    with pytest.raises(ConfigError, match=r"daemon.watch_settle: Input should be greater"):
        site.cfg()


WEEKLY_BASE = """\
site: {title: t, url: "https://x.org"}
digests:
  - name: daily
    from: a@x.org
    offer_weekly: true
"""


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        (  # offered, but nothing sends the weekly edition
            'jobs:\n  daily: {digest: daily, at: "08:00"}\n',
            "schedule.yaml:5: digests.0.offer_weekly: no job sends the weekly edition of 'daily';"
            ' add one, e.g. jobs: daily-weekly: {digest: daily, edition: week, cron: "0 8 * * 1"}',
        ),
        (  # two jobs for one edition would send it from whichever fires first
            'jobs:\n  a: {digest: daily, at: "08:00"}\n  b: {digest: daily, edition: day,'
            ' at: "09:00"}\n',
            "jobs.b: the daily edition of 'daily' is already sent by job 'a'",
        ),
        ("jobs:\n  c: {run: collect, every: 1h, edition: week}\n", "jobs.c: edition: only a"),
    ],
)
def test_weekly_editions_are_scheduled_at_load(site, rest, message):
    assert message in _error(site, WEEKLY_BASE + rest)


def test_periods_and_weekly_offers_are_checked_at_load(site):
    daily = WEEKLY_BASE.replace("    offer_weekly: true\n", "")
    week_job = 'jobs:\n  w: {digest: daily, edition: week, cron: "0 8 * * 1"}\n'
    assert (
        "schedule.yaml:6: jobs.w: edition: 'week': digest 'daily' has no weekly edition (it has:"
        " day; a daily digest offers a weekly one with offer_weekly: true)"
    ) in _error(site, daily + week_job)
    assert "digests.0.period: Input should be 'day' or 'week'" in _error(
        site, daily + "    period: month\n"
    )
    assert "offer_weekly: a weekly digest (period: week) has no daily edition" in _error(
        site, WEEKLY_BASE + "    period: week\n"
    )
    site.write_config(WEEKLY_BASE + 'jobs:\n  d: {digest: daily, at: "08:00"}\n' + week_job[5:])
    cfg = site.cfg()
    assert cfg.digests[0].periods() == ("day", "week")
    assert (cfg.jobs["d"].edition, cfg.jobs["w"].edition) == (None, "week")
