"""A process-wide "please stop" flag, set by the daemon on SIGTERM/SIGINT.

Long steps check it between units of work (a batch of posts, one message),
so a stop never leaves a half-written unit behind and never waits for a
whole edition to finish.
"""

from __future__ import annotations

import threading

STOP = threading.Event()


def requested() -> bool:
    return STOP.is_set()
