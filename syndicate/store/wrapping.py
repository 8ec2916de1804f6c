"""What every table group's mixin shares: the transaction handle and error wrapping.

Invariant: no ``SQLAlchemyError`` leaves a public method of the ``Store``; each
becomes a ``StoreError`` naming the store (``one line from the driver
(path or URL)``), so callers catch the project's own error and never import
SQLAlchemy. ``StoreBase.__init_subclass__`` wraps every public function a
mixin (or ``Store`` itself) defines, so a new method cannot forget it. Left
alone are the opening path (``upgrade``, ``revision``, ``schema_version``: ``Store()``
turns their errors into its own message naming the file's problem) and the
raw connections (``begin``, ``connect``) that the opening path and tests use;
``transaction``, ``reading`` and ``erasing`` wrap what happens inside them themselves.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import StoreError
from ..logs import one_line

F = TypeVar("F", bound=Callable[..., Any])

# public names that are not wrapped (see the module docstring)
UNWRAPPED = frozenset(
    {
        "begin",
        "connect",
        "upgrade",
        "revision",
        "schema_version",
        "close",
        "transaction",
        "reading",
        "erasing",
    }
)


class Tx:
    """One transaction (or read-only connection) of the store, handed back to its methods.

    Callers that must do several things in one commit (a collect batch, an
    import) hold one of these; only the store's own methods look inside.
    """

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


def new_id(res: CursorResult[Any]) -> int:
    """The primary key an ``INSERT`` gave its row."""
    key = res.inserted_primary_key
    assert key is not None
    return int(key[0])


def store_error(exc: SQLAlchemyError, label: str) -> StoreError:
    """The ``StoreError`` for a driver's error: its one-line reason and the store's name."""
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    return StoreError(f"{one_line(str(reason))} ({label})")


def _label(obj: object) -> str:
    return str(getattr(obj, "label", "store"))


def wrap_exceptions(method: F) -> F:
    """Turn a ``SQLAlchemyError`` raised by ``method`` into a ``StoreError``."""

    @functools.wraps(method)
    def wrapper(self: object, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            raise store_error(exc, _label(self)) from exc

    wrapper.__wrapped_store__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class StoreBase:
    """The base of ``Store`` and of every table group's mixin."""

    engine: Engine

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("_") or name in UNWRAPPED or not inspect.isfunction(value):
                continue
            if not getattr(value, "__wrapped_store__", False):
                setattr(cls, name, wrap_exceptions(value))

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One commit for everything done with the ``Tx``; rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield Tx(conn)
        except SQLAlchemyError as exc:
            raise store_error(exc, _label(self)) from exc

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A connection for several reads that belong together; nothing is committed."""
        try:
            with self.engine.connect() as conn:
                yield Tx(conn)
        except SQLAlchemyError as exc:
            raise store_error(exc, _label(self)) from exc
