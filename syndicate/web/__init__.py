"""``syndicate serve``: the feeds over HTTP, the unsubscribe and preference pages, the archive.

The web side only reads what the pipeline wrote (``feeds.dir``) and records
what readers ask for (unsubscribe, preferences) in the store; it never
composes or sends anything, so it can run beside the daemon or without it.
"""

from .app import create_app

__all__ = ["create_app"]
