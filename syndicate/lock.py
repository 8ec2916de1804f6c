"""One daemon per store: an ``fcntl.flock`` on a file beside the store.

The kernel drops the lock when its holder dies, however it dies, so a lock
file left by a killed daemon is simply taken over; the file's contents (pid,
host, start time) only serve to name the holder in messages.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import Config
from .errors import AlreadyRunning
from .timeutil import now_utc


def lock_path(cfg: Config) -> Path:
    url = cfg.store.url
    if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
        return Path(url.split(":///", 1)[1] + ".lock")
    return cfg.base_dir / "var" / "daemon.lock"


def read_holder(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_held(path: Path) -> bool:
    """True when a live process holds the lock (probing never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class DaemonLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.previous: dict[str, Any] | None = None

    def acquire(self, started: datetime | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(read_holder(self.path), self.path) from None
        self.previous = read_holder(self.path)  # a stale holder, if one died
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": (started or now_utc()).isoformat(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        os.fsync(fd)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
