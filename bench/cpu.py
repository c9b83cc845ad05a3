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


def _reaped_seconds(pid: int) -> float:
    """CPU seconds of a process's children that ended and were reaped (cutime + cstime)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / TICKS


class ScopedCpuMeter(CpuMeter):
    """Like CpuMeter, but PostgreSQL is only the backends of the benchmark's database and Redis only
    the server on the benchmark's port (other users of the machine share both). Backends that
    ended meanwhile (connection churn) are no longer in /proc: their CPU is what the postmaster
    reaped, `postgres_ended_backends` (of any database, so an upper bound on a shared server)."""

    def __init__(self, server_pid: int, database_url: str, redis_url: str):
        super().__init__(server_pid)
        from .load import LoadWatch

        self._watch = LoadWatch(database_url, redis_url)
        self._backends_before: set[int] = set()
        self._postmaster: int | None = None
        self._reaped_before = 0.0

    def _our_backends(self) -> set[int]:
        from .load import _backends

        return _backends(self._watch.database, self._watch.admin_url)

    def start(self) -> None:
        self._backends_before = self._our_backends()
        super().start()
        parents = {self._before[pid][1] for pid in self._backends_before if pid in self._before}
        self._postmaster = next(iter(parents), None)
        self._reaped_before = _reaped_seconds(self._postmaster) if self._postmaster else 0.0

    def stop(self) -> dict[str, float]:
        from .load import _serves

        after = _processes()
        children = self._children_seconds() - self._children_before
        backends = self._backends_before | self._our_backends()
        totals = {"server": 0.0, "postgres": 0.0, "postgres_ended_backends": 0.0, "redis-server": 0.0, "other": 0.0}
        for pid, (name, parent, seconds) in after.items():
            spent = seconds - self._before.get(pid, (name, parent, 0.0))[2]
            if pid == self.server_pid or parent == self.server_pid:
                totals["server"] += spent
            elif pid in backends:
                totals["postgres"] += spent
            elif name == "redis-server" and _serves(pid, self._watch.redis_port):
                totals["redis-server"] += spent
            else:
                totals["other"] += spent
        if self._postmaster:
            totals["postgres_ended_backends"] = _reaped_seconds(self._postmaster) - self._reaped_before
        totals["wrk"] = children
        return {name: round(seconds, 3) for name, seconds in totals.items()}
