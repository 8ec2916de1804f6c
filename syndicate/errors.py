"""Every error the project raises on purpose, in one tree under ``SyndicateError``.

Callers catch what they mean: ``SyndicateError`` for "anything of ours",
``InputError`` for "one input was bad, skip it", a step's base for "this
step cannot go on". The CLI maps the tree to exit codes in one place
(``cli/context.py``): an ``InputError`` that reaches it is a rejection (2),
any other ``SyndicateError`` is fatal (1) and shown as its one-line ``str()``.

Errors that are also ``ValueError`` stay so: code that validates input with
them (pydantic validators, ``int()``-style helpers) treats them as such.
Nothing here imports another module of the project, so any module may
import this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SyndicateError(Exception):
    """Base of every error raised on purpose; ``str()`` is the message to show."""


# -- configuration and storage ----------------------------------------------


class ConfigError(SyndicateError):
    """The config cannot be used; ``str()`` names the file, line and key."""


class StoreError(SyndicateError):
    """The store cannot be used; ``str()`` names the file or URL and the reason."""


# -- one bad input (a post, a value, a name): rejected, the rest goes on ------


class InputError(SyndicateError, ValueError):
    """One input cannot be used; the run reports it and goes on."""


class YamlError(InputError):
    """A document that is not valid YAML or is over a bound; ``str()`` is one line."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.reason = reason
        self.line = line  # 1-based, in the text given to load()


class DateError(InputError):
    """A date value that cannot be read; the message says what was given."""


class SlugError(InputError):
    """A name that must not become a path (``../../etc``) or has no usable letters."""


# -- collect ----------------------------------------------------------------


class CollectError(SyndicateError):
    """A source cannot be read as a whole."""


class SourceError(CollectError):
    """The source as a whole cannot be read (missing folder): nothing is withdrawn."""


class NameTaken(CollectError):
    """Another kind of source already has this name (names key the store's sources)."""


class FeedError(CollectError, InputError):
    """The bytes hold no usable feed; ``str()`` says why."""


class TooLarge(CollectError):
    """The body (raw or decoded) is larger than the source allows."""


class BadEncoding(CollectError, InputError):
    """The body is not valid for its Content-Encoding."""


class RefusedAddress(CollectError):
    """The host resolves to an address a source may not reach (private network, …)."""


# -- publish ----------------------------------------------------------------


class UnsafePath(SyndicateError, ValueError):
    """An output path that would land outside its folder."""


# -- digest and delivery ----------------------------------------------------


class DigestError(SyndicateError):
    """A digest cannot be composed or sent; ``str()`` is the message to show (exit 1)."""


class SecretMissing(DigestError):
    """Unsubscribe links need ``SYNDICATE_SECRET``; without it nothing personal is made."""


class DeliveryAborted(DigestError):
    """The mail server cannot be used at all (unreachable, refuses the sender, bad login).

    The edition stays unfinished with its pending rows, so the next run resumes it.
    """


class SubscriberFileError(DigestError):
    """The file as a whole cannot be read (missing, bad header, not a list); exit 1."""


class SignupInvalid(InputError):
    """A sign-up whose address, name or choices cannot be used; ``str()`` is shown to them."""


class RateLimited(DigestError):
    """Too many sign-ups from one client, or confirmation mails to one address (429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ConfirmationUndeliverable(DigestError):
    """The confirmation mail could not be handed to the mail server now (503, try later)."""


# -- daemon and web ----------------------------------------------------------


class AlreadyRunning(SyndicateError):
    """Another daemon holds the store's lock; ``str()`` names it."""

    def __init__(self, holder: dict[str, Any] | None, path: Path) -> None:
        self.holder = holder or {}
        self.path = path
        who = (
            f"pid {self.holder.get('pid')} on {self.holder.get('host')}, "
            f"started {self.holder.get('started')}"
            if self.holder
            else "unknown holder"
        )
        super().__init__(f"another syndicate daemon is running on this store ({who}); lock {path}")


class CannotListen(SyndicateError):
    """A metrics port cannot be bound (in use, not allowed, no such address); names the key."""


class StoreUnavailable(StoreError):
    """The store cannot be opened, trusted or written right now (503).

    The message is a short reason for /healthz: never a path or error text.
    """


class InvalidChoice(InputError):
    """A value the form never offered, or nothing chosen at all; ``str()`` is shown."""
