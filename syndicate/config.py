"""Load and validate ``schedule.yaml``.

Errors name the file, the line and the dotted key, so an operator can go
straight to the mistake. Relative paths are resolved against the file's own
folder, so the same config works from any working directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .slugs import SLUG_RE

try:  # the C loader is several times faster on large front matter
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover - depends on the libyaml build
    from yaml import SafeLoader as YamlLoader  # type: ignore[assignment]

DEFAULT_CONFIG = "schedule.yaml"
ENV_CONFIG = "SYNDICATE_CONFIG"
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}


class ConfigError(Exception):
    """The config cannot be used; ``str()`` is the message to show."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteConfig(Strict):
    title: str
    url: str
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    permalink: str = "date"
    description: str = ""
    author: str = ""
    email: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an absolute http(s) URL, e.g. https://example.org")
        return v.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r} (use an IANA name like Asia/Shanghai)"
            ) from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def permalink_pattern(self) -> str:
        return PERMALINK_STYLES.get(self.permalink, self.permalink)


class CleanRules(Strict):
    """How a post body is tidied; the defaults are the seed site's conventions."""

    credit: str = r"^[（(]\s*(?:文章)?来源\s*[：:]\s*(?P<name>.+?)\s*[）)]$"
    original_link: bool = True
    navigation: str = r"^返回"
    summary_chars: int = Field(140, ge=20, le=2000)

    @field_validator("credit", "navigation")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class PostsSource(Strict):
    posts: Path
    name: str = ""
    future: bool = False
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    clean: CleanRules = CleanRules()

    @property
    def label(self) -> str:
        return self.name or f"posts:{self.posts}"


class StoreConfig(Strict):
    url: str = "sqlite:///var/syndicate.db"


class FeedsConfig(Strict):
    dir: Path = Path("feeds")
    base_url: str = ""
    limit: int = Field(50, ge=1, le=10000)
    excerpt_only: bool = False
    tags: bool = False
    hub: str = ""
    formats: list[Literal["rss", "atom", "json"]] = ["rss", "atom", "json"]
    category_url: str = "/category/:slug.html"
    snippets: bool = True
    excerpt_only_for: list[str] = []


Source = PostsSource


class Config(Strict):
    site: SiteConfig
    sources: list[Source] = []
    categories: dict[str, str] = {}
    store: StoreConfig = StoreConfig()
    feeds: FeedsConfig = FeedsConfig()

    # set by load(): where the file was, for messages and relative paths
    path: Annotated[Path, Field(exclude=True)] = Path(DEFAULT_CONFIG)

    @field_validator("categories")
    @classmethod
    def _cat_slugs(cls, v: dict[str, str]) -> dict[str, str]:
        for slug in v:
            if not SLUG_RE.match(slug):
                raise ValueError(f"category slug {slug!r} must match [a-z0-9-]+")
        return v

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def feeds_base_url(self) -> str:
        return (self.feeds.base_url or self.site.url + "/feeds/").rstrip("/") + "/"


def _line_map(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(_line_map(value, (*path, key.value)))
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            lines.update(_line_map(value, (*path, i)))
    return lines


def _locate(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    path: tuple[Any, ...] = ()
    best = lines.get(())
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
            best = lines[path]
    return best


def _resolve(cfg: dict[str, Any], base: Path) -> None:
    """Make relative paths relative to the config file, not the working directory."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value and not os.path.isabs(value):
            return str(base / value)
        return value

    for src in cfg.get("sources") or []:
        if isinstance(src, dict) and "posts" in src:
            src["posts"] = fix(src["posts"])
    if cfg.get("feeds") is None:
        cfg["feeds"] = {}
    if isinstance(cfg["feeds"], dict):
        cfg["feeds"]["dir"] = fix(cfg["feeds"].get("dir") or "feeds")
    store = cfg.get("store")
    url = store.get("url") if isinstance(store, dict) else None
    url = url or StoreConfig().url
    m = re.match(r"^sqlite(\+\w+)?:///(?!/)(.+)$", url)
    if m and m.group(2) != ":memory:":
        url = f"sqlite{m.group(1) or ''}:///{base / m.group(2)}"
    if isinstance(store, dict) or store is None:
        cfg["store"] = {**(store or {}), "url": url}
    for hook in _RESOLVERS:
        hook(cfg, fix)


# later sections (digests, delivery, subscribers) register their path fixes here
_RESOLVERS: list[Any] = []


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    cfg_path = config_path(path)
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{cfg_path}: config file not found (use --config PATH or set {ENV_CONFIG})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot read: {exc}") from None
    return loads(text, cfg_path)


def loads(text: str, path: Path) -> Config:
    try:
        node = yaml.compose(text, Loader=YamlLoader)
        data = yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping of sections (site:, sources:)")
    lines = _line_map(node) if node is not None else {}
    base = path.resolve().parent
    _resolve(data, base)
    data["path"] = path.resolve()
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _locate(loc, lines)
            key = ".".join(str(p) for p in loc if not _is_union_tag(p)) or "(top level)"
            where = f"{path}:{line}" if line else str(path)
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            msgs.append(f"{where}: {key}: {msg}")
        raise ConfigError("\n".join(msgs)) from None


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part[:1].isupper()
