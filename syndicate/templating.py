"""One Jinja environment: the package's templates, overridable from the site's folder."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined


def environment(extra_dirs: Iterable[Path] = ()) -> Environment:
    loaders = [FileSystemLoader(str(d)) for d in extra_dirs]
    loaders.append(PackageLoader("syndicate", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def package_file(name: str) -> bytes:
    return (Path(__file__).parent / "templates" / name).read_bytes()
