"""``syndicate templates …``: see which file each template comes from, copy defaults to edit.

A thin layer over ``templating`` (which decides the lookup order); kept in its
own module so the root group only registers it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import templating
from .context import EXIT_OK, EXIT_REJECTED, Ctx, fail, handled


def _folder(obj: Ctx) -> Path:
    with handled():
        folder = obj.cfg.templates
    if folder is None:  # load() always sets it; a Config built by hand may not
        fail("the config names no templates folder")
    return folder


@click.group()
def templates() -> None:
    """The site's templates: its `templates/` folder first, file by file, then the package.

    A file in the folder (`templates:` in schedule.yaml, default templates/
    beside it) replaces the packaged template of the same name; a digest's
    own `templates.html/text/css` win over both for that digest.
    """


@templates.command("list")
@click.pass_obj
def list_(obj: Ctx) -> None:
    """Every template name and the file it is read from (site folder or package)."""
    folder = _folder(obj)
    rows = templating.listing(folder)
    state = "" if folder.is_dir() else " (missing: every template is the packaged default)"
    print(f"templates folder: {folder}{state}")
    width = max(len(r.name) for r in rows)
    for row in rows:
        if row.origin != "extra":
            print(f"{row.name:<{width}}  {row.origin:<7}  {row.path}")
    extra = [r for r in rows if r.origin == "extra"]
    if extra:
        print("in the folder but not a template name (used only if a template includes it):")
        for row in extra:
            print(f"  {row.path}")
    own = [
        (d.name, kind, path)
        for d in obj.cfg.digests
        for kind, path in (
            ("html", d.templates.html),
            ("text", d.templates.text),
            ("css", d.templates.css),
        )
        if path is not None
    ]
    if own:
        print("digest settings (win over the above for that digest):")
        for name, kind, path in own:
            print(f"  {name}: templates.{kind}: {path}")


@templates.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--force", is_flag=True, help="Overwrite files that are already in the folder.")
@click.pass_obj
def eject(obj: Ctx, names: tuple[str, ...], force: bool) -> None:
    """Copy the packaged templates (all, or each NAME) into the templates folder to edit.

    NAME is as `syndicate templates list` shows it (digest.html.j2,
    web/base.html.j2). A file already there is kept, not overwritten, unless
    --force; exit 2 when some were kept.
    """
    folder = _folder(obj)
    try:
        result = templating.eject(folder, names, force=force)
    except templating.UnknownTemplate as exc:
        fail(str(exc))
    for path in result.written:
        print(f"wrote {path}")
    for path in result.kept:
        print(f"kept {path}: it exists (use --force to overwrite)", file=sys.stderr)
    sys.exit(EXIT_REJECTED if result.kept else EXIT_OK)
