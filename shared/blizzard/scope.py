"""Counting the Battle.net requests one operation makes, across the threads it fans out to.

`request_scope()` installs a counter in a context variable; `BlizzardClient` adds to it on
every send; `submit()` runs work in a thread pool within the caller's context.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import TypeVar

R = TypeVar("R")


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


_current: contextvars.ContextVar[RequestCounter | None] = contextvars.ContextVar(
    "blizzard_request_counter", default=None
)


@contextmanager
def request_scope() -> Iterator[RequestCounter]:
    counter = RequestCounter()
    token = _current.set(counter)
    try:
        yield counter
    finally:
        _current.reset(token)


def count_request() -> None:
    counter = _current.get()
    if counter is not None:
        counter.add()


def submit(executor: Executor, fn: Callable[..., R], /, *args: object) -> Future[R]:
    """`executor.submit` that carries the caller's context (and so its request counter)."""
    context = contextvars.copy_context()
    return executor.submit(context.run, fn, *args)
