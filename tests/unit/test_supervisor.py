"""The stack's child supervision: exits restart with a doubling, capped, resetting backoff."""

from __future__ import annotations

import itertools

from devtools.supervisor import Backoff, Supervisor, describe_exit
from tests.fakes import FakeClock

PIDS = itertools.count(100)


class FakeProcess:
    def __init__(self) -> None:
        self.pid = next(PIDS)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class Spawner:
    def __init__(self) -> None:
        self.started: list[FakeProcess] = []

    def __call__(self) -> FakeProcess:
        process = FakeProcess()
        self.started.append(process)
        return process


def make(backoff: Backoff | None = None) -> tuple[Supervisor, FakeClock, Spawner, list[str]]:
    clock, spawn, lines = FakeClock(), Spawner(), []
    supervisor = Supervisor(backoff or Backoff(1, 30, 60), clock=clock, log=lines.append)
    supervisor.watch("consumer", spawn(), spawn)
    return supervisor, clock, spawn, lines


def run_for(supervisor: Supervisor, clock: FakeClock, seconds: float, step: float = 0.5) -> None:
    for _ in range(round(seconds / step)):
        clock.sleep(step)
        supervisor.check()


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first=1, cap=30, stable_after=60)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_child_that_runs_is_left_alone() -> None:
    supervisor, clock, spawn, lines = make()
    run_for(supervisor, clock, 120)
    assert len(spawn.started) == 1 and lines == []


def test_an_exited_child_is_restarted_after_the_backoff_and_logged() -> None:
    supervisor, clock, spawn, lines = make()
    spawn.started[-1].returncode = 1
    supervisor.check()
    assert lines == ["consumer exited with code 1; restarting in 1 s"]
    run_for(supervisor, clock, 0.5)
    assert len(spawn.started) == 1  # not before its time
    run_for(supervisor, clock, 0.5)
    assert len(spawn.started) == 2
    assert lines[-1] == f"consumer restarted (pid {spawn.started[-1].pid})"
    assert supervisor.children["consumer"].process is spawn.started[-1]


def test_exits_in_a_row_double_the_pause_until_the_cap() -> None:
    supervisor, clock, spawn, lines = make()
    pauses = []
    for _ in range(7):
        spawn.started[-1].returncode = 1
        supervisor.check()
        pauses.append(lines[-1].rsplit(" in ", 1)[1])
        before = len(spawn.started)
        run_for(supervisor, clock, 31)  # long enough for any pause, short of stable
        assert len(spawn.started) == before + 1
    assert pauses == ["1 s", "2 s", "4 s", "8 s", "16 s", "30 s", "30 s"]


def test_a_child_that_ran_stably_starts_from_the_first_pause_again() -> None:
    supervisor, clock, spawn, lines = make()
    for _ in range(3):  # 1, 2, 4
        spawn.started[-1].returncode = 1
        supervisor.check()
        run_for(supervisor, clock, 5)
    assert lines[-2].endswith("restarting in 4 s")
    run_for(supervisor, clock, 61)  # now it has run stably
    spawn.started[-1].returncode = -9
    supervisor.check()
    assert lines[-1] == "consumer was killed by SIGKILL; restarting in 1 s"


def test_a_spawn_that_fails_is_retried_with_backoff() -> None:
    clock, lines = FakeClock(), []
    first = FakeProcess()
    calls = []

    def spawn() -> FakeProcess:
        calls.append(clock.now)
        if len(calls) == 1:
            raise OSError("no such file")
        return FakeProcess()

    supervisor = Supervisor(Backoff(1, 30, 60), clock=clock, log=lines.append)
    supervisor.watch("emulator", first, spawn)
    first.returncode = 2
    supervisor.check()
    run_for(supervisor, clock, 4)
    assert lines[:3] == [
        "emulator exited with code 2; restarting in 1 s",
        "emulator could not be started (no such file); retrying in 2 s",
        f"emulator restarted (pid {supervisor.children['emulator'].process.pid})",
    ]
    assert calls[1] - calls[0] == 2


def test_exit_descriptions() -> None:
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(-15) == "was killed by SIGTERM"
    assert describe_exit(-200) == "was killed by signal 200"
