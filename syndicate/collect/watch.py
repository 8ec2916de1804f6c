"""Watching the posts folders: a saved post reaches its feed without waiting for the trigger.

Job: turn inotify events (``watchfiles``, Rust ``notify``) under the posts
sources' ``_posts`` folders into settled batches ("source X changed, N
changes, the first at T") handed to the daemon, which decides what runs and
serializes it with its scheduled jobs (``daemon.py``).

Invariants:

- Only the folders the scanner reads are watched (``posts.site_root``'s
  ``_posts`` folders, never a whole site root with its ``_site``, ``.git`` and
  ``node_modules``), so the watch costs one inotify watch per folder of posts.
- A change the scanner skips (``.``/``_``/``#`` names, ``~`` backups) or that
  can never become a post (editor swap and temp files, an existing file whose
  name is not ``YYYY-MM-DD-slug.ext``) starts no run.
- A burst settles into one batch: a batch is handed over once no new change
  came for ``watch_settle`` seconds, or ``watch_max_wait`` after its first.
- One thread per watcher; ``stop`` ends it within one ``watch_settle`` step
  (watchfiles polls its ``stop_event`` between steps).
- A watch that cannot start (inotify's watch or instance limit, no inotify,
  a network file system whose other clients' writes inotify never reports)
  logs one line and ends; the collect job's own trigger stays the safety net.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, PostsSource
from ..errors import SourceError
from .posts import NAME_RE, site_root

log = logging.getLogger("syndicate.watch")

# file systems where inotify sees this machine's writes only: watching would look
# like it works and then miss every post another machine writes
NETWORK_FS = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre",
    "gpfs", "drvfs", "fuse.sshfs", "fuse.glusterfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse",
}  # fmt: skip
# editors' swap, backup and atomic-save files: the rename onto the post's name is the change
TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".kate-swp", "___jb_tmp___", "___jb_old___")
_PROBE_RE = re.compile(r"^\d+$")  # vim's write probe (4913, 5036, …): created, then deleted
RESTARTS = 3  # a watch that failed this many times in a row gives up (one log line)


@dataclass(frozen=True)
class Batch:
    """What changed since the last batch, for one run."""

    sources: frozenset[str]  # source labels
    changes: int
    first: float  # time.time() of the earliest change (estimated from the files' mtimes)

    def merge(self, other: Batch) -> Batch:
        return Batch(
            self.sources | other.sources, self.changes + other.changes, min(self.first, other.first)
        )


def watched_folders(cfg: Config) -> dict[str, str]:
    """Absolute ``_posts`` folder → source label, for every posts source that exists now.

    Paths stay as configured (absolute, not resolved): events are reported
    under the path that was watched, and the filter compares against it.
    """
    out: dict[str, str] = {}
    for src in cfg.sources:
        if not isinstance(src, PostsSource):
            continue
        try:
            _, folders = site_root(src)
        except SourceError as exc:  # collect reports it on every run; nothing to watch here
            log.warning("daemon.watch: not watching %s: %s", src.label, exc)
            continue
        for folder in folders:
            kind = network_fs(str(folder))
            if kind:
                log.warning(
                    "daemon.watch: not watching %s: on a %s file system inotify misses what"
                    " other machines write; new posts there wait for the collect job's trigger",
                    folder,
                    kind,
                )
                continue
            out[os.path.abspath(folder)] = src.label
    return out


def network_fs(path: str) -> str:
    """The file system type of ``path`` when it is a network one ("" otherwise or unknown)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    real = os.path.realpath(path)
    best, kind = "", ""
    for line in lines:
        fields = line.split(" - ", 1)
        if len(fields) != 2:
            continue
        left, right = fields[0].split(), fields[1].split()
        if len(left) < 5 or not right:
            continue
        mount = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), left[4])
        inside = real == mount or real.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, right[0]
    return kind if kind in NETWORK_FS else ""


class PostsFilter:
    """watchfiles' ``watch_filter``: True for a change that may alter what collect reads."""

    def __init__(self, roots: Iterable[str]) -> None:
        # longest first: a nested root wins over the one above it
        self.roots = sorted((r.rstrip("/") + "/" for r in roots), key=len, reverse=True)

    def root_of(self, path: str) -> str | None:
        for root in self.roots:
            if path.startswith(root):
                return root[:-1]
        return None

    def __call__(self, _change: object, path: str) -> bool:
        root = self.root_of(path)
        if root is None:
            return path.rstrip("/") in (r[:-1] for r in self.roots)  # the folder itself
        parts = path[len(root) + 1 :].split("/")
        if any(p.startswith((".", "_", "#")) or p.endswith("~") for p in parts):
            return False  # the scanner skips these names (Jekyll does too)
        name = parts[-1]
        if name.endswith(TEMP_SUFFIXES):
            return False
        try:
            is_file = os.path.isfile(path)
            exists = is_file or os.path.lexists(path)
        except OSError:
            return True
        if is_file:
            return NAME_RE.match(name) is not None
        return exists or not _PROBE_RE.match(name)


def _first_change(paths: Iterable[str], seen: float, floor: float) -> float:
    """When the earliest change was made: its file's mtime, never before ``floor``."""
    first = seen
    for p in paths:
        try:
            first = min(first, os.stat(p).st_mtime)
        except OSError:  # deleted: it changed within the batch
            continue
    return max(first, floor)


class Watcher:
    """One thread watching ``folders``; ``on_batch`` is called from it for each settled batch."""

    def __init__(
        self,
        folders: dict[str, str],
        on_batch: Callable[[Batch], None],
        *,
        settle: float,
        max_wait: float,
    ) -> None:
        self.folders = dict(folders)
        self.on_batch = on_batch
        self.settle = settle
        self.max_wait = max_wait
        # kept on the instance for the thread's whole life (watchfiles issue 329: an
        # event dropped while the Rust side polls it can read as unset)
        self.stop_event = threading.Event()
        self.started = threading.Event()  # watches are in place (or the watch gave up)
        self.watching = False
        self._thread: threading.Thread | None = None
        self._filter = PostsFilter(self.folders)

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """End the thread and wait for it; False when it still runs after ``timeout``."""
        self.stop_event.set()
        if self._thread is None or self._thread is threading.current_thread():
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        try:
            while not self.stop_event.is_set():
                began = time.monotonic()
                try:
                    self._watch()
                    return  # stopped (a replaced folder is watched again inside)
                except (OSError, RuntimeError) as exc:
                    # OSError: a watch could not be added (fs.inotify.max_user_watches reached,
                    # a folder gone); RuntimeError: watchfiles' internal error (no inotify
                    # instance left, or the watcher failed while running)
                    # in a row: a watch that ran for a minute starts the count again
                    failures = 1 if time.monotonic() - began > 60 else failures + 1
                    if not self.watching or failures >= RESTARTS:
                        log.warning(
                            "daemon.watch: not watching %s (%s); new posts wait for the collect"
                            " job's trigger (raise fs.inotify.max_user_watches, or set"
                            " daemon.watch: false to silence this)",
                            ", ".join(self.folders),
                            str(exc).strip() or type(exc).__name__,
                        )
                        return
                    log.warning("daemon.watch: the watch failed (%s); watching again", exc)
                    # events may have been lost: one run reconciles everything
                    self.on_batch(Batch(frozenset(self.folders.values()), 0, time.time()))
                    self.stop_event.wait(1.0)
        finally:
            self.watching = False
            self.started.set()

    def _watch(self) -> None:
        # watchfiles' own RustNotify, not its watch() generator: the watches are then added
        # here, synchronously (errors raised in this thread, readiness known exactly)
        from watchfiles import Change
        from watchfiles._rust_notify import RustNotify

        idents = {f: _ident(f) for f in self.folders}
        notify = RustNotify(
            list(self.folders),
            False,  # debug
            False,  # force_polling: stat-polling 50,000 posts is the collect trigger's job
            300,
            True,  # recursive
            False,  # ignore_permission_denied: True would hide the watch-limit error too
        )
        with notify:
            if "Poll(" in repr(notify):  # notify fell back to polling itself (no inotify)
                raise RuntimeError("inotify is not available here")
            self.watching = True
            self.started.set()
            log.info(
                "watching %d posts folder(s) for changes (settle %.2fs): %s",
                len(self.folders),
                self.settle,
                ", ".join(self.folders),
            )
            while True:
                raw = notify.watch(
                    int(self.max_wait * 1000), int(self.settle * 1000), 0, self.stop_event
                )
                if self.stop_event.is_set() or raw in ("stop", "signal"):
                    return
                if isinstance(raw, str):  # "timeout": none is asked for, but harmless
                    continue
                seen = time.time()
                paths = [p for c, p in raw if self._filter(Change(c), p)]
                if paths:
                    self.on_batch(self._batch(paths, seen))
                if any(_ident(f) != idents[f] for f in self.folders):
                    # replaced (rm -rf, then a checkout): the watch is on the old inode
                    log.info("daemon.watch: a posts folder was replaced; watching it again")
                    self.watching = False
                    break
        self._watch()

    def _batch(self, paths: list[str], seen: float) -> Batch:
        roots = (self._filter.root_of(p) or p.rstrip("/") for p in paths)
        sources = frozenset(self.folders[r] for r in roots if r in self.folders)
        floor = seen - self.max_wait - self.settle
        return Batch(
            sources or frozenset(self.folders.values()),
            len(paths),
            _first_change(paths, seen, floor),
        )


def _ident(folder: str) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
