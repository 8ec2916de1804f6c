"""Is the process that recorded a run still there? (pid, host and start time)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# -- processes: is the process that recorded a run still there?

HOST = socket.gethostname()


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) from /proc; None when unreadable or not Linux."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()  # the name in parentheses may hold spaces
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def process_alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` (on this host) is still the process that started at ``started``.

    A zombie counts as gone (it runs nothing), and so does a pid now used by a
    process that started at another time: in a container every command may be pid 1.
    """
    stat = _proc_stat(pid)
    if stat is not None:
        state, start = stat
        return state not in ("Z", "X") and (started is None or start == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
