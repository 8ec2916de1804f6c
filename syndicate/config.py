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
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from . import safeyaml
from .errors import ConfigError, YamlError
from .slugs import MAX_SLUG, SLUG_RE, check_name, is_slug, slugify
from .timeutil import parse_duration

DEFAULT_CONFIG = "schedule.yaml"
ENV_CONFIG = "SYNDICATE_CONFIG"
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}


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
    # a front-matter date with a time but no offset: in site.timezone, or in UTC as
    # Jekyll 4 reads it (YAML's rule), which moves its URL's day and so its feed id
    naive_dates: Literal["site", "utc"] = "site"
    # `:categories` in a permalink: the slugs (/field-trips/…), or Jekyll's names as
    # written, lowercased (/field%20trips/…), which is in each post's link and id
    permalink_categories: Literal["slug", "name"] = "slug"
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    # a post with more is rejected: every category is a feed the post is written into
    max_categories: int = Field(50, ge=1, le=10_000)
    max_tags: int = Field(50, ge=1, le=10_000)
    # symlinks are followed only while they stay inside `posts`; false: never
    follow_symlinks: bool = True
    clean: CleanRules = CleanRules()

    @property
    def label(self) -> str:
        return self.name or f"posts:{self.posts}"


class StoreConfig(Strict):
    url: str = "sqlite:///var/syndicate.db"
    # when this environment variable is set, its value replaces ``url`` (a server's
    # password then stays out of schedule.yaml; the PostgreSQL test run uses it too)
    url_env: str = "SYNDICATE_STORE_URL"


class JekyllFeedTags(Strict):
    """jekyll-feed's ``feed.tags`` mapping: which tags get a feed, and where."""

    only: list[str] | None = None  # None: every tag
    except_: list[str] = Field([], alias="except")
    path: str = "/feed/by_tag/"  # jekyll-feed joins it and the tag as strings: keep the "/"

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return _site_path(v, "/feed/by_tag/")


class JekyllFeedConfig(Strict):
    """Where jekyll-feed wrote the site's feeds (its ``feed:`` settings), for that layout."""

    path: str = "/feed.xml"
    categories: list[str] = []
    tags: JekyllFeedTags = JekyllFeedTags()

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        v = _site_path(v, "/feed.xml")
        if not v.endswith(".xml") or v.endswith("/.xml"):
            raise ValueError(f"{v!r} must end in a file name with .xml, as /feed.xml does")
        return v

    @field_validator("categories")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        for name in v:  # each is a file name: feed/<name>.xml
            if not name.strip() or "/" in name or "\\" in name or name.startswith("."):
                raise ValueError(f"category {name!r} cannot be a file name (feed/<name>.xml)")
            check_name(name)
        return v


def _site_path(v: str, example: str) -> str:
    """A path below the site root, as written in _config.yml (with or without the first /)."""
    parts = v.strip().lstrip("/").split("/")
    if not v.strip() or any(p in (".", "..") or p.startswith(".") for p in parts if p):
        raise ValueError(f"{v!r} must be a path inside the site, like {example}")
    if any(ord(c) < 32 or c == "\\" for c in v):
        raise ValueError(f"{v!r} holds a control character or a backslash")
    return "/" + v.strip().lstrip("/")


class FeedsConfig(Strict):
    dir: Path = Path("feeds")
    # where each feed's files go: "syndicate" (<slug>.atom …), or jekyll-feed's own paths
    layout: Literal["syndicate", "jekyll-feed"] = "syndicate"
    jekyll_feed: JekyllFeedConfig = JekyllFeedConfig()
    base_url: str = ""
    limit: int = Field(50, ge=1, le=10000)
    excerpt_only: bool = False
    tags: bool = False
    hub: str = ""
    formats: list[Literal["rss", "atom", "json"]] = ["rss", "atom", "json"]
    category_url: str = "/category/:slug.html"
    tag_url: str = "/tag/:slug.html"
    snippets: bool = True
    excerpt_only_for: list[str] = []


class FeedSource(Strict):
    """An upstream RSS/Atom feed (issue: upstream sources)."""

    feed: str
    name: str = ""
    category: str = ""
    categories_from_feed: bool = False
    every: str = "30m"
    allow_private: bool = False
    timeout: float = Field(20.0, gt=0)
    max_bytes: int = Field(15 * 1024 * 1024, gt=0)
    clean: CleanRules = CleanRules()

    @field_validator("feed")
    @classmethod
    def _feed_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an absolute http(s) URL")
        return v

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        if parse_duration(v).total_seconds() < 60:
            raise ValueError("more than one fetch a minute is not polite: use 1m or more")
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v:
            slugify(v)  # a name that cannot become a slug fails here, not at fetch time
        return v

    @property
    def label(self) -> str:
        return self.name or self.feed


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "feed" if "feed" in value else "posts"
    return "feed" if isinstance(value, FeedSource) else "posts"


Source = Annotated[
    Annotated[PostsSource, Tag("posts")] | Annotated[FeedSource, Tag("feed")],
    Discriminator(_source_kind),
]


class DigestTemplates(Strict):
    html: Path | None = None
    text: Path | None = None
    css: Path | None = None


class DigestConfig(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    categories: Literal["all"] | list[str] = "all"
    window: str = "since-last"
    max_per_category: int = Field(10, ge=1, le=500)
    # unset: the site language's default (digest/render.py); a value given is used as written
    subject: str | None = None
    preheader: str | None = None
    from_: str = Field(alias="from")
    reply_to: str = ""
    templates: DigestTemplates = DigestTemplates()
    size_budget: int = Field(100_000, ge=10_000)
    # filled in per subscriber after CSS inlining ({name} is the subscriber's name)
    greeting: str | None = None  # unset: the catalog's ("{name}，您好：" in zh-CN)
    greeting_anonymous: str | None = None
    list_id: str = ""  # default <name>.<site host>
    unsubscribe_mailto: str = ""  # default unsubscribe@<site host>
    # one edition per local day or per ISO week (digest/periods.py); offer_weekly: a daily
    # digest whose subscribers may choose a weekly edition of it instead
    period: Literal["day", "week"] = "day"
    offer_weekly: bool = False

    @model_validator(mode="after")
    def _weekly_offer(self) -> DigestConfig:
        if self.offer_weekly and self.period == "week":
            raise ValueError(
                "offer_weekly: a weekly digest (period: week) has no daily edition to offer"
                " beside it; offer_weekly is for a daily digest"
            )
        return self

    def periods(self) -> tuple[Literal["day", "week"], ...]:
        """The editions this digest has: its own period, and the weekly one it offers."""
        return ("day", "week") if self.offer_weekly else (self.period,)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not is_slug(v):
            raise ValueError(
                f"digest name must match [a-z0-9-]+, at most {MAX_SLUG} characters and not a"
                " reserved name such as con or all (it is used in file names)"
            )
        return v

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        if v != "since-last":
            parse_duration(v)
        return v

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: Literal["all"] | list[str]) -> Literal["all"] | list[str]:
        if isinstance(v, list):
            for slug in v:
                if not SLUG_RE.match(slug):
                    raise ValueError(f"category {slug!r} must be a slug like caijing")
        return v

    @field_validator("from_", "reply_to", "unsubscribe_mailto")
    @classmethod
    def _address(cls, v: str) -> str:
        if v:
            from email.utils import parseaddr

            from email_validator import EmailNotValidError, validate_email

            try:
                validate_email(parseaddr(v)[1], check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(f"invalid address {v!r}: {exc}") from None
        return v

    @field_validator("subject", "preheader")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        from jinja2 import Environment, TemplateSyntaxError

        if v is None:
            return v
        try:
            Environment().parse(v)
        except TemplateSyntaxError as exc:
            raise ValueError(f"invalid template: {exc.message}") from None
        return v

    @field_validator("greeting")
    @classmethod
    def _greeting(cls, v: str | None) -> str | None:
        try:
            if v is not None:
                v.format(name="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError("greeting may only use {name}") from None
        return v


class SubscribersConfig(Strict):
    file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """``subscribers: PATH`` is how people write it: short for ``{file: PATH}``."""
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty path: give the subscribers file, e.g. subscribers.csv")
            return {"file": value}
        if value is not None and not isinstance(value, dict | SubscribersConfig):
            raise ValueError(
                f"got {type(value).__name__} {value!r}: give the subscribers file's path"
                " (subscribers: subscribers.csv) or a mapping (subscribers: {file: PATH})"
            )
        return value


class SmtpConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = "SYNDICATE_SMTP_PASSWORD"
    timeout: float = Field(30.0, gt=0)
    rate: float = Field(0.0, ge=0)  # messages per second, 0 = no limit
    batch: int = Field(100, ge=1)
    # parallel connections; at a crash up to this many in-flight messages may go twice
    connections: int = Field(1, ge=1, le=16)
    retries: int = Field(4, ge=0, le=20)  # for 4xx answers and connection errors
    backoff: float = Field(1.0, ge=0)  # first retry delay in seconds, doubled each time
    backoff_max: float = Field(60.0, ge=0)
    helo: str = ""  # default: this host's name

    @model_validator(mode="after")
    def _tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("use either ssl (implicit TLS, port 465) or starttls, not both")
        return self


class DkimConfig(Strict):
    """DKIM signing of every digest and confirmation mail (dkimpy)."""

    domain: str
    selector: str
    key_file: Path  # a PEM RSA private key, readable at start

    @field_validator("domain", "selector")
    @classmethod
    def _label(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$", v):
            raise ValueError(f"{v!r} is not a DNS name")
        return v.lower()

    @field_validator("key_file")
    @classmethod
    def _key(cls, v: Path) -> Path:
        # read now, so a missing or broken key stops the start, not the first send
        try:
            text = v.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read {v}: {exc.strerror or exc}") from None
        from dkim.crypto import UnparsableKeyError, parse_pem_private_key

        try:
            parse_pem_private_key(text)
        except (UnparsableKeyError, ValueError, IndexError) as exc:
            raise ValueError(f"{v} is not a PEM RSA private key: {exc}") from None
        return v


class DeliveryConfig(Strict):
    maildir: Path | None = None
    # one relay, or several: sending spreads over them and fails over (digest/relays.py)
    smtp: SmtpConfig | list[SmtpConfig] | None = None
    # the envelope sender (MAIL FROM) of each digest: {token} is the subscriber's VERP
    # token and {host} the site's host, so a bounce names its subscriber however
    # mangled its body is; "" = bounces+{token}@{host}; the From: header is unchanged
    return_path: str = ""
    dkim: DkimConfig | None = None

    @property
    def relays(self) -> list[SmtpConfig]:
        """The SMTP relays in order (empty: the Maildir outbox)."""
        if self.smtp is None:
            return []
        return list(self.smtp) if isinstance(self.smtp, list) else [self.smtp]

    @field_validator("smtp")
    @classmethod
    def _some_relay(cls, v: SmtpConfig | list[SmtpConfig] | None) -> object:
        if isinstance(v, list) and not v:
            raise ValueError("give at least one relay (or leave smtp out for the Maildir outbox)")
        return v

    @field_validator("return_path")
    @classmethod
    def _return_path(cls, v: str) -> str:
        if v and (v.count("{token}") != 1 or "@" not in v):
            raise ValueError("give an address with {token} once, e.g. bounces+{token}@example.org")
        if v and re.search(r"[A-Za-z0-9]\{token\}|\{token\}[A-Za-z0-9]", v):
            raise ValueError("put a separator around {token}, e.g. bounces+{token}@example.org")
        return v

    @model_validator(mode="after")
    def _one(self) -> DeliveryConfig:
        if self.maildir is not None and self.smtp is not None:
            raise ValueError("give either maildir or smtp, not both")
        return self


class ImapConfig(Strict):
    """An IMAP mailbox where bounces, complaints and unsubscribe replies arrive."""

    host: str
    port: int = Field(993, ge=1, le=65535)
    tls: bool = True  # implicit TLS (port 993)
    starttls: bool = False  # plain connection upgraded with STARTTLS (port 143)
    username: str
    password_env: str = "SYNDICATE_IMAP_PASSWORD"
    folder: str = "INBOX"
    timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _tls(self) -> ImapConfig:
        if self.tls and self.starttls:
            raise ValueError("use either tls (implicit, port 993) or starttls, not both")
        return self


class BouncesConfig(Strict):
    """Where bounces, complaints and replies arrive, and when a subscriber counts as bounced."""

    maildir: Path | None = None  # what the MTA (or a relay's forwarding) delivers into
    imap: ImapConfig | None = None  # and/or a mailbox read over IMAP
    # a bounce or complaint naming no token of ours is matched by the address it names;
    # false: only VERP and unsubscribe tokens count (nobody can fake a bounce for
    # somebody else then; set it once the return path reaches the mailbox end to end)
    match_addresses: bool = True
    permanent: int = Field(1, ge=1)  # permanent failures that mark a subscriber bounced
    temporary: int = Field(3, ge=1)  # temporary failures within `temporary_days` that do
    temporary_days: int = Field(14, ge=1)
    webhook_secret_env: str = "SYNDICATE_WEBHOOK_SECRET"  # HMAC key of POST /hooks/bounce


STEPS = ("collect", "build", "digest", "pipeline", "bounces")
ADJECTIVE = {"day": "daily", "week": "weekly"}  # a period as the messages name its edition


class JobConfig(Strict):
    """One entry of ``jobs:``: what runs (``run``/``digest``) and when (one trigger)."""

    run: Literal["collect", "build", "digest", "pipeline", "bounces"] | None = None
    digest: str | None = None
    # which edition of the digest this job sends (default: the digest's period); a
    # digest with offer_weekly has a job for each
    edition: Literal["day", "week"] | None = None
    every: str | None = None
    cron: str | None = None
    at: str | None = None
    after: str | None = None
    timezone: str | None = None
    jitter: str | None = None
    misfire_grace: str = "1h"

    @field_validator("every", "jitter", "misfire_grace")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None:
            from datetime import UTC

            from .triggers import cron_trigger

            if len(v.split()) not in (5, 6):
                raise ValueError("cron needs 5 fields: minute hour day month weekday")
            try:
                cron_trigger(v, UTC)
            except ValueError as exc:
                raise ValueError(f"invalid cron expression {v!r}: {exc}") from None
        return v

    @field_validator("at")
    @classmethod
    def _at(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", v):
            raise ValueError("at takes a daily time like 08:00")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {v!r}") from None
        return v


class DaemonConfig(Strict):
    shutdown_timeout: float = Field(30.0, gt=0)
    health_file: Path = Path("var/health.json")
    heartbeat: str = "30s"
    max_failures: int = Field(3, ge=1)
    stale_after: str = "5m"
    # inline: `syndicate run` does the work itself; queue (PostgreSQL only): the elected
    # leader defers Procrastinate tasks and `syndicate worker` processes do them
    execute: Literal["inline", "queue"] = "inline"
    chunk: int = Field(500, ge=1, le=100_000)  # recipients per delivery task (queue)
    # how often a standby asks for the leader's lock, and the leader checks it still holds it
    leader_poll: float = Field(2.0, gt=0, le=30)
    # a todo task older than this (or a running one whose worker went silent) is stuck
    stuck_after: str = "10m"
    # `run` collects and builds as soon as a posts folder changes (inotify), not only on
    # the collect job's trigger; where inotify is refused the daemon logs it and goes on
    watch: bool = True
    # seconds without a new change before a watch-triggered run starts (a `git pull`
    # of 500 files settles into one run); longer bursts are cut at watch_max_wait
    watch_settle: float = Field(0.2, ge=0.02, le=10)
    watch_max_wait: float = Field(5.0, ge=0.1, le=120)
    # Prometheus metrics of `run` on http://metrics_host:metrics_port/metrics; off when
    # unset (0: any free port, logged); docs/operations.md
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _watch_waits(self) -> DaemonConfig:
        if self.watch_max_wait < self.watch_settle:
            raise ValueError(
                f"watch_max_wait ({self.watch_max_wait:g}s) is shorter than watch_settle"
                f" ({self.watch_settle:g}s): a burst would be cut before it could settle"
            )
        return self


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased (how browsers send Origin)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


class SignupLimits(Strict):
    """How often one client or one address may sign up (answered 429 beyond)."""

    per_ip_hour: int = Field(10, ge=1)  # sign-ups from one client IP in an hour
    per_address_day: int = Field(3, ge=1)  # confirmation mails to one address in a day


class ConfirmMail(Strict):
    """The double opt-in mail a sign-up gets."""

    subject: str | None = None  # unset: the site language's (digest/confirmation.py)
    from_: str = Field("", alias="from")  # default: the first digest's from
    expires: str = "48h"  # how long its link works

    @field_validator("expires")
    @classmethod
    def _expires(cls, v: str) -> str:
        if parse_duration(v).total_seconds() < 300:
            raise ValueError("give the reader at least 5m to press the link")
        return v


class ServeConfig(Strict):
    """``syndicate serve``: where it listens, request limits, and the sign-up form."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    # the address readers reach serve at (forms post there, mails link there); default site.url
    public_url: str = ""
    # sites whose pages may post the sign-up form or call the API (default: site.url's)
    allowed_origins: list[str] = []
    pending_days: int = Field(7, ge=1, le=365)  # unconfirmed sign-ups are deleted after this
    limits: SignupLimits = SignupLimits()
    confirm: ConfirmMail = ConfirmMail()

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        if v and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an absolute http(s) URL, e.g. https://news.example.org")
        return v.rstrip("/")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        out = []
        for item in v:
            if not re.match(r"^https?://[^/\s]+/?$", item.strip()):
                raise ValueError(
                    f"{item!r} is not an origin: give scheme and host only, "
                    "e.g. https://www.example.org"
                )
            out.append(url_origin(item))
        return out


class Config(Strict):
    site: SiteConfig
    sources: list[Source] = []
    categories: dict[str, str] = {}
    store: StoreConfig = StoreConfig()
    feeds: FeedsConfig = FeedsConfig()
    digests: list[DigestConfig] = []
    subscribers: SubscribersConfig = SubscribersConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    bounces: BouncesConfig = BouncesConfig()
    jobs: dict[str, JobConfig] = {}
    daemon: DaemonConfig = DaemonConfig()
    serve: ServeConfig = ServeConfig()
    # the site's own templates, searched file by file before the packaged ones; load()
    # sets it (default: templates/ beside the config file), and a missing folder is fine
    templates: Path | None = None

    # set by load(): where the file was, for messages and relative paths
    path: Annotated[Path, Field(exclude=True)] = Path(DEFAULT_CONFIG)

    @field_validator("categories")
    @classmethod
    def _cat_slugs(cls, v: dict[str, str]) -> dict[str, str]:
        for slug in v:
            if not is_slug(slug):
                raise ValueError(
                    f"category slug {slug!r} must match [a-z0-9-]+, at most {MAX_SLUG}"
                    " characters and not a reserved name (con, nul, all, index, …)"
                )
        return v

    @field_validator("templates", mode="before")
    @classmethod
    def _templates_path(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():  # Path("") would be the working directory
            raise ValueError("empty path: give the folder, or leave the key out for templates/")
        return v

    @model_validator(mode="after")
    def _names_fit_the_store(self) -> Config:
        """Names the store keys rows by: PostgreSQL refuses what is longer than the column."""
        for i, src in enumerate(self.sources):
            if len(src.label) > 200:
                raise ValueError(
                    f"sources[{i}]: the name {src.label[:40]!r}… is longer than 200 characters"
                    " (give the source a shorter `name`)"
                )
        for name in self.jobs:
            if len(name) > 100:
                raise ValueError(f"jobs: the job name {name[:40]!r}… is longer than 100 characters")
        return self

    @model_validator(mode="after")
    def _queue_needs_server(self) -> Config:
        if self.daemon.execute == "queue" and not self.store.url.startswith("postgresql"):
            raise ValueError(
                "daemon.execute: queue needs a PostgreSQL store (store.url: postgresql+psycopg://…);"
                " on SQLite the daemon does the work itself (execute: inline)"
            )
        return self

    @model_validator(mode="after")
    def _feeds_dir_apart(self) -> Config:
        """The build replaces files in ``feeds.dir``: it must not be a place that holds input."""
        out = self.feeds.dir.resolve()
        where = "feeds.dir"
        if out == Path(out.anchor):
            raise ValueError(f"{where}: {out} is the file system root")
        home = Path.home().resolve()
        if out == home:
            raise ValueError(f"{where}: {out} is the home folder")
        for i, src in enumerate(self.sources):
            if not isinstance(src, PostsSource):
                continue
            folder = src.posts.resolve()
            # the site root (the folder above _posts) holds the site's own index.html
            roots = [folder, folder.parent] if folder.name == "_posts" else [folder]
            tests = (
                ("is", lambda r: out == r),
                ("is inside", out.is_relative_to),
                ("contains", lambda r: r.is_relative_to(out)),
            )
            for clash, test in tests:  # the closest relation is the one named
                for root in roots:
                    if test(root):
                        kind = "the posts folder" if root == folder else "the site root"
                        raise ValueError(
                            f"{where}: {out} {clash} {kind} of sources.{i} ({root}); build"
                            " output must be kept apart from its input"
                        )
        return self

    @model_validator(mode="after")
    def _mailboxes_apart(self) -> Config:
        """The unsubscribe address may not be the return path's mailbox: every bounce
        would then read as an unsubscribe reply (and none would count)."""
        local = self.return_path.split("{token}", 1)[0].rstrip("+-._").lower()
        for i, d in enumerate(self.digests):
            if d.unsubscribe_mailto:
                theirs = d.unsubscribe_mailto.split("@", 1)[0].lower()
                if theirs == local or theirs.startswith(local + "+"):
                    raise ValueError(
                        f"digests.{i}.unsubscribe_mailto: {d.unsubscribe_mailto!r} is the "
                        "return path's mailbox (delivery.return_path); give it another name"
                    )
        return self

    @model_validator(mode="after")
    def _jobs_refer(self) -> Config:
        labels = [src.label for src in self.sources]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                raise ValueError(f"sources.{i}.name: {label!r} names two sources")
        digests = {d.name for d in self.digests}
        for name, job in self.jobs.items():
            triggers = [t for t in ("every", "cron", "at", "after") if getattr(job, t)]
            if len(triggers) != 1:
                raise ValueError(
                    f"jobs.{name}: give exactly one trigger (every, cron, at or after)"
                )
            step = job.run or ("digest" if job.digest else name)
            if step not in STEPS:
                raise ValueError(
                    f"jobs.{name}: run: must be one of {', '.join(STEPS)} (got {step!r})"
                )
            if step == "bounces" and self.bounces.maildir is None and self.bounces.imap is None:
                raise ValueError(f"jobs.{name}: run: bounces needs bounces.maildir or bounces.imap")
            if step == "digest" and job.digest not in digests:
                raise ValueError(f"jobs.{name}: digest: {job.digest!r} is not a configured digest")
            if job.edition is not None and step != "digest":
                raise ValueError(f"jobs.{name}: edition: only a digest job sends an edition")
            if job.after and job.after not in self.jobs:
                raise ValueError(f"jobs.{name}: after: no job named {job.after!r}")
        return self

    @model_validator(mode="after")
    def _editions_scheduled(self) -> Config:
        """Each job sends an edition its digest has; a digest with jobs has one per edition."""
        by_name = {d.name: d for d in self.digests}
        sent: dict[tuple[str, str], str] = {}
        for name, job in self.jobs.items():
            if job.digest is None or self.job_step(name) != "digest":
                continue
            digest = by_name[job.digest]
            period = job.edition or digest.period
            if period not in digest.periods():
                raise ValueError(
                    f"jobs.{name}: edition: {period!r}: digest {digest.name!r} has no"
                    f" {ADJECTIVE[period]} edition (it has: {', '.join(digest.periods())};"
                    " a daily digest offers a weekly one with offer_weekly: true)"
                )
            if (digest.name, period) in sent:
                raise ValueError(
                    f"jobs.{name}: the {ADJECTIVE[period]} edition of {digest.name!r} is"
                    f" already sent by job {sent[digest.name, period]!r}"
                )
            sent[digest.name, period] = name
        for i, d in enumerate(self.digests):
            if not any(key[0] == d.name for key in sent):
                continue  # no job: `digest send` and `run --once` decide when
            for period in d.periods():
                if (d.name, period) not in sent:
                    example = f'{{digest: {d.name}, edition: {period}, cron: "0 8 * * 1"}}'
                    raise ValueError(
                        f"digests.{i}.offer_weekly: no job sends the {ADJECTIVE[period]} edition"
                        f" of {d.name!r}; add one, e.g. jobs: {d.name}-{ADJECTIVE[period]}:"
                        f" {example}"
                    )
        return self

    def job_step(self, name: str) -> str:
        job = self.jobs[name]
        return job.run or ("digest" if job.digest else name)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def public_url(self) -> str:
        """Where readers reach ``syndicate serve``: links in mails, the forms' target."""
        return self.serve.public_url or self.site.url

    @property
    def allowed_origins(self) -> list[str]:
        """Origins whose pages may post the sign-up form: configured, else the site's own."""
        own = {url_origin(self.public_url)}
        return sorted(own | set(self.serve.allowed_origins or [url_origin(self.site.url)]))

    @property
    def return_path(self) -> str:
        """The envelope sender template of digests ({token}: the subscriber's VERP token)."""
        host = urlsplit(self.site.url).hostname or "localhost"
        return (self.delivery.return_path or "bounces+{token}@{host}").replace("{host}", host)

    @property
    def confirm_from(self) -> str:
        """The From of confirmation mails: ``serve.confirm.from``, else the first digest's."""
        if self.serve.confirm.from_:
            return self.serve.confirm.from_
        if self.digests:
            return self.digests[0].from_
        host = urlsplit(self.site.url).hostname or "localhost"
        return f"{self.site.title} <{self.site.email or 'noreply@' + host}>"

    @property
    def feeds_base_url(self) -> str:
        # jekyll-feed's files sit at the site root (/feed.xml), syndicate's under /feeds/
        folder = "/" if self.feeds.layout == "jekyll-feed" else "/feeds/"
        return (self.feeds.base_url or self.site.url + folder).rstrip("/") + "/"


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

    # the raw YAML may hold any type anywhere: pydantic names what is wrong afterwards,
    # so this walk only touches what already has the expected shape
    for src in _items(cfg.get("sources")):
        if isinstance(src, dict) and "posts" in src:
            src["posts"] = fix(src["posts"])
    if cfg.get("feeds") is None:
        cfg["feeds"] = {}
    if isinstance(cfg["feeds"], dict):
        cfg["feeds"]["dir"] = fix(cfg["feeds"].get("dir") or "feeds")
    store = cfg.get("store")
    url = store.get("url") if isinstance(store, dict) else None
    env_name = store.get("url_env") if isinstance(store, dict) else None
    url = os.environ.get(str(env_name or StoreConfig().url_env)) or url or StoreConfig().url
    m = re.match(r"^sqlite(\+\w+)?:///(?!/)(.+)$", url) if isinstance(url, str) else None
    if m and m.group(2) != ":memory:":
        url = f"sqlite{m.group(1) or ''}:///{base / m.group(2)}"
    if isinstance(store, dict) or store is None:
        cfg["store"] = {**(store or {}), "url": url}
    for hook in _RESOLVERS:
        hook(cfg, fix)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _resolve_digest_paths(cfg: dict[str, Any], fix: Any) -> None:
    subs = cfg.get("subscribers")
    if isinstance(subs, str) and subs.strip():  # the short form: subscribers: PATH
        cfg["subscribers"] = fix(subs)
    if isinstance(subs, dict) and subs.get("file"):
        subs["file"] = fix(subs["file"])
    delivery = cfg.get("delivery")
    if delivery is None:
        cfg["delivery"] = delivery = {}
    if isinstance(delivery, dict):
        if not delivery.get("smtp") and not delivery.get("maildir"):
            delivery["maildir"] = "outbox"
        if delivery.get("maildir"):
            delivery["maildir"] = fix(delivery["maildir"])
        dkim = delivery.get("dkim")
        if isinstance(dkim, dict) and dkim.get("key_file"):
            dkim["key_file"] = fix(dkim["key_file"])
    bounces = cfg.get("bounces")
    if isinstance(bounces, dict) and bounces.get("maildir"):
        bounces["maildir"] = fix(bounces["maildir"])
    for digest in _items(cfg.get("digests")):
        templates = digest.get("templates") if isinstance(digest, dict) else None
        if isinstance(templates, dict):
            for key in ("html", "text", "css"):
                if templates.get(key):
                    templates[key] = fix(templates[key])


def _resolve_daemon_paths(cfg: dict[str, Any], fix: Any) -> None:
    daemon = cfg.get("daemon")
    if daemon is None:
        cfg["daemon"] = daemon = {}
    if isinstance(daemon, dict):
        daemon["health_file"] = fix(daemon.get("health_file") or "var/health.json")


def _resolve_templates_path(cfg: dict[str, Any], fix: Any) -> None:
    """``templates:``, by default the folder beside the config file (it need not exist)."""
    if cfg.get("templates") is None:
        cfg["templates"] = "templates"
    cfg["templates"] = fix(cfg["templates"])


_RESOLVERS: list[Any] = [_resolve_digest_paths, _resolve_daemon_paths, _resolve_templates_path]


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


def yaml_mapping(text: str, path: Path, expected: str) -> tuple[yaml.Node | None, dict[str, Any]]:
    """A YAML settings file's root node (for line numbers) and its mapping (empty: ``{}``).

    Shared by schedule.yaml and a Jekyll site's ``_config.yml``: both name the
    file and line of bad YAML, and say what the file must be (``expected``).
    """
    try:
        node = safeyaml.compose(text)
        data = safeyaml.construct(node)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {exc.reason}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: {expected}")
    return node, data


def loads(text: str, path: Path) -> Config:
    node, data = yaml_mapping(
        text, path, "the config must be a mapping of sections (site:, sources:)"
    )
    lines = _line_map(node) if node is not None else {}
    base = path.resolve().parent
    _resolve(data, base)
    data["path"] = path.resolve()
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc = _strip_tags(tuple(err["loc"]))
            line = _locate(loc, lines)
            key = ".".join(str(p) for p in loc) or "(top level)"
            where = f"{path}:{line}" if line else str(path)
            msg = err["msg"].removeprefix("Value error, ")
            named = re.match(r"^([A-Za-z_][\w-]*(?:\.[\w-]+)*): (.*)$", msg, re.DOTALL)
            if not loc and named:  # a whole-config check names its own key
                loc = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
                msg = named.group(2)
                line = _locate(loc, lines)
                key = named.group(1)
                where = f"{path}:{line}" if line else str(path)
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            msgs.append(f"{where}: {key}: {msg}")
        raise ConfigError("\n".join(msgs)) from None


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union tags (``sources.0.posts.max_bytes`` → ``sources.0.max_bytes``)."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        after_index = i > 0 and isinstance(loc[i - 1], int)
        if isinstance(part, str) and (part[:1].isupper() or (after_index and part in _TAGS)):
            continue
        out.append(part)
    return tuple(out)


_TAGS = {"posts", "feed"}
