"""Property tests: whatever a post file or config file holds, the answer is named.

A post ends as a stored post, a skip or a rejection whose reason says what
was wrong; it never raises, and never ends in ``parse_file``'s safety net
("cannot parse: …"), which exists for production and would mean a case the
code did not think of. A config file ends as a ``Config`` or a one-message
``ConfigError``. Each example is bounded in time and memory.

The example counts are small so that ``make test`` stays quick; ``make fuzz``
runs the same properties with the ``fuzz`` profile (many more examples).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from datetime import UTC, date, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.collect import posts as post_files
from syndicate.collect.collector import collect
from syndicate.config import ConfigError, load, loads
from syndicate.model import ParsedPost, Rejection

from .conftest import NOW, SITE_YAML

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,  # the host is shared: time is bounded by the assertions below instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SECONDS = 10  # per example: a bomb or a quadratic path takes minutes
PEAK_BYTES = 256 * 1024 * 1024

names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=30
) | st.sampled_from(["caijing", "网信中国", "../../etc", "CON", "nul", "a" * 300, " ", "-"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | names
    | st.dates(min_value=date(1, 1, 1))
    | st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=8))))
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(names, inner, max_size=4),
    max_leaves=20,
)
date_texts = st.from_regex(
    r"\A\d{1,5}-\d{1,2}-\d{1,2}( \d{1,2}:\d{1,2}(:\d{1,2})?( [+-]\d{2,4}| Z)?)?\Z"
)
keys = st.sampled_from(
    [
        *("title", "date", "categories", "category", "tags", "tag", "published", "permalink"),
        *("slug", "author", "excerpt", "last_modified_at", "updated", "layout", "summary"),
    ]
)


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    """A front matter: YAML dumped from generated values, then perhaps hand-mangled."""
    fm = draw(st.dictionaries(keys, values | date_texts, max_size=6))
    text = yaml.safe_dump(fm, allow_unicode=True, default_flow_style=draw(st.booleans()))
    mangle = draw(st.sampled_from(["none", "alias", "tag", "truncate", "date", "indent"]))
    if mangle == "alias":  # anchors and aliases, nested a few levels
        depth, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        lines = ["l0: &l0 [x]"] + [
            f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, depth)
        ]
        key = draw(keys)
        text = "\n".join(lines) + f"\n{key}: *l{depth - 1}\n" + text
    elif mangle == "tag":
        tag = draw(st.sampled_from(["!!int", "!!float", "!!binary", "!!timestamp", "!!set"]))
        text += f"{draw(keys)}: {tag} {draw(names)!r}\n"
    elif mangle == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif mangle == "date":
        text += f"date: {draw(date_texts)}\n"
    elif mangle == "indent":
        text = "  " + text.replace("\n", "\n" + draw(st.sampled_from(["", " ", "\t"])))
    return text


encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"])


@st.composite
def post_bytes(draw: st.DrawFn) -> bytes:
    text = "---\n" + draw(front_matter()) + "---\n" + draw(st.text(max_size=200)) + "\n"
    return text.encode(draw(encodings), errors="replace")


def _bounded(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.monotonic() - started < SECONDS
    assert peak < PEAK_BYTES
    return result


def _named(result: object) -> None:
    assert isinstance(result, ParsedPost | Rejection | post_files.Skip), result
    if isinstance(result, Rejection):
        assert result.reason and "\n" not in result.reason
        assert not result.reason.startswith("cannot parse:"), result.reason  # the safety net


@given(data=post_bytes())
def test_any_front_matter_is_parsed_or_named(tmp_path_factory, site_cfg, data):
    folder = tmp_path_factory.mktemp("p")
    path = folder / "2022-02-10-fuzz.md"
    path.write_bytes(data)
    entry = post_files.FileEntry(str(path), "_posts/" + path.name, (), len(data), 0)
    ctx = post_files.context(site_cfg.site, site_cfg.sources[0], NOW, {})
    _named(_bounded(lambda: post_files.parse_file(entry, ctx)))


@given(batch=st.lists(post_bytes(), min_size=1, max_size=4))
@settings(max_examples=max(15, settings.default.max_examples // 20))  # each is a whole collect
def test_collect_stores_or_names_every_file(tmp_path_factory, stores, batch):
    root = tmp_path_factory.mktemp("site")
    (root / "site/_posts").mkdir(parents=True)
    (root / "schedule.yaml").write_text(SITE_YAML, encoding="utf-8")
    (root / "site/_posts/2022-02-01-good.md").write_text(
        "---\ntitle: 好\ndate: 2022-02-01 08:00:00 +0800\n---\n<p>正文。</p>\n", encoding="utf-8"
    )
    for i, data in enumerate(batch):
        (root / f"site/_posts/2022-02-1{i}-f{i}.md").write_bytes(data)
    cfg = load(root / "schedule.yaml")
    from syndicate.store import open_store

    with stores.fresh() as url:  # a new store each example, on either kind of store
        cfg = cfg.model_copy(update={"store": cfg.store.model_copy(update={"url": url})})
        store = open_store(url)
        try:
            c = _bounded(lambda: collect(cfg, store, now=NOW))
        finally:
            store.close()
    assert c.files == len(batch) + 1
    assert c.new + c.rejected + c.skipped == c.files
    assert c.new >= 1  # the good post is stored whatever its neighbours hold
    for r in c.rejections:
        assert r.path and not r.reason.startswith("cannot parse:"), r


config_sections = st.dictionaries(
    st.sampled_from(
        ["feeds", "store", "digests", "jobs", "daemon", "serve", "categories", "junk", "sources"]
    ),
    values,
    max_size=3,
)


@given(extra=config_sections, mangle=st.sampled_from(["none", "truncate", "tabs", "dup"]))
def test_any_config_loads_or_names_the_problem(tmp_path_factory, extra, mangle):
    text = SITE_YAML + yaml.safe_dump(extra, allow_unicode=True)
    if mangle == "truncate":
        text = text[: len(text) // 2]
    elif mangle == "tabs":
        text = text.replace("  ", "\t", 1)
    elif mangle == "dup":
        text += text
    path = tmp_path_factory.mktemp("cfg") / "schedule.yaml"
    try:
        _bounded(lambda: loads(text, path))
    except ConfigError as exc:
        assert str(exc).startswith(str(path)), exc
        assert "Traceback" not in str(exc)


@pytest.fixture(scope="module")
def site_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzzsite")
    (root / "site/_posts").mkdir(parents=True)
    (root / "schedule.yaml").write_text(SITE_YAML, encoding="utf-8")
    return load(Path(root / "schedule.yaml"))


def test_profiles_are_registered():
    """``make fuzz`` selects the long profile by name; a typo would silently run the short one."""
    assert settings.get_profile("fuzz").max_examples > settings.get_profile("ci").max_examples
