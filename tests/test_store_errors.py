"""No SQLAlchemy error leaves the store: every public method raises ``StoreError`` instead.

Each method is called on a store whose file was replaced by garbage after it
was opened (the engine disposed, so the next connection reads the garbage),
or on PostgreSQL whose database was dropped;
a method that works inside a caller's transaction gets a ``Tx`` whose
connection is closed. ``ARGS`` must name every public method, so a new one
cannot go untested.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.model import DeliveryStatus, ParsedPost, RunOutcome, SubscriberStatus, Tag
from syndicate.store import Store, StoreError, Tx
from syndicate.store.records import (
    CategoryRow,
    Claim,
    Consent,
    FeedbackRecord,
    FeedState,
    NewPost,
    NewSubscriber,
    NodeRecord,
    Subscriber,
)
from syndicate.store.wrapping import UNWRAPPED

from .conftest import ON_POSTGRES
from .pg_server import PgServer

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TX = object()  # stands for "a Tx of the caller's": replaced by one on a closed connection
CLAIM = Claim(1, 0, Subscriber(1, "a@example.org"))
PARSED = ParsedPost("k", "g", "https://x/", "t", NOW, None, "<p>x</p>", "x", ["a"], [])
NEW_POST = NewPost("k", PARSED, NOW, ["a"], [])
NODE = NodeRecord("run:h:1:0", "run", "h", 1, NOW, NOW, "standby", NOW)

ARGS: dict[str, tuple[Any, ...]] = {
    # core
    "get_meta": ("k",),
    "set_meta": ("k", "v"),
    "replace_meta": ("k", None),
    "content_state": (),
    "source_id": (TX, "s", "posts", "/x"),
    "category_stats": (),
    "category_counts": (),
    "posts": (),
    "feed_heads": (),
    "all_categories": (),
    "all_tags": (),
    "count_posts": (),
    # content
    "post_index": (1,),
    "stored_entries": (TX, 1),
    "insert_posts": (TX, 1, [NEW_POST]),
    "add_post": (TX, 1, NEW_POST),
    "update_post": (TX, 1, PARSED),
    "set_post_stat": (TX, 1, 10, 20),
    "move_post": (TX, 1, "k2"),
    "withdraw_posts": (1, ["k"], NOW),
    "refresh_statistics": (),
    "count_window_posts": ("a", None, NOW),
    "category_rows": (TX,),
    "insert_category": (TX, CategoryRow("a", "A", None, 0)),
    "update_category": (TX, "a"),
    "tag_rows": (TX,),
    "insert_tag": (TX, Tag("t", "T")),
    # sources
    "source_row": (TX, "s"),
    "add_source": (TX, "s", "feed", "https://example.org/feed"),
    "save_feed_state": (TX, "feed", FeedState(1, "s", "u", "u")),
    # runlog
    "start_run": ("job", "collect", NOW),
    "finish_run": (1, NOW, RunOutcome.OK, {}),
    "close_stale_runs": (NOW,),
    "last_runs": (),
    "finished_outcomes": ("job", 3),
    "claim_slot": ("job", "slot", NOW),
    "slot_claimed": ("job", "slot"),
    # audience
    "subscriber": ("a@example.org",),
    "find_subscriber": (TX, "a@example.org"),
    "subscriber_by_id": (1,),
    "subscribers_after": (0,),
    "subscriber_counts": (),
    "known_subscribers": (TX,),
    "insert_subscribers": (TX, [NewSubscriber("a@example.org", "", (), (), "cli")], NOW),
    "update_subscriber": (TX, 1),
    "mark_removed": (TX, [1], NOW),
    "set_subscriber_status": (1, SubscriberStatus.UNSUBSCRIBED),
    "set_choices": (1, (), (), NOW),
    "purge_subscriber": (1,),
    "reset_hard_failures": (TX, 1),
    "count_hard_failure": (TX, 1, NOW),
    "bounce": (TX, 1, NOW),
    "insert_confirmed_subscriber": (
        TX,
        NewSubscriber("a@example.org", "", (), (), "form"),
        Consent("form", NOW),
        NOW,
    ),
    # signups
    "lock_signups": (TX,),
    "insert_signup": (TX, "a@example.org", "", (), ()),
    "signup_times": (TX,),
    "set_signup_subscriber": (TX, 1, 1),
    "unsubscribe_in": (TX, 1, NOW),
    "count_events": (TX, 1, "bounce", None),
    "feedback_counts": (),
    "subscriber_for_message": (TX, "<m@x>"),
    "undelivered": (1,),
    "claim_feedback": (TX, FeedbackRecord("k", NOW, "bounce", True, None, None, "")),
    "set_feedback_subscriber": (TX, "k", 1),
    "find_subscriber_by_id": (TX, 1),
    "mark_signup_mailed": (1, NOW),
    "signup": (1,),
    "find_signup": (TX, 1),
    "mark_signup_confirmed": (TX, 1, 1, NOW),
    "pending_signups": (),
    "signups_for": ("a@example.org",),
    "delete_signups_before": (NOW,),
    "delete_signups_for": (TX, "a@example.org"),
    # privacy
    "add_event": (TX, 1, "confirmed", NOW),
    "record_event": (1, "confirmed", NOW),
    "events_of": (1,),
    "delivery_history": (1,),
    "forget_key": (TX,),
    "existing_forget_key": (TX,),
    "forgotten_hashes": (TX,),
    "is_forgotten": (TX, "h"),
    "unforget": (TX, "h"),
    "erase_subscriber": (TX, 1, "h", NOW),
    # mailings
    "last_window_end": ("daily",),
    "edition_on": ("daily", "2026-01-02"),
    "edition": (1,),
    "unfinished_editions": ("daily",),
    "edition_history": ("daily",),
    "create_edition": (),
    "finish_edition_if_done": (1, NOW),
    "delivery_counts": (1,),
    "editions_overview": (),
    "held_claimers": (1,),
    "release_claims": (1, ["x"]),
    "claim_deliveries": (1,),
    "release_claimed_by": (1, "me#"),
    "set_delivery_outcome": (TX, CLAIM.delivery_id, DeliveryStatus.SENT),
    "defer_delivery": (1,),
    # cluster state
    "reserve_send_slot": ("smtp://relay:25", 0.1),
    "beat_node": (NODE,),
    "remove_node": ("run:h:1:0",),
    "list_nodes": (),
    "current_leader": (),
    "has_queue": (),
    "queue_counts": (),
    "last_successes": (),
    "post_file_titles": (),
    "set_post_titles": ({1: "t"},),
}
KWARGS: dict[str, dict[str, Any]] = {
    "update_post": {"changed_at": NOW, "edited_at": None, "categories": ["a"], "tags": []},
    "update_category": {"name": "B"},
    "set_post_titles": {"changed_at": NOW, "done": ("collect:titles", "1")},
    "update_subscriber": {"updated_at": NOW, "name": "x"},
    "set_subscriber_status": {"now": NOW},
    "insert_signup": {"method": "form", "page": "", "ip_hash": "", "now": NOW},
    "signup_times": {"since": NOW},
    "pending_signups": {"since": NOW},
    "last_window_end": {"before": NOW},
    "create_edition": {
        "digest": "daily",
        "date": "2026-01-02",
        "window_start": None,
        "window_end": NOW,
        "items": "[]",
        "item_count": 0,
        "subject": "",
        "summary": "",
        "now": NOW,
    },
    "release_claims": {"claimed_before": NOW},
    "claim_deliveries": {"tag": "me#1", "n": 5, "now": NOW},
    "set_delivery_outcome": {"attempts": 1, "now": NOW},
    "defer_delivery": {"attempts": 1, "error": "x", "now": NOW},
    "list_nodes": {"now": NOW, "forget_after": timedelta(hours=1)},
}


def public_methods() -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(Store, inspect.isfunction)
        if not name.startswith("_") and name not in UNWRAPPED
    }


def test_every_public_method_is_listed() -> None:
    assert set(ARGS) == public_methods()


@pytest.fixture
def broken(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """SQLite: the file is garbage now. PostgreSQL: the database was dropped."""
    if ON_POSTGRES:
        pg: PgServer = request.getfixturevalue("pg_server")
        pg.create_database("store_db")
        store = Store(pg.url("store_db"))  # "store_db" is in the label every message ends with
    else:
        path = tmp_path / "store.db"
        store = Store(f"sqlite:///{path}")
    conn = store.engine.connect()
    conn.close()
    store.closed_tx = Tx(conn)  # type: ignore[attr-defined]
    store.engine.dispose()
    if ON_POSTGRES:
        pg.drop_database("store_db")
        return store
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    path.write_bytes(b"this is not an SQLite database\n" * 512)
    return store


@pytest.mark.parametrize("name", sorted(ARGS))
def test_store_methods_raise_store_error(broken: Store, name: str) -> None:
    args = [broken.closed_tx if a is TX else a for a in ARGS[name]]  # type: ignore[attr-defined]
    with pytest.raises(StoreError) as info:
        getattr(broken, name)(*args, **KWARGS.get(name, {}))
    assert info.type is StoreError or issubclass(info.type, StoreError)
    assert re.search(r"store[._]db", str(info.value)) or "closed" in str(info.value).lower()


def test_transaction_and_reading_raise_store_error(broken: Store) -> None:
    with pytest.raises(StoreError), broken.transaction():
        pass
    with pytest.raises(StoreError), broken.reading():
        pass
