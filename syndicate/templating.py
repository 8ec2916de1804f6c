"""Every template the site renders or copies, found one way: the site folder, then the package.

A site customises its look by putting a file of the same name in its
``templates/`` folder (``templates:`` in schedule.yaml): ``digest.html.j2``,
``digest.css``, ``index.html.j2``, ``feed.css``, ``web/base.html.j2``, … Each
file is looked up on its own, so a folder holding one edited file still gets
every other template from the package, and a missing folder is no error.

``resolve`` is the one place that decides which file a name means; the Jinja
loader, the plain reads (``digest.css``, ``feed.css``), the build's
fingerprint, ``syndicate templates list`` and ``eject`` all go through it, so
what the list shows is what gets rendered.

jinja2 is imported only when a template is compiled: a build that finds
nothing changed reads template bytes through here without paying for it.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment, Template

PACKAGE_DIR = Path(__file__).resolve().parent / "templates"
# the templates rendered as plain text: everything else is HTML or XML and autoescaped
TEXT_SUFFIXES = (".txt.j2",)


class UnknownTemplate(ValueError):
    """A name that is not one of the packaged templates; ``str()`` names it."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown template {name!r} (see `syndicate templates list`; one of: "
            + ", ".join(names())
            + ")"
        )
        self.name = name


@functools.cache
def names() -> tuple[str, ...]:
    """Every packaged template, as the relative name a site folder overrides it by."""
    return tuple(
        sorted(
            p.relative_to(PACKAGE_DIR).as_posix()
            for p in PACKAGE_DIR.rglob("*")
            if p.is_file() and not _hidden(p.relative_to(PACKAGE_DIR))
        )
    )


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def _check(name: str) -> str:
    """A relative name inside the folder: an absolute path or ``..`` must never escape it."""
    pure = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or pure.is_absolute()
        or any(p in ("", ".", "..") for p in pure.parts)
    ):
        raise UnknownTemplate(name)
    return pure.as_posix()


def _find(name: str, folders: Iterable[Path]) -> Path:
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return PACKAGE_DIR / name


def resolve(name: str, folder: Path | None = None, *, override: Path | None = None) -> Path:
    """The file that template ``name`` comes from.

    Order: ``override`` (a digest's own ``templates.html/text/css``), then
    ``folder/name`` if that file exists (the site's ``templates/``), then the
    packaged default. The result need not exist for a name the package lacks.
    """
    if override is not None:
        return override
    return _find(_check(name), [folder] if folder is not None else [])


def read_bytes(name: str, folder: Path | None = None, *, override: Path | None = None) -> bytes:
    """A template's bytes, for the files that are copied rather than rendered (``feed.css``)."""
    return resolve(name, folder, override=override).read_bytes()


def read_text(name: str, folder: Path | None = None, *, override: Path | None = None) -> str:
    """A template's text (``digest.css``, inlined into every digest)."""
    return resolve(name, folder, override=override).read_text(encoding="utf-8")


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(TEXT_SUFFIXES)


_Source = tuple[str, str, Callable[[], bool]]


def _source(name: str, folders: tuple[Path, ...]) -> _Source | None:
    """What the Jinja loader asks for: through ``resolve``'s order, reloaded when it changes.

    The up-to-date check also notices a site file that appeared (or went)
    after the template was compiled, so a running ``syndicate serve`` picks
    up a new override without a restart.
    """
    from jinja2.loaders import split_template_path

    clean = "/".join(split_template_path(name))  # TemplateNotFound for "..", like Jinja's own
    path = _find(clean, folders)
    try:
        mtime = path.stat().st_mtime_ns
        source = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None

    def uptodate() -> bool:
        try:
            return _find(clean, folders) == path and path.stat().st_mtime_ns == mtime
        except OSError:
            return False

    return source, str(path), uptodate


# Jinja's i18n extension: ``{% trans %}`` and ``_()`` in every template (see i18n.py)
EXTENSIONS = ("jinja2.ext.i18n",)


@functools.lru_cache(maxsize=32)
def _environment(folders: tuple[Path, ...], autoescape: bool | None, language: str) -> Environment:
    """One environment per search order and language: a new one compiles its templates again.

    The language is the environment's, not the render's: the translations are
    installed once, so a template never renders in a language it was not
    asked for.
    """
    from jinja2 import Environment, FunctionLoader, StrictUndefined

    from . import i18n

    env = Environment(
        loader=FunctionLoader(functools.partial(_source, folders=folders)),
        autoescape=_autoescape if autoescape is None else autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=list(EXTENSIONS),
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    # dates and counts as the locale writes them: {{ e.date | format_date }}, {{ n | number }}
    env.filters["format_date"] = functools.partial(i18n.format_date, language)
    env.filters["number"] = functools.partial(i18n.format_number, language)
    return env


def environment(folder: Path | None = None, *, language: str) -> Environment:
    """The Jinja environment of a site: ``folder`` (its ``templates/``) first, then the package.

    Text templates (``*.txt.j2``) are not autoescaped; all others are.
    ``language`` is ``site.language``: it picks the gettext catalog.
    """
    return _environment((folder,) if folder is not None else (), None, language)


def template(
    name: str, folder: Path | None = None, *, language: str, override: Path | None = None
) -> Template:
    """Template ``name`` compiled, found as ``resolve`` finds it, speaking ``language``.

    An ``override`` is loaded with its own folder searched first (so its
    ``{% include %}``s work as they did), then the site folder and the package;
    it is escaped as the template it stands in for would be.
    """
    if override is None:
        return environment(folder, language=language).get_template(_check(name))
    folders = (override.parent,) if folder is None else (override.parent, folder)
    return _environment(folders, _autoescape(name), language).get_template(override.name)


@dataclass(frozen=True)
class Resolved:
    """One row of ``syndicate templates list``."""

    name: str
    path: Path
    origin: str  # "site": the site folder's file; "package": the default; "extra": site only


def listing(folder: Path | None) -> list[Resolved]:
    """Every packaged name and the file it resolves to, then site files that override nothing.

    The extra files are shown so that a misspelt override (``digest.htm.j2``)
    is visible; they may also be partials that an override includes.
    """
    rows = []
    for name in names():
        path = resolve(name, folder)
        rows.append(Resolved(name, path, "package" if path == PACKAGE_DIR / name else "site"))
    if folder is not None and folder.is_dir():
        known = set(names())
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder)
            if p.is_file() and not _hidden(rel) and rel.as_posix() not in known:
                rows.append(Resolved(rel.as_posix(), p, "extra"))
    return rows


@dataclass
class Ejected:
    """What ``eject`` did: files written, and files left alone because they exist."""

    written: list[Path]
    kept: list[Path]


def eject(folder: Path, wanted: Iterable[str] = (), *, force: bool = False) -> Ejected:
    """Copy packaged defaults (all, or the ``wanted`` names) into ``folder`` to be edited.

    An existing file is someone's edit: it is kept unless ``force``. Every
    name is checked before anything is written, so a typo writes nothing.
    """
    chosen = list(dict.fromkeys(wanted)) or list(names())
    for name in chosen:
        if name not in names():
            raise UnknownTemplate(name)
    result = Ejected([], [])
    for name in chosen:
        target = folder / name
        if target.exists() and not force:
            result.kept.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DIR / name, target)
        result.written.append(target)
    return result
