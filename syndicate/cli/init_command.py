"""``syndicate init SITE_DIR``: a Jekyll site → a schedule.yaml that reproduces its feeds.

Thin: ``setup/jekyll_config.py`` reads the site, ``setup/schedule_writer.py``
writes the file; this prints what was found and written, and what to run next.
"""

from __future__ import annotations

from pathlib import Path

import click

from .context import Ctx, handled


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Where to write the config (default: --config, else ./schedule.yaml).",
)
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
@click.pass_obj
def init(obj: Ctx, site_dir: Path, out: Path | None, force: bool) -> None:
    """Write a schedule.yaml that reproduces a Jekyll site's feeds.

    Reads SITE_DIR/_config.yml (title, description, url + baseurl, timezone,
    permalink, author, lang, plugins and jekyll-feed's `feed:` settings) and
    the categories and tags its posts use. A site with the jekyll-feed plugin
    gets `feeds.layout: jekyll-feed`: the same file names (/feed.xml,
    /feed/<category>.xml) and entry ids, so its subscribers keep their URLs.
    The file goes outside the site folder (Jekyll would publish the store
    beside it). Then: `syndicate run --once`. See docs/jekyll.md.
    """
    from ..config import DEFAULT_CONFIG
    from ..setup.jekyll_config import read_site
    from ..setup.schedule_writer import write

    target = out or Path(obj.config_path or DEFAULT_CONFIG)
    with handled():
        site = read_site(site_dir)
        written = write(site, target, force=force)
    feed = "jekyll-feed" if site.uses_jekyll_feed else "no jekyll-feed"
    print(f"read {site.config_file}: {site.title!r} at {site.url} ({feed})")
    cats = ", ".join(f"{name} ({n})" for name, n in site.categories.values()) or "none"
    print(f"found {site.posts} posts; categories: {cats}; {len(site.tags)} tags")
    for rejection in site.rejected:
        print(f"  will be rejected: {rejection.path}: {rejection.reason}")
    if not site.url_given:
        print(f"note: _config.yml has no url; {site.url} stands in (edit site.url)")
    if site.url_slash and site.uses_jekyll_feed:
        print(
            "note: _config.yml's url ends in '/', so jekyll-feed's links and ids have '//'"
            f" after the host; syndicate's are {site.url}/…: readers may show the last"
            " entries once more"
        )
    if not site.timezone_given:
        print(f"note: _config.yml has no timezone; this machine's ({site.timezone}) is used")
    if site.feed.collections:
        print("note: feed.collections is not reproduced: syndicate publishes posts only")
    if site.has_xslt:
        print(
            "note: feed.xslt.xml is not used: each feed gets an HTML page, and feed.css"
            " styles the raw XML (docs/feeds.md)"
        )
    layout = f"layout {written.cfg.feeds.layout}"
    print(f"wrote {written.path} ({layout}, feeds in {written.cfg.feeds.dir})")
    for url in written.feeds:
        print(f"  feed: {url}")
    here = Path.cwd() / DEFAULT_CONFIG
    config = "" if written.path == here.resolve() else f"--config {written.path} "
    print(f"next: syndicate {config}run --once")
