"""``daemon.watch``: a saved post reaches its feed without waiting for the collect trigger.

Real files, real inotify, real daemon processes (the collect job is hourly, so
only the watch can explain a rebuild); the serialization of watch runs is
checked on the daemon object with a real scheduler and a stand-in collect.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from syndicate import daemon as daemon_mod
from syndicate import jobs
from syndicate.collect.watch import Batch, PostsFilter, Watcher, network_fs, watched_folders
from syndicate.model import RunOutcome

from .daemon_util import DaemonProcess, wait_for
from .test_daemon import count_runs

HOURLY = """\
jobs:
  collect: {every: 1h}
  build: {after: collect}
daemon: {heartbeat: 1s, shutdown_timeout: 10, watch_settle: 0.2}
"""


def feed_text(site) -> str:
    path = site.root / "feeds" / "caijing.atom"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def watched_changes(d: DaemonProcess) -> int:
    """Changes the daemon's watch runs logged, in all."""
    return sum(int(n) for n in re.findall(r"watch: (\d+) change\(s\)", d.output()))


def started(site, d: DaemonProcess, *, watching: bool = True) -> None:
    """The first (scheduled) collect and build are done, and the watch is in place."""
    store = site.store()
    wait_for(lambda: count_runs(store, "build") >= 1, what="the first build")
    if watching:
        wait_for(lambda: "watching 1 posts folder(s)" in d.output(), what="the watch")


@contextlib.contextmanager
def running(site, *, watching: bool = True) -> Iterator[DaemonProcess]:
    """A daemon on ``site``, started (see ``started``), that must stop with exit code 0."""
    d = DaemonProcess(site.config_path)
    try:
        started(site, d, watching=watching)
        yield d
    finally:
        assert d.stop() == 0


@pytest.fixture
def watch_site(site):
    site.add_seed()
    site.extend_config(HOURLY)
    return site


# -- the filter ------------------------------------------------------------------


def test_filter_keeps_posts_and_folders_and_drops_what_the_scanner_skips(tmp_path):
    root = tmp_path / "_posts"
    (root / "2024").mkdir(parents=True)
    post = root / "2024" / "2024-01-02-a.md"
    post.write_text("x")
    (root / "notes.txt").write_text("x")
    keep = PostsFilter([str(root)])
    assert keep(None, str(post))
    assert keep(None, str(root / "2024"))  # a folder (created, or moved in)
    assert keep(None, str(root / "2024-01-03-gone.md"))  # deleted
    assert keep(None, str(root / "old"))  # a folder moved away: its posts went with it
    for skipped in (
        ".2024-01-02-a.md.swp",  # vim
        "2024-01-02-a.md~",  # backups
        ".#2024-01-02-a.md",  # emacs lock
        "#2024-01-02-a.md#",  # emacs autosave
        "4913",  # vim's write probe, already deleted
        "2024-01-02-a.md.tmp",  # atomic saves: the rename onto the name counts
        "_drafts/2024-01-02-a.md",
        ".git/index",
        "notes.txt",  # an existing file that can never be a post
    ):
        assert not keep(None, str(root / skipped)), skipped
    assert not keep(None, str(tmp_path / "elsewhere" / "2024-01-02-a.md"))


def test_watched_folders_are_the_posts_folders_of_a_site_root(site, tmp_path):
    root = tmp_path / "blog"
    for sub in ("_posts", "en/_posts", "_site/_posts", "node_modules/x/_posts"):
        (root / sub).mkdir(parents=True)
    text = site.config_path.read_text(encoding="utf-8")
    site.write_config(text.replace("sources:\n", f"sources:\n  - name: blog\n    posts: {root}\n"))
    cfg = site.cfg()
    folders = watched_folders(cfg)
    assert folders == {
        str(site.posts): "local",
        str(root / "_posts"): "blog",
        str(root / "en" / "_posts"): "blog",
    }


def test_local_disk_is_not_a_network_file_system(tmp_path):
    assert network_fs(str(tmp_path)) == ""


# -- the watcher thread ------------------------------------------------------------


def test_watcher_settles_a_burst_and_stop_ends_its_thread(tmp_path):
    posts = tmp_path / "_posts"
    posts.mkdir()
    batches: list[Batch] = []
    w = Watcher({str(posts): "src"}, batches.append, settle=0.3, max_wait=5).start()
    try:
        assert w.started.wait(10) and w.watching
        t0 = time.time()
        for i in range(200):
            (posts / f"2024-01-01-p{i}.md").write_text(f"post {i}")
            (posts / f".2024-01-01-p{i}.md.swp").write_text("swap")
        wait_for(lambda: sum(b.changes for b in batches) >= 200, what="the burst")
        time.sleep(1)  # nothing more comes
        assert 1 <= len(batches) <= 2
        assert sum(b.changes for b in batches) == 200  # no swap file counted
        assert all(b.sources == {"src"} for b in batches)
        assert t0 - 1 <= batches[0].first <= time.time()
    finally:
        t_stop = time.monotonic()
        assert w.stop(timeout=5)
    assert time.monotonic() - t_stop < 3
    assert not w.alive


class _Refused:
    def __init__(self, *_a: object) -> None:
        raise OSError(28, "OS file watch limit reached")


class _Polling:
    """notify's own fallback when inotify is missing: stat-polling the whole tree."""

    def __init__(self, *_a: object) -> None:
        pass

    def __repr__(self) -> str:
        return "RustNotify(Poll(PollWatcher { .. }))"

    def __enter__(self) -> _Polling:
        return self

    def __exit__(self, *_a: object) -> None:
        pass


@pytest.mark.parametrize(
    ("notify", "why"), [(_Refused, "watch limit reached"), (_Polling, "inotify is not available")]
)
def test_a_refused_watch_logs_one_line_and_ends(tmp_path, monkeypatch, caplog, notify, why):
    import watchfiles._rust_notify

    monkeypatch.setattr(watchfiles._rust_notify, "RustNotify", notify)
    posts = tmp_path / "_posts"
    posts.mkdir()
    w = Watcher({str(posts): "src"}, lambda _b: None, settle=0.1, max_wait=1)
    with caplog.at_level("INFO", logger="syndicate.watch"):
        w.start()
        assert w.started.wait(10)
        wait_for(lambda: not w.alive, timeout=5, what="the watcher to give up")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert "not watching" in lines[0] and why in lines[0]
    assert "daemon.watch: false" in lines[0]
    assert not w.watching


# -- serialization, on the daemon object -------------------------------------------


class _SlowCollect:
    """Stands in for jobs.execute: the first call waits until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.running = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.overlap = False
        self._inside = 0

    def __call__(self, cfg, store, name, *, source=None, **_kw):
        with self.lock:
            self._inside += 1
            self.overlap |= self._inside > 1
            self.calls.append((name, source))
        self.running.set()
        self.release.wait(10)
        with self.lock:
            self._inside -= 1
        return jobs.JobOutcome(name, "collect", RunOutcome.OK, 0.0, {})


@pytest.fixture
def bare_daemon(watch_site, monkeypatch):
    """A Daemon whose scheduler is a real one-worker scheduler, run in this process."""
    d = daemon_mod.Daemon(watch_site.config_path)
    d.scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore(), "watch": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
    )
    d.scheduler.start()
    fake = _SlowCollect()
    monkeypatch.setattr(jobs, "execute", fake)
    yield d, fake
    fake.release.set()
    d.scheduler.shutdown(wait=True)


def _batch(n: int = 1) -> Batch:
    return Batch(frozenset({"local"}), n, time.time())


def test_changes_during_a_run_queue_exactly_one_more(bare_daemon):
    d, fake = bare_daemon
    d._on_changes(_batch())
    assert fake.running.wait(10)
    for _ in range(20):  # a burst cut into batches while the first run is busy
        d._on_changes(_batch(25))
    time.sleep(0.5)
    assert len(fake.calls) == 1  # the second waits for the worker
    fake.release.set()
    wait_for(lambda: len(fake.calls) == 2, timeout=10, what="the one more run")
    time.sleep(0.5)
    assert len(fake.calls) == 2 and not fake.overlap
    assert fake.calls[0] == ("collect", None)  # one source: no need to name it
    assert d._watch_pending is None


def test_a_watch_run_waits_for_a_scheduled_job(bare_daemon):
    d, fake = bare_daemon
    assert d.scheduler is not None
    busy = threading.Event()
    done = threading.Event()
    d.scheduler.add_job(lambda: (busy.set(), done.wait(10)), id="scheduled")
    assert busy.wait(10)
    d._on_changes(_batch())
    time.sleep(0.5)
    assert fake.calls == []  # the one worker is taken by the scheduled job
    done.set()
    fake.release.set()
    wait_for(lambda: len(fake.calls) == 1, timeout=10, what="the watch run")


def test_with_a_queue_the_leader_defers(bare_daemon, monkeypatch):
    d, fake = bare_daemon
    deferred: list[tuple[str, object]] = []
    d.queue = object()
    monkeypatch.setattr(
        d, "_dispatch", lambda name, when: deferred.append((name, when)) or "deferred"
    )
    d._on_changes(_batch())
    wait_for(lambda: deferred, timeout=10, what="a deferral")
    assert deferred == [("collect", None)] and fake.calls == []


# -- the daemon, end to end ------------------------------------------------------------


def test_new_edited_and_deleted_posts_reach_the_feed_without_the_trigger(watch_site):
    d = DaemonProcess(watch_site.config_path)
    store = watch_site.store()
    try:
        started(watch_site, d)
        collects = count_runs(store, "collect")
        path = watch_site.post("2022-03-01-watched.md", title="监视到的新文章")
        wait_for(lambda: "监视到的新文章" in feed_text(watch_site), what="the new post in its feed")
        path.write_text(path.read_text(encoding="utf-8").replace("监视到的新文章", "改过的标题"))
        wait_for(lambda: "改过的标题" in feed_text(watch_site), what="the edit")
        assert "监视到的新文章" not in feed_text(watch_site)
        path.unlink()
        wait_for(lambda: "改过的标题" not in feed_text(watch_site), what="the deletion")
        assert count_runs(store, "collect") >= collects + 3  # the hourly trigger never fired
        assert "watch: 1 change(s) in local: collect ok → build ok; feeds written" in d.output()
        health = json.loads((watch_site.root / "var" / "health.json").read_text(encoding="utf-8"))
        assert health["watching"] == [str(watch_site.posts)]
    finally:
        t0 = time.monotonic()
        code = d.stop()
    assert code == 0, d.output()
    assert time.monotonic() - t0 < 10
    assert "daemon stopped" in d.output()


def test_a_burst_of_200_files_is_one_collect(watch_site):
    store = watch_site.store()
    with running(watch_site) as d:
        before = count_runs(store, "collect")
        for i in range(200):
            watch_site.post(f"2022-04-01-burst-{i}.md", title=f"批量文章{i}号")
        wait_for(lambda: watched_changes(d) >= 200, what="the burst collected")
        time.sleep(1.5)  # a late batch would have queued its run by now
        wait_for(lambda: count_runs(store, "collect", "running") == 0, what="runs to end")
        runs = count_runs(store, "collect") - before
        assert 1 <= runs <= 2, d.output()


def test_watch_false_does_not_react(watch_site):
    text = watch_site.config_path.read_text(encoding="utf-8")
    watch_site.config_path.write_text(text.replace("watch_settle: 0.2", "watch: false"))
    store = watch_site.store()
    with running(watch_site, watching=False) as d:
        before = count_runs(store, "collect")
        watch_site.post("2022-03-02-unwatched.md", title="不该被发现")
        time.sleep(3)  # generous: a watch reacts within a second
        assert "不该被发现" not in feed_text(watch_site)
        assert count_runs(store, "collect") == before
        assert "watching" not in d.output() and "watch:" not in d.output()


def test_reload_reads_the_watched_folders_again(watch_site, tmp_path):
    text = watch_site.config_path.read_text(encoding="utf-8")
    watch_site.config_path.write_text(text.replace("watch_settle: 0.2", "watch: false"))
    other = tmp_path / "other" / "_posts"
    other.mkdir(parents=True)
    with running(watch_site, watching=False) as d:
        watch_site.config_path.write_text(
            text.replace("posts: site/_posts", f"posts: {other}"), encoding="utf-8"
        )
        d.signal(signal.SIGHUP)
        wait_for(lambda: f"watching 1 posts folder(s) for changes (settle 0.20s): {other}"
                 in d.output(), what="the new folder watched")  # fmt: skip
        watch_site.post("2022-03-03-moved.md", title="另一个文件夹", folder=other)
        wait_for(lambda: "另一个文件夹" in feed_text(watch_site), what="a post of the new folder")


def test_an_editor_swap_file_starts_no_run(watch_site):
    store = watch_site.store()
    with running(watch_site):
        before = count_runs(store, "collect")
        posts: Path = watch_site.posts
        for name in (".2022-03-01-x.md.swp", "2022-03-01-x.md~", ".#2022-03-01-x.md", "4913"):
            (posts / name).write_text("scratch")
        (posts / "4913").unlink()
        time.sleep(2)  # generous: a watched change runs within a second
        assert count_runs(store, "collect") == before
