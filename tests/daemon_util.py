"""Real daemon processes for the tests: start, wait for a condition, signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


class DaemonProcess:
    """``syndicate run`` (or another long-running ``command``, e.g. ``worker``) in a process."""

    def __init__(
        self,
        config: Path,
        *args: str,
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("run",),
    ) -> None:
        self.log = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._fh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syndicate",
                "--config",
                str(config),
                "--log-level",
                "info",
                *args,
                *command,
            ],
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SYNDICATE_WORKERS": "1", **(env or {})},
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._fh.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._fh.close()


def wait_for(cond: Callable[[], object], timeout: float = 20, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
