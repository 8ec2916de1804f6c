"""Logging for a command line tool and a daemon: plain lines, or JSON lines for collectors."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key.startswith("ctx_"):
                data[key[4:]] = value
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup(level: str = "warning", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # APScheduler logs every run at INFO; our own job line says it better
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level.lower() == "debug" else logging.WARNING
    )
    # premailer's cssutils reports every property it does not know at WARNING
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    logging.getLogger("cssutils").setLevel(logging.CRITICAL)


def one_line(text: str) -> str:
    """``text`` on one line: a fatal error must fit the one line a user reads."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe(exc: BaseException, store: str | None = None) -> str:
    """One line for an error: what went wrong and the file, path or key it concerns.

    An ``OSError`` names its path; a database error names the store (``store``:
    its file or URL); anything else names where it was raised in syndicate's
    code, so that a bug report without the traceback still points at the line.
    """
    from sqlalchemy.exc import DBAPIError

    from .errors import StoreError

    if isinstance(exc, StoreError):  # the store's own errors name it already
        return f"store: {one_line(str(exc))}"
    if isinstance(exc, OSError) and exc.filename is not None:
        names = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        return f"{exc.strerror or type(exc).__name__} ({names})"
    if isinstance(exc, DBAPIError):
        return f"store: {one_line(str(exc.orig))} ({store or 'store.url'})"
    text = one_line(str(exc))
    return f"{type(exc).__name__}{': ' + text if text else ''} ({raised_at(exc)})"


def raised_at(exc: BaseException) -> str:
    """``syndicate/store.py:123``: the innermost frame in syndicate's own code (else any)."""
    package = Path(__file__).resolve().parent
    ours = anywhere = ""
    tb = exc.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename).resolve()
        if path.is_relative_to(package):
            ours = f"{path.relative_to(package.parent)}:{tb.tb_lineno}"
        anywhere = f"{path.name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return ours or anywhere or "no traceback"
