"""Errors the digest step raises; the CLI turns each into a message and an exit code."""

from __future__ import annotations


class DigestError(Exception):
    """A digest cannot be composed or sent; ``str()`` is the message to show (exit 1)."""


class SecretMissing(DigestError):
    """Unsubscribe links need ``SYNDICATE_SECRET``; without it nothing personal is made."""


class DeliveryAborted(DigestError):
    """The mail server cannot be used at all (unreachable, refuses the sender, bad login).

    The edition stays unfinished with its pending rows, so the next run resumes it.
    """
