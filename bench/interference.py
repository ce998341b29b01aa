"""How much CPU other work took while a load run was measured.

The bench shares its machine (test suites, editors). Each run records the CPU time of
every process that is not the bench's: neither this process and its descendants
(servers, Redis, wrk) nor the PostgreSQL backends of the bench's databases. A run
with a large share was slowed by something else, whatever its numbers say.

Processes are sampled every SAMPLE_SECONDS, so the CPU of one that starts and ends
between two samples is missed: the figure is a lower bound. (A parent's time for its
reaped children is not used: reaping a test run that took minutes would count all of
them at once.)"""

import os
import threading
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.5
# A run during which other work took more of the machine's CPU than this was disturbed.
DISTURBED = 0.10


@dataclass(frozen=True)
class _Process:
    parent: int
    ticks: int  # utime + stime
    command: str


def _read(pid: int) -> _Process | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        command = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:  # gone meanwhile
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    parent, utime, stime = (int(fields[i]) for i in (1, 11, 12))
    return _Process(parent, utime + stime, command)


def _snapshot() -> dict[int, _Process]:
    processes = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (process := _read(int(entry.name))) is not None:
            processes[int(entry.name)] = process
    return processes


def _descendants(processes: dict[int, _Process], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def _foreign_ticks(own_marker: str) -> dict[int, int]:
    """CPU ticks so far of every process that is not the bench's, by pid."""
    processes = _snapshot()
    ours = _descendants(processes, os.getpid())
    return {
        pid: process.ticks
        for pid, process in processes.items()
        if pid not in ours and own_marker not in process.command
    }


class ForeignCpu:
    """``with ForeignCpu(marker) as cpu: ...``, then ``cpu.share(seconds)``: the CPU
    other processes used meanwhile, as a share of the whole machine."""

    def __init__(self, own_marker: str) -> None:
        self.own_marker = own_marker
        self.ticks = 0
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> "ForeignCpu":
        self._last = _foreign_ticks(self.own_marker)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()
        self._sample()

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        now = _foreign_ticks(self.own_marker)
        # A process new since the last sample counts from its start.
        self.ticks += sum(max(0, t - self._last.get(pid, 0)) for pid, t in now.items())
        self._last = now

    @property
    def seconds(self) -> float:
        return self.ticks / _TICKS

    def share(self, wall_seconds: float) -> float:
        return self.seconds / (wall_seconds * (os.cpu_count() or 1))
