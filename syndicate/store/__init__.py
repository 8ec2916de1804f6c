"""The store in the middle of the pipeline: it owns every SQL statement of the project.

``schema`` holds the tables, ``versions`` the schema versions and their
migrations, ``processes`` who owns a run, ``core`` the ``Store`` and its
queries, ``dialect`` the statements SQLite and PostgreSQL spell differently.
"""

from ..errors import StoreError
from .content import chunked
from .core import Store, open_store, redact_url
from .processes import HOST, process_alive, process_start
from .schema import (
    categories,
    deliveries,
    editions,
    feedback,
    forgotten,
    job_slots,
    meta,
    metadata,
    post_categories,
    post_tags,
    posts,
    runs,
    signups,
    sources,
    subscriber_events,
    subscribers,
    tags,
)
from .versions import HEAD, SCHEMA_VERSION, Revision, analyze
from .wrapping import Tx

__all__ = [
    "HEAD",
    "HOST",
    "SCHEMA_VERSION",
    "Revision",
    "Store",
    "StoreError",
    "Tx",
    "analyze",
    "categories",
    "chunked",
    "deliveries",
    "editions",
    "feedback",
    "forgotten",
    "job_slots",
    "meta",
    "metadata",
    "open_store",
    "post_categories",
    "post_tags",
    "posts",
    "process_alive",
    "process_start",
    "redact_url",
    "runs",
    "signups",
    "sources",
    "subscriber_events",
    "subscribers",
    "tags",
]
