"""Which database a read goes to. Read-only pages (dashboard, exports, screening lists) may read from a
streaming replica; everything else, and every write, uses the primary.

The choice travels in a context variable, so the core marks its own read-only views here without importing
``config``; the router (``config.db_router``) reads it. Outside ``read_replica()`` nothing changes.
"""

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("doorstep_replica_reads", default=False)


@contextmanager
def read_replica() -> Iterator[None]:
    """Reads inside may come from the replica (when one is configured and fresh enough)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads(view: Callable) -> Callable:
    """Decorate a read-only view (a function, or a method of a class-based view) with ``read_replica()``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with read_replica():
            return view(*args, **kwargs)

    return wrapper


def replica_reads_wanted() -> bool:
    return _replica_reads.get()
