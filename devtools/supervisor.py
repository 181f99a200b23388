"""Keeps the local stack's child processes alive (`make run`).

A child that exits (the consumer loop, the emulator, the gateway) is started again after a
pause that doubles with every exit in a row (1 s, 2 s, 4 s ... capped at 30 s) and starts from
the first step again once the child has run stably for a while. Every exit and restart is
logged. Nothing here stops the stack: only the stack runner's signal handling does.

`Supervisor.check()` is cheap (a `poll()` per child) and never sleeps: the runner calls it
from its main loop. Clock, logger and the processes are injectable, so tests drive it with a
fake clock and fake processes.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Log = Callable[[str], None]


class Process(Protocol):
    """What the supervisor needs of a child: `subprocess.Popen` has it."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0  # a child that ran this long counts as healthy again

    def delay(self, exits_in_a_row: int) -> float:
        """The pause before restarting after the n-th exit in a row (n from 1)."""
        return float(min(self.cap, self.first * 2 ** max(0, exits_in_a_row - 1)))


def describe_exit(code: int) -> str:
    """`exited with code 1`, or `was killed by SIGKILL` for a negative Popen return code."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Child:
    """One supervised process: `spawn` starts it (again) and returns the new process."""

    def __init__(
        self,
        name: str,
        spawn: Callable[[], Process],
        process: Process,
        *,
        backoff: Backoff,
        clock: Callable[[], float],
        log: Log,
    ) -> None:
        self.name = name
        self.spawn = spawn
        self.process = process
        self.backoff = backoff
        self.clock = clock
        self.log = log
        self.started_at = clock()
        self.exits_in_a_row = 0
        self.restarts = 0
        self.restart_at: float | None = None

    def check(self) -> None:
        now = self.clock()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self._restart(now)
            return
        code = self.process.poll()
        if code is None:
            return
        if now - self.started_at >= self.backoff.stable_after:
            self.exits_in_a_row = 0
        self.exits_in_a_row += 1
        delay = self.backoff.delay(self.exits_in_a_row)
        self.restart_at = now + delay
        self.log(f"{self.name} {describe_exit(code)}; restarting in {delay:g} s")

    def _restart(self, now: float) -> None:
        self.restart_at = None
        self.started_at = now
        try:
            self.process = self.spawn()
        except OSError as exc:  # could not even start: count it as one more quick exit
            self.exits_in_a_row += 1
            delay = self.backoff.delay(self.exits_in_a_row)
            self.restart_at = now + delay
            self.log(f"{self.name} could not be started ({exc}); retrying in {delay:g} s")
            return
        self.restarts += 1
        self.log(f"{self.name} restarted (pid {self.process.pid})")


class Supervisor:
    def __init__(
        self,
        backoff: Backoff | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        log: Log = print,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.log = log
        self.children: dict[str, Child] = {}

    def watch(self, name: str, process: Process, spawn: Callable[[], Process]) -> Child:
        child = Child(name, spawn, process, backoff=self.backoff, clock=self.clock, log=self.log)
        self.children[name] = child
        return child

    def check(self) -> None:
        for child in self.children.values():
            child.check()
