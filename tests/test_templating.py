"""The site's ``templates/`` folder: searched file by file before the packaged defaults.

Every kind of template is overridden with a real file and rendered for real
(digest HTML, text and CSS, the index page, snippets, feed.css, the feed pages, a web page);
``syndicate templates list`` and ``eject`` are run through the CLI.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from syndicate import templating
from syndicate.cli import main
from syndicate.collect.collector import collect
from syndicate.config import Config
from syndicate.digest import compose
from syndicate.digest.render import Placeholders, Rendered, Renderer
from syndicate.publish.build import build
from syndicate.store import Store, open_store

from .conftest import NOW, ROOT, Site
from .digest_support import collect_at, configure, write_posts
from .serving import SECRET, LiveServer, digest_site, populate

PACKAGE = ROOT / "syndicate" / "templates"
BANNER = '<span class="banner"'


def cli(site: Site, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args])


def own(site: Site, name: str, text: str) -> Path:
    """Write ``templates/<name>`` of the test site."""
    path = site.root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def packaged(name: str) -> str:
    return (PACKAGE / name).read_text(encoding="utf-8")


def render_digest(cfg: Config, store: Store, ph: Placeholders | None = None) -> Rendered:
    digest = cfg.digests[0]
    plan = compose.plan(cfg, store, digest, NOW)
    view = compose.edition_view(cfg, plan, plan.slugs, compose.load_posts(store, plan))
    return Renderer(cfg, digest, ph or Placeholders()).render(view)


@pytest.fixture
def digest_store(site: Site) -> Store:
    configure(site)
    write_posts(site, {"caijing": 2, "keji": 1})
    store = site.store()
    collect_at(site, store)
    return store


@pytest.fixture
def built(site: Site) -> Store:
    site.add_seed()
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    return store


# --- the folder and the lookup order -------------------------------------------------------


def test_default_folder_is_beside_the_config_and_may_be_missing(site, digest_store):
    cfg = site.cfg()
    assert cfg.templates == site.root / "templates"
    assert not cfg.templates.exists()
    for name in templating.names():
        assert templating.resolve(name, cfg.templates) == PACKAGE / name
    html = render_digest(cfg, digest_store).html
    assert 'class="site"' in html and BANNER not in html


def test_resolve_order_override_then_folder_then_package(tmp_path):
    folder = tmp_path / "templates"
    assert templating.resolve("digest.css", folder) == PACKAGE / "digest.css"
    (folder / "web").mkdir(parents=True)
    (folder / "digest.css").write_text("x")
    (folder / "web" / "base.html.j2").write_text("x")
    assert templating.resolve("digest.css", folder) == folder / "digest.css"
    assert templating.resolve("web/base.html.j2", folder) == folder / "web/base.html.j2"
    assert templating.resolve("feed.css", folder) == PACKAGE / "feed.css"  # file by file
    mine = tmp_path / "mine.css"
    assert templating.resolve("digest.css", folder, override=mine) == mine


@pytest.mark.parametrize("name", ["../schedule.yaml", "/etc/passwd", "web/../../x", "", "a\\b"])
def test_names_cannot_leave_the_folder(tmp_path, name):
    with pytest.raises(templating.UnknownTemplate):
        templating.resolve(name, tmp_path)


# the intro line of the packaged digest (以下是本期… in zh-CN), which the overrides mark
INTRO = '{{ _("Here are the new posts picked for you in this edition.") }}'


# --- each kind of template ----------------------------------------------------------------


def test_digest_html_override(site, digest_store):
    own(
        site,
        "digest.html.j2",
        packaged("digest.html.j2").replace(INTRO, "SITE-HTML " + INTRO),
    )
    rendered = render_digest(site.cfg(), digest_store)
    assert "SITE-HTML 以下是本期" in rendered.html
    assert "SITE-HTML" not in rendered.text  # the text part still comes from the package


def test_digest_text_override_is_not_html_escaped(site, digest_store):
    own(
        site,
        "digest.txt.j2",
        "SITE-TEXT {{ site.title }} <{{ digest.name }}> & {{ edition.count }}\n",
    )
    rendered = render_digest(site.cfg(), digest_store)
    assert rendered.text == "SITE-TEXT 金融资讯网 <daily> & 3\n"
    assert "SITE-TEXT" not in rendered.html


def test_digest_css_override(site, digest_store):
    default = render_digest(site.cfg(), digest_store).html
    assert "#b3261e" in default  # the packaged masthead rule, inlined
    own(site, "digest.css", ".site { color: #123456; }\n")
    html = render_digest(site.cfg(), digest_store).html
    assert "#123456" in html and "#b3261e" not in html


def test_a_digests_own_templates_win_over_the_folder(site):
    configure(site, digest_extra="templates: {html: mail/own.html.j2, css: mail/own.css}")
    write_posts(site, {"caijing": 1})
    store = site.store()
    collect_at(site, store)
    (site.root / "mail").mkdir()
    (site.root / "mail/own.html.j2").write_text(
        packaged("digest.html.j2").replace(INTRO, "DIGEST-OWN " + INTRO), encoding="utf-8"
    )
    (site.root / "mail/own.css").write_text(".site { color: #abcdef; }\n", encoding="utf-8")
    own(
        site,
        "digest.html.j2",
        packaged("digest.html.j2").replace(INTRO, "FOLDER " + INTRO),
    )
    own(site, "digest.css", ".site { color: #123456; }\n")
    own(site, "digest.txt.j2", "FOLDER-TEXT\n")
    rendered = render_digest(site.cfg(), store)
    assert "DIGEST-OWN" in rendered.html and "FOLDER" not in rendered.html
    assert "#abcdef" in rendered.html and "#123456" not in rendered.html
    assert rendered.text == "FOLDER-TEXT\n"  # no templates.text: the folder's file is used


def test_index_page_override_and_rebuild_when_it_changes(site, built):
    index = site.root / "feeds" / "index.html"
    assert build(site.cfg(), built).skipped is False
    assert "SITE-INDEX" not in index.read_text(encoding="utf-8")
    path = own(site, "index.html.j2", "<p>SITE-INDEX {{ site.title }} {{ rows|length }}</p>\n")
    result = build(site.cfg(), built)
    assert not result.skipped and "index.html" in result.written
    # one row per feed: all posts and each category (tags are off)
    assert index.read_text(encoding="utf-8") == f"<p>SITE-INDEX 金融资讯网 {result.feeds}</p>\n"
    assert build(site.cfg(), built).skipped  # unchanged override: nothing to do
    path.write_text("<p>EDITED</p>\n", encoding="utf-8")
    assert not build(site.cfg(), built).skipped
    assert index.read_text(encoding="utf-8") == "<p>EDITED</p>\n"
    path.unlink()  # back to the packaged page
    build(site.cfg(), built)
    assert "EDITED" not in index.read_text(encoding="utf-8")
    assert "feeds.opml" in index.read_text(encoding="utf-8")


def test_snippet_override(site, built):
    own(
        site,
        "snippet.html.j2",
        '{% for l in links %}<link data-site href="{{ l.href }}">\n{% endfor %}',
    )
    build(site.cfg(), built)
    text = (site.root / "feeds" / "snippets" / "caijing.html").read_text(encoding="utf-8")
    assert text.startswith('<link data-site href="https://finews.withounder.com/feeds/caijing.')


def test_feed_css_override_is_copied_as_it_is(site, built):
    build(site.cfg(), built)
    css = site.root / "feeds" / "feed.css"
    assert css.read_bytes() == (PACKAGE / "feed.css").read_bytes()
    mine = packaged("feed.css") + "/* site styling */\n"
    own(site, "feed.css", mine)
    assert "feed.css" in build(site.cfg(), built).written
    assert css.read_text(encoding="utf-8") == mine


def test_feed_page_override_renders_every_page(site, built):
    build(site.cfg(), built)
    own(site, "feed.html.j2", "<p>{{ feed.title }}: {{ entries|length }} · {{ address }}</p>\n")
    written = build(site.cfg(), built).written
    assert {"all.html", "caijing.html"} <= set(written)
    page = (site.root / "feeds" / "caijing.html").read_text(encoding="utf-8")
    assert page.startswith("<p>金融资讯网 · 财经: ")
    assert page.endswith(" · https://finews.withounder.com/feeds/caijing.rss</p>\n")


def test_web_page_override_is_used_by_packaged_pages_and_picked_up_live(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    populate(site)
    with LiveServer(site.cfg()) as server:
        before = httpx.get(server.url + "/digests/")
        assert before.status_code == 200 and "SITE-WEB" not in before.text
        base = packaged("web/base.html.j2").replace("<body>", "<body>\n<p>SITE-WEB</p>", 1)
        assert "SITE-WEB" in base
        own(site, "web/base.html.j2", base)
        # digests.html.j2 is the packaged page: it extends the site's base
        after = httpx.get(server.url + "/digests/")
        assert after.status_code == 200 and "<p>SITE-WEB</p>" in after.text


# --- the repository's own example -----------------------------------------------------------


def test_the_example_sites_digest_header_and_its_fallback(tmp_path):
    shutil.copytree(ROOT / "examples/site/_posts", tmp_path / "site/_posts")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    text = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    (tmp_path / "schedule.yaml").write_text(
        text.replace("examples/site/_posts", "site/_posts"), encoding="utf-8"
    )
    from syndicate.config import load

    cfg = load(tmp_path / "schedule.yaml")
    assert cfg.templates == tmp_path / "templates"
    store = open_store(cfg.store.url)
    collect(cfg, store, now=NOW)
    ph = Placeholders()
    custom = render_digest(cfg, store, ph).html
    assert BANNER in custom and "每日要闻 · 编辑部精选 — 金融资讯网" in custom
    (tmp_path / "templates" / "digest.html.j2").unlink()
    fallback = render_digest(cfg, store, ph).html
    assert BANNER not in fallback
    assert fallback == render_digest(cfg.model_copy(update={"templates": None}), store, ph).html


def test_the_example_override_is_the_packaged_template_plus_the_banner():
    """Kept in step with the package: only the comment and the banner line differ."""
    lines = (ROOT / "templates/digest.html.j2").read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[3:] if not line.startswith(BANNER)]
    assert lines[0].startswith("{#-") and lines[2].endswith("-#}")
    assert body == packaged("digest.html.j2").splitlines()


# --- syndicate templates list / eject -----------------------------------------------------


def test_list_shows_every_template_and_where_it_comes_from(site):
    configure(site, digest_extra="templates: {text: mail/own.txt.j2}")
    result = cli(site, "templates", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    folder = site.root / "templates"
    assert (
        lines[0] == f"templates folder: {folder} (missing: every template is the packaged default)"
    )
    for name in templating.names():
        assert any(line.split() == [name, "package", str(PACKAGE / name)] for line in lines), name
    own(site, "web/base.html.j2", "x")
    own(site, "digest.htm.j2", "typo")
    lines = cli(site, "templates", "list").output.splitlines()
    assert lines[0] == f"templates folder: {folder}"
    assert ["web/base.html.j2", "site", str(folder / "web/base.html.j2")] in [
        line.split() for line in lines
    ]
    assert ["digest.html.j2", "package", str(PACKAGE / "digest.html.j2")] in [
        line.split() for line in lines
    ]
    assert f"  {folder / 'digest.htm.j2'}" in lines
    assert f"  daily: templates.text: {site.root / 'mail/own.txt.j2'}" in lines


def test_eject_all(site):
    result = cli(site, "templates", "eject")
    assert result.exit_code == 0, result.output
    folder = site.root / "templates"
    assert result.output.splitlines() == [f"wrote {folder / n}" for n in templating.names()]
    for name in templating.names():
        assert (folder / name).read_bytes() == (PACKAGE / name).read_bytes()
    assert "web/archive.html.j2" in templating.names()
    assert {"confirm.html.j2", "confirm.txt.j2", "web/subscribe_form.html.j2"} <= set(
        templating.names()
    )
    assert len(templating.names()) == len(list(PACKAGE.rglob("*.j2"))) + 2  # + the two css files
    listed = cli(site, "templates", "list").output
    assert " package " not in listed


def test_eject_named_then_refuse_then_force(site):
    folder = site.root / "templates"
    result = cli(site, "templates", "eject", "digest.css", "web/base.html.j2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {folder / 'digest.css'}",
        f"wrote {folder / 'web/base.html.j2'}",
    ]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "digest.css",
        "web/base.html.j2",
    ]
    (folder / "digest.css").write_text("/* edited */\n", encoding="utf-8")
    result = cli(site, "templates", "eject", "digest.css", "feed.css")
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"wrote {folder / 'feed.css'}"]
    assert f"kept {folder / 'digest.css'}: it exists (use --force to overwrite)" in result.stderr
    assert (folder / "digest.css").read_text(encoding="utf-8") == "/* edited */\n"
    result = cli(site, "templates", "eject", "--force", "digest.css")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"wrote {folder / 'digest.css'}"]
    assert (folder / "digest.css").read_bytes() == (PACKAGE / "digest.css").read_bytes()


def test_eject_unknown_name_names_it_and_writes_nothing(site):
    result = cli(site, "templates", "eject", "digest.css", "digest.htm.j2")
    assert result.exit_code == 1
    assert "syndicate: error: unknown template 'digest.htm.j2'" in result.stderr
    assert "web/base.html.j2" in result.stderr  # the names it could have been
    assert not (site.root / "templates").exists()


def test_templates_key_is_resolved_like_other_paths(site, digest_store):
    site.extend_config("templates: look\n")
    assert site.cfg().templates == site.root / "look"
    own_dir = site.root / "look"
    own_dir.mkdir()
    (own_dir / "digest.txt.j2").write_text("LOOK\n", encoding="utf-8")
    assert render_digest(site.cfg(), digest_store).text == "LOOK\n"
    result = cli(site, "templates", "eject", "feed.css")
    assert result.output.strip() == f"wrote {own_dir / 'feed.css'}"
