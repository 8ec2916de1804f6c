"""Issue #11's reproductions: each hostile or broken input is a named rejection.

Every test first stores the seed post, then adds the bad input, and checks
three things: the bad file is rejected with its path and a one-line reason,
the good posts are stored, and a later run still stores new posts.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from syndicate.collect.collector import collect
from syndicate.config import ConfigError
from syndicate.slugs import MAX_SLUG, RESERVED, SLUG_RE, slugify
from syndicate.store import categories, posts
from syndicate.terms import guess_slug

from .conftest import NOW, ROOT


def bomb(key: str) -> str:
    """Nine levels of nine aliases: 387,420,489 items once expanded."""
    letters = "abcdefghi"
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, cur in itertools.pairwise(letters):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append(f"{key}: *i")
    return "\n".join(lines) + "\n"


def stored(store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(posts)).scalar_one())


def reasons_of(c) -> dict[str, str]:
    return {r.path.rsplit("/", 1)[-1]: r.reason for r in c.rejections}


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("2022-02-30", "invalid date '2022-02-30': day is out of range for month"),
        ("0001-01-01", "date out of range '0001-01-01'"),
        ("2022-13-01", "month must be in 1..12"),
        ("2022-02-01 10:00:99", "second must be in 0..59"),
        ("'2022-02-30 10:00:00 +0800'", "day is out of range for month"),
        ("9999-12-31 23:00:00 -0800", "date out of range"),
        ("[2022-01-01]", "not a date: [datetime.date(2022, 1, 1)]"),
    ],
)
def test_impossible_date_is_a_named_rejection(site, date, reason):
    site.add_seed()
    site.post("2022-02-28-t.md", date=date)
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    assert reason in reasons_of(c)["2022-02-28-t.md"]
    assert (c.new, c.rejected) == (1, 1)
    site.post("2022-03-01-later.md")  # the bad file does not block later posts
    assert collect(site.cfg(), store, now=NOW).new == 1
    assert stored(store) == 2


def test_impossible_date_through_the_cli_exits_2_naming_the_file(tmp_path):
    """The issue's own reproduction, on a copy of examples/site."""
    for name in ("examples", "schedule.yaml"):
        src = ROOT / name
        if src.is_dir():
            subprocess.run(["cp", "-r", str(src), str(tmp_path / name)], check=True)
        else:
            (tmp_path / name).write_bytes(src.read_bytes())
    bad = tmp_path / "examples/site/_posts/2022-02-28-t.md"
    bad.write_text("---\ntitle: t\ndate: 2022-02-30\n---\nx\n")
    exe = Path(sys.executable).parent / "syndicate"
    run = subprocess.run(
        [str(exe), "--config", str(tmp_path / "schedule.yaml"), "collect"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if "2022-02-28-t.md" in ln]
    assert lines and all("day is out of range for month" in ln for ln in lines)
    assert "35 new" in run.stdout


@pytest.mark.parametrize("key", ["categories", "title", "tags", "date", "unknown_key"])
def test_alias_bomb_in_front_matter_is_a_named_rejection(site, key):
    site.add_seed()
    path = site.posts / "2022-02-27-bomb.md"
    path.write_text("---\ntitle: t\n" + bomb(key).replace("title: *i", "title: *i") + "---\nx\n")
    store = site.store()
    tracemalloc.start()
    started = time.monotonic()
    c = collect(site.cfg(), store, now=NOW)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "alias bomb" in reasons_of(c)["2022-02-27-bomb.md"]
    assert c.new == 1
    # bounds, not a benchmark: the expansion would take minutes and gigabytes
    assert elapsed < 20
    assert peak < 200 * 1024 * 1024


def test_alias_bomb_in_config_is_a_named_error_even_under_an_unknown_key(site):
    site.extend_config("junk:\n" + "".join("  " + ln + "\n" for ln in bomb("z").splitlines()))
    tracemalloc.start()
    with pytest.raises(ConfigError) as exc:
        site.cfg()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(exc.value).startswith(f"{site.config_path}: invalid YAML: document too large")
    assert "alias bomb" in str(exc.value)
    assert "\n" not in str(exc.value)
    assert peak < 200 * 1024 * 1024


def test_deep_nesting_is_refused_with_its_line(site):
    site.extend_config("junk: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(ConfigError, match=r"schedule.yaml:\d+: invalid YAML: nested more than"):
        site.cfg()


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("categories: " + " ".join(f"c{i}" for i in range(300)), "300 categories (more than"),
        ("categories: " + " ".join(f"c{i}" for i in range(100_000)), "100,000 categories"),
        ("categories: " + " ".join(f"c{i}" for i in range(1_000_000)), "document too large"),
        ("tags: [" + ", ".join(f"t{i}" for i in range(51)) + "]", "51 tags (more than max_tags"),
        ("categories: [[a, b], c]", "categories: each entry must be a name, got a list"),
        ("categories: {a: 1}", "categories: expected a name or a list of names, got a mapping"),
        ("permalink: [a]", "permalink: expected text, got a list"),
    ],
)
def test_categories_and_tags_are_capped_and_typed(site, extra, reason):
    site.add_seed()
    site.post("2022-02-27-many.md", categories=None, title="t", extra=extra)
    c = collect(site.cfg(), site.store(), now=NOW)
    assert reason in reasons_of(c)["2022-02-27-many.md"]
    assert c.new == 1


def test_title_as_a_list_is_rejected_not_published_as_its_repr(site):
    site.post("2022-02-27-t.md", extra="title2: x")
    (site.posts / "2022-02-27-t.md").write_text("---\ntitle: [a, b]\n---\nx\n")
    c = collect(site.cfg(), site.store(), now=NOW)
    assert reasons_of(c)["2022-02-27-t.md"] == "title: expected text, got a list"


def test_the_cap_is_configurable(site):
    site.write_config(
        site.config_path.read_text().replace(
            "    posts: site/_posts\n", "    posts: site/_posts\n    max_categories: 400\n"
        )
    )
    site.post("2022-02-27-many.md", categories=" ".join(f"c{i}" for i in range(300)))
    assert collect(site.cfg(), site.store(), now=NOW).new == 1


def test_long_and_reserved_category_names_get_safe_slugs(site):
    long_name = "a" * 5000
    site.post("2022-02-27-long.md", categories=f"[{long_name}, CON, nul, Aux, com1, all]")
    site.post("2022-02-26-long2.md", categories=f"[{long_name}b]")
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    assert c.new == 2
    with store.connect() as conn:
        slugs = set(conn.execute(select(categories.c.slug)).scalars())
    for slug in slugs:
        assert SLUG_RE.match(slug) and len(slug) <= MAX_SLUG and slug not in RESERVED
    assert {"con-1", "nul-1", "aux-1", "com1-1", "all-1"} <= slugs
    long_slugs = sorted(s for s in slugs if s.startswith("aaaa"))
    assert len(long_slugs) == 2  # cut to the same prefix, told apart by the hash
    # the build that used to fail with "File name too long" writes every feed
    from syndicate.publish.build import build

    result = build(site.cfg(), store)
    assert (site.root / "feeds" / f"{long_slugs[0]}.atom").is_file()
    assert (site.root / "feeds" / "con-1.rss").is_file()
    assert result is not None


def test_slug_cut_is_stable_and_distinct():
    a, b = "x" * 500, "x" * 499 + "y"
    assert slugify(a) == slugify(a) == guess_slug(a, {})
    assert slugify(a) != slugify(b)
    assert len(slugify(a)) == MAX_SLUG
    assert guess_slug("NUL", {}) == "nul-1"


def test_symlinks_out_of_the_source_folder_are_not_followed(site, tmp_path):
    site.add_seed()
    outside = tmp_path / "secret"
    outside.mkdir()
    secret = outside / "2022-01-01-secret.md"
    secret.write_text("---\ntitle: secret\n---\n<p>PRIVATE KEY</p>\n")
    os.symlink(secret, site.posts / "2022-01-01-secret.md")
    os.symlink(outside, site.posts / "linked-folder")
    inside = site.posts / "drafts"
    inside.mkdir()
    site.post("2022-01-02-kept.md", folder=inside)
    os.symlink(inside / "2022-01-02-kept.md", site.posts / "2022-01-03-alias.md")
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    reasons = reasons_of(c)
    assert "outside the source folder" in reasons["2022-01-01-secret.md"]
    assert "outside the source folder" in reasons["linked-folder"]
    with store.connect() as conn:
        bodies = " ".join(conn.execute(select(posts.c.content_html)).scalars())
    assert "PRIVATE KEY" not in bodies
    # the seed, the file in drafts/ and its alias: a link that stays inside is followed
    assert c.new == 3
    assert "2022-01-03-alias.md" not in reasons


def test_symlinks_can_be_refused_altogether(site):
    inside = site.posts / "drafts"
    inside.mkdir()
    site.post("2022-01-02-kept.md", folder=inside)
    os.symlink(inside / "2022-01-02-kept.md", site.posts / "2022-01-03-alias.md")
    site.write_config(
        site.config_path.read_text().replace(
            "    posts: site/_posts\n", "    posts: site/_posts\n    follow_symlinks: false\n"
        )
    )
    c = collect(site.cfg(), site.store(), now=NOW)
    assert "follow_symlinks: false" in reasons_of(c)["2022-01-03-alias.md"]
    assert c.new == 1


@pytest.mark.parametrize(
    ("feeds_dir", "clash"),
    [
        ("site", "is the site root of sources.0"),
        ("site/_posts", "is the posts folder of sources.0"),
        ("site/_posts/out", "is inside the posts folder"),
        ("site/feeds", "is inside the site root"),
        (".", "contains the posts folder"),
        ("/", "is the file system root"),
    ],
)
def test_feeds_dir_is_kept_apart_from_the_input(site, feeds_dir, clash):
    site.extend_config(f"feeds:\n  dir: {feeds_dir}\n")
    with pytest.raises(ConfigError) as exc:
        site.cfg()
    assert clash in str(exc.value)
    assert str(exc.value).startswith(f"{site.config_path}:")
    assert "feeds.dir: " in str(exc.value)


def test_feeds_dir_may_not_be_the_home_folder(site, monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    site.extend_config(f"feeds:\n  dir: {home}\n")
    with pytest.raises(ConfigError, match="is the home folder"):
        site.cfg()
