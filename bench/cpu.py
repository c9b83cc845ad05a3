"""CPU time by process group from /proc: where a benchmark's work actually ran."""

import os
import resource
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid → (command name, parent pid, CPU seconds so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


class CpuMeter:
    """CPU seconds spent between start() and stop(): by the server under test (a process and its
    children), PostgreSQL, Redis, wrk (our waited-for children) and everything else on the machine
    ("other": other workloads sharing the cores; processes that ended meanwhile are missed)."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self._before: dict[int, tuple[str, int, float]] = {}
        self._children_before = 0.0

    @staticmethod
    def _children_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self._before = _processes()
        self._children_before = self._children_seconds()

    def stop(self) -> dict[str, float]:
        after = _processes()
        totals = {"server": 0.0, "postgres": 0.0, "redis-server": 0.0, "other": 0.0}
        for pid, (name, parent, seconds) in after.items():
            spent = seconds - self._before.get(pid, (name, parent, 0.0))[2]
            if pid == self.server_pid or parent == self.server_pid:
                totals["server"] += spent
            elif name in totals:
                totals[name] += spent
            else:
                totals["other"] += spent
        totals["wrk"] = self._children_seconds() - self._children_before
        return {name: round(seconds, 2) for name, seconds in totals.items()}
