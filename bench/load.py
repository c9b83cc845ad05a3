"""The machine's load while a benchmark (or one phase of it, such as a baseline) ran, and whether the
figures can be judged at all.

Every result says what else the machine was doing: the load average before and after, and the CPU
the machine spent on work that is not the benchmark's. That is all busy CPU time (/proc/stat, which
counts processes that ended meanwhile too) minus the benchmark's own: this process and every process
it started (with the children they reaped), the PostgreSQL backends serving the benchmark's
database, and the Redis server it uses (shared with whoever else uses it: counted as the benchmark's).
When other work took more than STARVED_SHARE of the machine's CPU, the phase was starved: its
figures say how this machine did while busy with something else, not how the code performs, and
the result reports no "met" for it.
"""

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from .cpu import TICKS, _processes

STARVED_SHARE = 0.25  # of all cores over the phase
NOT_JUDGED = "not judged: the machine was starved (see machine_load)"


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process, since boot)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return (total - idle) / TICKS


def _own_cpu(root_pid: int, database: str | None, admin_url: str | None, redis_port: int | None) -> dict[int, float]:
    """pid → CPU seconds (own + reaped children) of the processes whose time is the benchmark's."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    mine, stack = set(), [root_pid]
    while stack:
        pid = stack.pop()
        if pid in mine:
            continue
        mine.add(pid)
        stack.extend(children.get(pid, ()))
    mine |= {pid for pid, (name, _, _) in processes.items() if name == "redis-server" and _serves(pid, redis_port)}
    mine |= _backends(database, admin_url)
    return {pid: _with_reaped(pid) for pid in mine if pid in processes}


def _serves(pid: int, port: int | None) -> bool:
    """Whether a redis-server's title ("redis-server 127.0.0.1:6379") names the port."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return port is not None and title.rstrip().endswith(f":{port}")


def _with_reaped(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(value) for value in fields[11:15]) / TICKS  # utime stime cutime cstime


def _backends(database: str | None, admin_url: str | None) -> set[int]:
    if not (database and admin_url):
        return set()
    try:
        with psycopg.connect(admin_url, connect_timeout=2) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    except psycopg.Error:
        return set()
    return {pid for (pid,) in rows}


class LoadWatch:
    """start() … stop() around a phase; stop() returns its machine_load record."""

    def __init__(self, database_url: str | None = None, redis_url: str | None = None):
        self.database = database_url.rsplit("/", 1)[1] if database_url else None
        self.admin_url = database_url.rsplit("/", 1)[0] + "/postgres" if database_url else None
        self.redis_port = urlsplit(redis_url).port or 6379 if redis_url else None

    def _own(self) -> dict[int, float]:
        return _own_cpu(os.getpid(), self.database, self.admin_url, self.redis_port)

    def start(self) -> "LoadWatch":
        self.load_before = os.getloadavg()
        self.started = time.monotonic()
        self.busy_before = _busy_seconds()
        self.own_before = self._own()
        return self

    def stop(self) -> dict:
        wall = time.monotonic() - self.started
        busy = _busy_seconds() - self.busy_before
        own_after = self._own()
        own = sum(seconds - self.own_before.get(pid, 0.0) for pid, seconds in own_after.items())
        # A process of ours that ended unreaped by us is missed (counted as other): rare, and it errs
        # on the side of calling a run starved.
        other = max(0.0, busy - own)
        capacity = wall * (os.cpu_count() or 1)
        share = other / capacity if capacity else 0.0
        return {
            "seconds": round(wall, 1),
            "load_average_before": [round(value, 2) for value in self.load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
            "cpu_seconds_machine_busy": round(busy, 1),
            "cpu_seconds_benchmark": round(own, 1),
            "cpu_seconds_other_processes": round(other, 1),
            "other_share_of_machine": round(share, 3),
            "starved": share > STARVED_SHARE,
            "starved_when_other_share_above": STARVED_SHARE,
        }


def _loads(value) -> list[dict]:
    """Every machine_load record in a result, however deeply nested (a baseline's, a phase's)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "machine_load" and isinstance(item, dict):
                found.append(item)
            else:
                found.extend(_loads(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_loads(item))
    return found


def judge(result: dict, run_load: dict) -> dict:
    """Adds the run's machine_load; when the run or any phase in it (a baseline) was starved, every
    "met" becomes NOT_JUDGED (the measured figures stay) and `starved` says why."""
    phases = _loads(result)
    result["machine_load"] = run_load
    starved = [load for load in [run_load, *phases] if load.get("starved")]
    if starved:
        result["met"] = {name: NOT_JUDGED for name in result.get("met", {})}
        result["starved"] = (
            f"{len(starved)} of {len(phases) + 1} measured phases had other processes taking more than"
            f" {STARVED_SHARE:.0%} of the machine's CPU (up to"
            f" {max(load['other_share_of_machine'] for load in starved):.0%})"
        )
    return result
